"""Outputs are pseudonymised by default; logs never hold corpus text or personal data."""

from __future__ import annotations

import csv
import logging
import re
import zipfile

from typer.testing import CliRunner

from conftest import CORPUS
from qualpipe.cli import app
from qualpipe.exchange.qdpx import export_qdpx, import_qdpx

SAMPLE_NAMES = ["Emma", "Sara", "Laura", "Anton", "Noah", "Oliver", "Hanne", "Rikke", "Dorthe"]


def test_exports_are_pseudonymised_unless_identities_are_asked_for(coded_corpus, tmp_path):
    runner = CliRunner()
    base = ["--project", str(coded_corpus.root), "export"]
    assert runner.invoke(app, [*base, "--format", "csv", "-o", str(tmp_path / "p.csv")]).exit_code == 0
    assert runner.invoke(app, [*base, "--format", "csv", "-o", str(tmp_path / "i.csv"), "--show-identities"]).exit_code == 0
    pseudo = (tmp_path / "p.csv").read_text(encoding="utf-8")
    plain = (tmp_path / "i.csv").read_text(encoding="utf-8")
    assert "[NAVN-" in pseudo and not any(re.search(rf"\b{n}\b", pseudo) for n in SAMPLE_NAMES)
    assert "Emma" in plain
    assert len(list(csv.reader(pseudo.splitlines()))) == len(list(csv.reader(plain.splitlines())))


def test_a_pseudonymised_qdpx_keeps_selections_on_the_same_words_and_reimports(coded_corpus, tmp_path):
    path = tmp_path / "p.qdpx"
    export_qdpx(coded_corpus, path, pseudonyms=coded_corpus.pseudonyms())
    with zipfile.ZipFile(path) as archive:
        texts = [archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("sources/")]
        xml = archive.read("project.qde").decode("utf-8")
    assert not any(re.search(rf"\b{n}\b", t) for t in texts for n in SAMPLE_NAMES)
    assert "030615-1237" not in "".join(texts)
    positions = [(int(a), int(b)) for a, b in re.findall(r'startPosition="(\d+)" endPosition="(\d+)"', xml)]
    assert positions and all(0 <= a < b for a, b in positions)
    report = import_qdpx(coded_corpus, path)
    assert report.matched_sources == report.sources and not report.unmatched_sources


def test_demo_with_debug_logging_leaks_no_names_or_cpr(tmp_path, caplog):
    runner = CliRunner()
    with caplog.at_level(logging.DEBUG):
        result = runner.invoke(app, ["--log-level", "DEBUG", "demo", "--corpus", str(CORPUS), "--dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "030615-1237" not in logged and "0306151237" not in logged
    assert not [n for n in SAMPLE_NAMES if re.search(rf"\b{n}\b", logged)]
    assert "030615-1237" not in result.output
    digest = (tmp_path / "d" / "digest-2024-W06.html").read_text(encoding="utf-8")
    assert "Sara" not in digest and "[NAVN-1]" in digest
