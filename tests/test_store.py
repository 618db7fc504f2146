"""The store: versions kept, atomic per file, idempotent, and the data stays on the owner's disk."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from conftest import BROKEN, CORPUS

M03 = CORPUS / "interviews" / "M03_2024-03-14_interview_frivillig.txt"


def test_a_changed_file_becomes_a_new_version_and_the_old_one_is_kept(project, tmp_path):
    path = tmp_path / "M03.txt"
    shutil.copyfile(M03, path)
    project.ingest([path], "interview", case_id="M03")
    old_segments = {s.id for s in project.segments()}
    path.write_text(M03.read_text(encoding="utf-8") + "\nInterviewer:\nTak for snakken.\n", encoding="utf-8")
    report = project.ingest([path], "interview", case_id="M03")
    assert (report.added, report.new_versions) == (0, 1)
    versions = project.store.query("SELECT version, superseded_at FROM documents ORDER BY version")
    assert (
        [v["version"] for v in versions] == [1, 2] and versions[0]["superseded_at"] and not versions[1]["superseded_at"]
    )
    current = project.segments()
    assert current[-1].text == "Tak for snakken." and not old_segments & {s.id for s in current}
    everything = {s.id for s in project.segments(include_superseded=True)}
    assert old_segments <= everything
    assert project.status().superseded_versions == 1


def test_a_changed_logbook_entry_becomes_a_new_version_of_that_entry_only(project, tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text(
        '{"entry_id": "e1", "case_id": "K1", "date": "2024-01-02", "text": "Fint besøg."}\n'
        '{"entry_id": "e2", "case_id": "K1", "date": "2024-01-09", "text": "Vi bagte."}\n',
        encoding="utf-8",
    )
    project.ingest([path], "logbook")
    path.write_text(path.read_text(encoding="utf-8").replace("Vi bagte.", "Vi bagte boller."), encoding="utf-8")
    report = project.ingest([path], "logbook")
    assert (report.added, report.new_versions, report.unchanged) == (0, 1, 1)
    assert [s.text for s in project.segments()] == ["Fint besøg.", "Vi bagte boller."]


def test_a_moved_copy_of_a_transcript_is_not_a_second_interview(project, tmp_path):
    copy = tmp_path / "elsewhere" / "M03.txt"
    copy.parent.mkdir()
    shutil.copyfile(M03, copy)
    project.ingest([M03], "interview")
    report = project.ingest([copy], "interview")
    assert (report.added, report.unchanged) == (0, 1)


def test_a_failure_while_storing_a_file_leaves_nothing_of_it(project):
    conn = project.store.conn
    # A real SQLite failure in the middle of writing the file's segments.
    conn.execute(
        "CREATE TEMP TRIGGER fail_midway BEFORE INSERT ON segments WHEN NEW.idx = 5 "
        "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
    )
    with pytest.raises(sqlite3.DatabaseError):
        project.ingest([M03], "interview", case_id="M03")
    counts = [
        conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
        for t in ("documents", "turns", "segments", "files", "cases")
    ]
    assert counts == [0, 0, 0, 0, 0]
    conn.execute("DROP TRIGGER fail_midway")
    report = project.ingest([M03], "interview", case_id="M03")
    assert report.added == 1 and report.ok


def test_every_broken_input_is_named_once_and_good_files_are_still_stored(project, tmp_path):
    unreadable = tmp_path / "folder.txt"
    unreadable.mkdir()
    (tmp_path / "folder.txt" / ".keep").write_text("")
    good = tmp_path / "good"
    good.mkdir()
    shutil.copyfile(M03, good / "M03.txt")
    for name in ("empty.txt", "binary.txt", "not_webvtt.vtt", "report.pdf", "corrupt.docx"):
        shutil.copyfile(BROKEN / name, good / name)
    report = project.ingest([good], "interview", case_id="M03")
    assert report.added == 1
    assert sorted(e.split(":")[0].rsplit("/", 1)[-1] for e in report.errors) == sorted(
        ["empty.txt", "binary.txt", "not_webvtt.vtt", "report.pdf", "corrupt.docx"]
    )
    assert all(" ; " not in e and "\n" not in e for e in report.errors)

    report = project.ingest(
        [BROKEN / "missing_text_column.csv", BROKEN / "bad_rows.csv", BROKEN / "bad_line.jsonl"], "logbook"
    )
    assert report.added == 4 and len(report.errors) == 4
    assert any("missing_text_column.csv: has no 'text' column" in e for e in report.errors)

    # Re-running reports the same problems again and stores nothing twice.
    again = project.ingest(
        [BROKEN / "missing_text_column.csv", BROKEN / "bad_rows.csv", BROKEN / "bad_line.jsonl"], "logbook"
    )
    assert again.added == 0 and again.unchanged == 4 and again.errors == report.errors


def test_wrong_kind_for_a_file_type_says_which_kind_to_use(project):
    report = project.ingest([CORPUS / "logbooks" / "logbog_2024_m15-m20.jsonl"], "interview")
    assert report.errors and "use --kind logbook" in report.errors[0]


def test_store_is_a_plain_sqlite_file_with_offsets_into_the_stored_text(corpus_project):
    corpus_project.ingest([CORPUS / "interviews"], "interview")
    path = corpus_project.config.store_path
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT d.text, s.start, s.end, s.text FROM segments s JOIN documents d ON d.id = s.document_id"
        ).fetchall()
    assert len(rows) > 100
    assert all(doc[start:end] == seg for doc, start, end, seg in rows)


def test_a_reader_holding_a_transaction_does_not_stop_an_ingest(tmp_path):
    import sqlite3

    from conftest import CORPUS
    from qualpipe.project import Project

    with Project.init(tmp_path / "p") as project:
        reader = sqlite3.connect(project.store.path)
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM documents").fetchone()  # a read transaction stays open
        report = project.ingest([CORPUS / "logbooks"], "logbook")
        reader.rollback()
        reader.close()
        assert report.ok and report.added == 180
        assert project.store.query("SELECT COUNT(*) FROM documents")[0][0] == 180


def test_a_store_made_by_the_previous_schema_is_upgraded_in_place_and_keeps_its_data(tmp_path):
    """A version-8 store (before code decisions and the pseudonymised view) opens, upgrades and keeps what it held."""
    import sqlite3

    from qualpipe.project import Project
    from qualpipe.store import SCHEMA_VERSION

    root = tmp_path / "old"
    with Project.init(root) as project:
        entries = tmp_path / "week.jsonl"
        entries.write_text(
            '{"entry_id": "a", "case_id": "K1", "date": "2024-02-01", "text": "Vi bagte boller."}\n', encoding="utf-8"
        )
        project.ingest([entries], "logbook")
        store_path = project.config.store_path
    with sqlite3.connect(store_path) as conn:  # what schema 8 had: no decisions, no pseudonymised text
        conn.executescript(
            "DROP VIEW documents_pseudonymised; DROP TABLE pseudonymised_documents; "
            "DROP TABLE code_decisions; DROP TABLE identity_views; DROP TABLE login_failures; "
            "DROP TABLE sessions; DROP TABLE users; ALTER TABLE alerts DROP COLUMN score; PRAGMA user_version = 8;"
        )
    with Project(root) as project:
        assert project.store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in project.store.query("SELECT name FROM sqlite_master")}
        assert {"code_decisions", "pseudonymised_documents", "documents_pseudonymised", "users", "sessions"} <= tables
        assert [r["text"] for r in project.store.query("SELECT text FROM documents")] == ["Vi bagte boller."]
