"""Every output that can hold personal data is its owner's only, and no cell of a table output is a formula."""

from __future__ import annotations

import csv
import json
import stat
import zipfile

from typer.testing import CliRunner

from conftest import new_corpus_project
from qualpipe.cli import app

HOSTILE = '=HYPERLINK("http://x.example","klik")'


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_output_file_is_0600_in_folders_it_makes_0700(tmp_path):
    project = new_corpus_project(tmp_path / "p")
    rows = [{"entry_id": "K1-1", "case_id": "K1", "date": "2024-03-04", "text": "Vi bagte boller. Sara grinede meget."}]
    (tmp_path / "week.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    project.ingest([tmp_path / "week.jsonl"], "logbook")
    project.close()
    runner = CliRunner()
    base = ["--project", str(project.root)]
    out = tmp_path / "udtræk"  # a folder the commands make
    for fmt in ("csv", "xlsx", "qdpx"):
        result = runner.invoke(
            app, [*base, "export", "--format", fmt, "-o", str(out / f"export.{fmt}"), "--show-identities"]
        )
        assert result.exit_code == 0, result.output
    (tmp_path / "batch.jsonl").write_text(
        json.dumps({"id": "a", "text": rows[0]["text"]}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    assert (
        runner.invoke(
            app, ["flag", "--input", str(tmp_path / "batch.jsonl"), "--output", str(out / "flag" / "flagged.jsonl")]
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            app, [*base, "alerts", "--week", "2024-W10", "-f", "html", "-o", str(out / "digest.html")]
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            app,
            [
                "pseudonymise",
                str(tmp_path / "week.jsonl"),
                "-o",
                str(out / "delbar"),
                "--key",
                str(tmp_path / "hemmelig" / "key.json"),
            ],
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            app, ["code", "--input", str(tmp_path / "batch.jsonl"), "--output", str(out / "code" / "coded.jsonl")]
        ).exit_code
        == 0
    )
    for fmt in ("markdown", "json", "eml"):
        assert (
            runner.invoke(
                app, [*base, "alerts", "--week", "2024-W10", "-f", fmt, "-o", str(out / f"digest.{fmt}")]
            ).exit_code
            == 0
        )
    assert runner.invoke(app, [*base, "report", "--no-topics", "-o", str(out / "report.html")]).exit_code == 0
    assert runner.invoke(app, [*base, "case", "K1", "--no-topics", "-o", str(out / "case-K1.html")]).exit_code == 0
    files = [
        out / "export.csv",
        out / "export.xlsx",
        out / "export.qdpx",
        out / "flag" / "flagged.jsonl",
        out / "digest.html",
        out / "delbar" / "week.jsonl",
        tmp_path / "hemmelig" / "key.json",
        out / "code" / "coded.jsonl",
        out / "digest.markdown",
        out / "digest.json",
        out / "digest.eml",
        out / "report.html",
        out / "case-K1.html",
    ]
    # and nothing else was left beside them (no partial file of an output)
    assert sorted(p for p in out.rglob("*") if p.is_file()) == sorted(f for f in files if out in f.parents)
    assert {str(f.relative_to(tmp_path)): oct(_mode(f)) for f in files} == {
        str(f.relative_to(tmp_path)): "0o600" for f in files
    }
    for folder in (out, out / "flag", out / "delbar", out / "code", tmp_path / "hemmelig"):
        assert _mode(folder) == 0o700, folder


def test_text_that_looks_like_a_formula_stays_text_in_csv_and_xlsx(tmp_path):
    from openpyxl import load_workbook

    project = new_corpus_project(tmp_path / "p")
    rows = [
        {"entry_id": "K1-1", "case_id": "K1", "date": "2024-03-04", "text": HOSTILE},
        {
            "entry_id": "K1-2",
            "case_id": "K1",
            "date": "2024-03-11",
            "text": "@SUM(1+1) og -2+3 blev skrevet på tavlen.",
        },
    ]
    (tmp_path / "week.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    project.ingest([tmp_path / "week.jsonl"], "logbook")
    project.code()
    with project.store.transaction() as conn:  # a human code on each, so every segment has a row
        for segment in conn.execute("SELECT id, start, end FROM segments").fetchall():
            conn.execute(
                "INSERT OR IGNORE INTO codings "
                "(segment_id, code, score, source, coder, method, start, end, created_at) "
                "VALUES (?, 'relation', NULL, 'human', 'Lene', 'manual', ?, ?, '2024-03-12')",
                (segment["id"], segment["start"], segment["end"]),
            )
    project.close()
    runner = CliRunner()
    base = ["--project", str(project.root), "export", "--show-identities"]
    assert runner.invoke(app, [*base, "--format", "csv", "-o", str(tmp_path / "x.csv")]).exit_code == 0
    assert runner.invoke(app, [*base, "--format", "xlsx", "-o", str(tmp_path / "x.xlsx")]).exit_code == 0
    with (tmp_path / "x.csv").open(encoding="utf-8") as handle:
        texts = [r["text"] for r in csv.DictReader(handle)]
    assert texts and all(not t.startswith(("=", "+", "-", "@")) for t in texts)
    assert "'" + HOSTILE in texts
    with zipfile.ZipFile(tmp_path / "x.xlsx") as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet
    values = [c.value for row in load_workbook(tmp_path / "x.xlsx").active.iter_rows() for c in row]
    assert HOSTILE in values  # the text itself, kept as text


def test_pseudonymised_exports_do_not_show_file_names_that_name_people(tmp_path):
    project = new_corpus_project(tmp_path / "p")
    named = tmp_path / "M01_2024-03-12_samtale med Søren Madsen.txt"
    named.write_text("I: Hvordan går det?\nR: Det går godt med Emma.\n", encoding="utf-8")
    project.ingest([named], "interview")
    project.code()
    project.close()
    runner = CliRunner()
    base = ["--project", str(project.root), "export"]
    assert runner.invoke(app, [*base, "--format", "csv", "-o", str(tmp_path / "x.csv")]).exit_code == 0
    assert runner.invoke(app, [*base, "--format", "qdpx", "-o", str(tmp_path / "x.qdpx")]).exit_code == 0
    csv_text = (tmp_path / "x.csv").read_text(encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "x.qdpx") as archive:
        project_xml = archive.read("project.qde").decode("utf-8")
    for shown in (csv_text, project_xml):
        assert "Søren" not in shown and "Madsen" not in shown
