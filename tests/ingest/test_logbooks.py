"""Logbooks in CSV, XLSX and JSONL: rows become entries of cases, bad rows are named and skipped."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from conftest import BROKEN, CORPUS
from qualpipe.config import LOGBOOK_FIELDS
from qualpipe.errors import InputError
from qualpipe.ingest.logbooks import parse_date, read_logbook

COLUMNS = {f: f for f in LOGBOOK_FIELDS}


def test_all_three_shipped_formats_give_the_same_fields():
    for name in ("logbog_2024_m01-m08.csv", "logbog_2024_m09-m14.xlsx", "logbog_2024_m15-m20.jsonl"):
        rows, errors = read_logbook(CORPUS / "logbooks" / name, COLUMNS)
        assert not errors and len(rows) >= 48
        first = rows[0]
        assert first.entry_id.startswith(first.case_id) and first.text and first.author
        assert dt.date.fromisoformat(first.date)


def test_xlsx_with_mapped_column_names_and_real_dates(tmp_path):
    path = tmp_path / "export.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["ID", "Sag", "Besøgsdato", "Frivillig", "Notat"])
    book.active.append([17, "K2", dt.datetime(2024, 4, 3, 15, 30), "Lone", "Vi gik en tur."])
    book.save(path)
    columns = {
        **COLUMNS,
        "entry_id": "ID",
        "case_id": "Sag",
        "date": "Besøgsdato",
        "author": "Frivillig",
        "text": "Notat",
    }
    rows, errors = read_logbook(path, columns)
    assert not errors
    assert (rows[0].entry_id, rows[0].case_id, rows[0].date, rows[0].author, rows[0].row) == (
        "17",
        "K2",
        "2024-04-03",
        "Lone",
        2,
    )


def test_bad_rows_are_reported_with_row_numbers_and_good_rows_kept():
    rows, errors = read_logbook(BROKEN / "bad_rows.csv", COLUMNS)
    assert [r.entry_id for r in rows] == ["A1", "A4"]
    messages = [str(e) for e in errors]
    assert messages[0].endswith("bad_rows.csv: row 3: 'date' is not a date; write it as YYYY-MM-DD or DD-MM-YYYY")
    assert "bad_rows.csv: row 4: empty 'text'" in messages[1]


def test_a_bad_jsonl_line_is_reported_by_line_number():
    rows, errors = read_logbook(BROKEN / "bad_line.jsonl", COLUMNS)
    assert [r.entry_id for r in rows] == ["J1", "J3"]
    assert len(errors) == 1 and "bad_line.jsonl:2: is not valid JSON" in str(errors[0])


def test_missing_text_column_names_the_fix_without_quoting_any_cell():
    with pytest.raises(InputError) as raised:
        read_logbook(BROKEN / "missing_text_column.csv", COLUMNS)
    message = str(raised.value)
    # Cells are never quoted: in a file without a header row they would be an entry's text or a name.
    assert "missing_text_column.csv: has no 'text' column among its 4 column(s)" in message
    assert "tekst" not in message and "--column text=NAME" in message


@pytest.mark.parametrize(
    "value", ["2024-03-05", "05-03-2024", "5/3/2024", "05.03.2024", "2024-03-05T14:00:00", dt.date(2024, 3, 5)]
)
def test_danish_date_forms(value):
    assert parse_date(value) == "2024-03-05"


def test_ingest_case_gives_every_row_of_a_file_without_a_case_column_its_case(tmp_path):
    from qualpipe.project import Project

    path = tmp_path / "Mads.csv"
    path.write_text("dato;tekst\n04-03-2024;Vi bagte boller.\n11-03-2024;Vi var i svømmehallen.\n", encoding="utf-8")
    with Project.init(tmp_path / "p") as project:
        report = project.ingest([path], "logbook", case_id="M42", columns={"date": "dato", "text": "tekst"})
        assert report.ok and report.added == 2
        assert {r[0] for r in project.store.query("SELECT case_id FROM documents")} == {"M42"}


def test_hostile_and_broken_files_get_one_line_each_and_the_batch_goes_on(tmp_path):
    import zipfile

    from conftest import CORPUS
    from qualpipe.project import Project

    folder = tmp_path / "ind"
    folder.mkdir()
    bomb = folder / "bombe.docx"  # 150 kB on disk, 150 MB unpacked
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<a>" + b"0" * 150_000_000 + b"</a>")
    good = (CORPUS / "interviews" / "M14_2024-03-21_interview_far.docx").read_bytes()
    broken = bytearray(good)
    broken[len(broken) // 2 : len(broken) // 2 + 400] = bytes(400)  # a damaged deflate stream
    (folder / "M14_2024-03-21_beskadiget.docx").write_bytes(bytes(broken))
    (folder / "lang.txt").write_text("R: " + "bla " * 260_000 + "\n", encoding="utf-8")  # one 1 MB line
    (folder / "M01_2024-03-12_ok.txt").write_text("I: Hvordan går det?\nR: Det går godt.\n", encoding="utf-8")
    with Project.init(tmp_path / "p") as project:
        report = project.ingest([folder], "interview")
    assert report.added == 1  # the good file
    by_file = {e.split(":")[0].rsplit("/", 1)[-1]: e for e in report.errors}
    assert set(by_file) == {"bombe.docx", "M14_2024-03-21_beskadiget.docx", "lang.txt"}, report.errors
    assert "would unpack to 150 MB" in by_file["bombe.docx"]
    assert (
        "could not be read" in by_file["M14_2024-03-21_beskadiget.docx"]
        or "re-save" in by_file["M14_2024-03-21_beskadiget.docx"]
    )
    assert "max_document_chars" in by_file["lang.txt"]
    assert all("\n" not in e and "bla bla" not in e for e in report.errors)
