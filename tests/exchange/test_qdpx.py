"""REFI-QDA export validated against the project schema, positions checked, and import round-trips."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import xmlschema
from openpyxl import load_workbook

from conftest import CORPUS, new_corpus_project

SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "data" / "refi-qda" / "Project-mrt2019.xsd"
NS = {"q": "urn:QDA-XML:project:1.0"}


def test_exported_project_is_valid_and_every_selection_points_at_its_text(coded_corpus, tmp_path):
    path = tmp_path / "out.qdpx"
    _, report = coded_corpus.export("qdpx", path, show_identities=True)
    # 7 interviews and one logbook source per case (180 entries of 20 cases): one document per child
    assert report.sources == 27 and report.cases == 20 and report.codings > 50
    assert (
        coded_corpus.export("qdpx", tmp_path / "entries.qdpx", show_identities=True, logbook_entries=True)[1].sources
        == 187
    )
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        xml = archive.read("project.qde")
        texts = {n: archive.read(n).decode("utf-8") for n in names if n != "project.qde"}
    schema_file = SCHEMA if SCHEMA.is_file() else None
    if schema_file:
        xmlschema.XMLSchema(str(schema_file)).validate(xml.decode("utf-8"))
    assert all(n.startswith("sources/") and n.endswith(".txt") for n in texts)
    assert all("\r" not in t for t in texts.values())
    root = ET.fromstring(xml)
    assert [child.tag.split("}")[1] for child in root] == ["Users", "CodeBook", "Variables", "Cases", "Sources"]
    # a human first (QualCoder makes the first user its current coder), the machine named as the machine
    assert [u.get("name") for u in root.iterfind("q:Users/q:User", NS)] == ["evaluator", "qualpipe (maskine)"]
    segments = {s.text for s in coded_corpus.segments()}
    speaker_codes = {
        c.get("guid"): c.get("name")
        for c in root.iterfind("q:CodeBook/q:Codes/q:Code", NS)
        if c.find("q:Description", NS).text.startswith("[taler:")
    }
    assert {"Taler: interviewer", "Taler: forælder", "Taler: barn"} <= set(speaker_codes.values())
    checked = spoken = 0
    for source in root.iterfind("q:Sources/q:TextSource", NS):
        text = texts[source.get("plainTextPath").replace("internal://", "sources/")]
        for selection in source.iterfind("q:PlainTextSelection", NS):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            if selection.find("q:Coding/q:CodeRef", NS).get("targetGUID") in speaker_codes:
                spoken += 1  # a whole turn, coded with its speaker's role
                assert text[start:end].strip() and not text[start:end].startswith(("I:", "R:"))
                continue
            assert text[start:end] in segments
            checked += 1
    assert (
        checked == report.selections
        and spoken
        == coded_corpus.store.query(
            "SELECT COUNT(*) FROM turns t JOIN documents d ON d.id = t.document_id WHERE d.kind = 'interview'"
        )[0][0]
    )
    case = root.find("q:Cases/q:Case", NS)
    assert case.find("q:SourceRef", NS) is not None


def test_export_is_identical_when_run_twice(coded_corpus, tmp_path):
    coded_corpus.export("qdpx", tmp_path / "a.qdpx", show_identities=True)
    coded_corpus.export("qdpx", tmp_path / "b.qdpx", show_identities=True)
    assert (tmp_path / "a.qdpx").read_bytes() == (tmp_path / "b.qdpx").read_bytes()


def test_human_codes_round_trip_through_a_qdpx_into_a_fresh_project(tmp_path):
    def fresh(name):
        project = new_corpus_project(tmp_path / name)
        project.ingest([CORPUS / "interviews"], "interview")
        return project

    first = fresh("first")
    segment = next(s for s in first.segments() if "aldrig aflyst" in s.text)
    codes = tmp_path / "codes.csv"
    codes.write_text(
        f"segment_id,code,coder\n{segment.id},stabilitet,Evaluator A\n{segment.id},relation,Evaluator A\n",
        encoding="utf-8",
    )
    assert first.import_human_codes(codes).codings == 2
    first.export("qdpx", tmp_path / "round.qdpx", show_identities=True)

    second = fresh("second")
    report = second.import_qdpx(tmp_path / "round.qdpx")
    assert report.matched_sources == report.sources == 7 and report.human_codings == 2
    rows = second.store.query(
        "SELECT s.text, c.code, c.coder FROM codings c JOIN segments s ON s.id = c.segment_id ORDER BY c.code"
    )
    assert [tuple(r) for r in rows] == [
        (segment.text, "relation", "Evaluator A"),
        (segment.text, "stabilitet", "Evaluator A"),
    ]
    assert second.import_qdpx(tmp_path / "round.qdpx").human_codings == 0
    first.close()
    second.close()


def test_csv_and_xlsx_exports_have_one_row_per_coding(coded_corpus, tmp_path):
    _, count = coded_corpus.export("csv", tmp_path / "codes.csv", show_identities=True)
    header = (tmp_path / "codes.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("case_id,document,kind,role,date,code,score") and count > 50
    assert coded_corpus.export("xlsx", tmp_path / "codes.xlsx", show_identities=True)[1] == count
    sheet = load_workbook(tmp_path / "codes.xlsx").active
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:M")
    assert sheet.column_dimensions["M"].width == 90 and sheet.max_row == count + 1


def test_import_reads_only_the_sources_the_project_refers_to_and_refuses_an_oversized_one(tmp_path):
    import tracemalloc

    import pytest

    from qualpipe.errors import UserError

    project = new_corpus_project(tmp_path / "p")
    project.ingest([CORPUS / "interviews"], "interview")
    project.export("qdpx", tmp_path / "ours.qdpx", show_identities=True)
    # a hostile copy: one extra entry of 60 MB that nothing refers to (a few hundred kB compressed)
    with (
        zipfile.ZipFile(tmp_path / "ours.qdpx") as src,
        zipfile.ZipFile(tmp_path / "padded.qdpx", "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("sources/unreferenced.txt", "a" * (60 * 1024 * 1024))
    tracemalloc.start()
    report = project.import_qdpx(tmp_path / "padded.qdpx")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert report.matched_sources == report.sources == 7
    assert peak < 30 * 1024 * 1024  # the 60 MB entry was never read

    # a source the project refers to that is larger than the ingest limit: one clear line, nothing read
    with zipfile.ZipFile(tmp_path / "ours.qdpx") as src:
        qde = ET.fromstring(src.read("project.qde"))
    target = next(qde.iter(f"{{{NS['q']}}}TextSource")).get("plainTextPath").removeprefix("internal://")
    with (
        zipfile.ZipFile(tmp_path / "ours.qdpx") as src,
        zipfile.ZipFile(tmp_path / "big.qdpx", "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, data + b" " * (101 * 1024 * 1024) if item.filename == f"sources/{target}" else data)
    with pytest.raises(UserError, match=r"big.qdpx: sources/.* over the limit \[ingest\] max_unzipped_mb"):
        project.import_qdpx(tmp_path / "big.qdpx")
    project.close()
