"""Outputs are pseudonymised by default; logs never hold corpus text or personal data."""

from __future__ import annotations

import csv
import json
import logging
import stat
import re
import zipfile

from typer.testing import CliRunner

from conftest import CORPUS
from qualpipe.cli import app

SAMPLE_NAMES = ["Emma", "Sara", "Laura", "Anton", "Noah", "Oliver", "Hanne", "Rikke", "Dorthe"]


def test_exports_are_pseudonymised_unless_identities_are_asked_for(coded_corpus, tmp_path):
    runner = CliRunner()
    base = ["--project", str(coded_corpus.root), "export"]
    assert runner.invoke(app, [*base, "--format", "csv", "-o", str(tmp_path / "p.csv")]).exit_code == 0
    assert (
        runner.invoke(app, [*base, "--format", "csv", "-o", str(tmp_path / "i.csv"), "--show-identities"]).exit_code
        == 0
    )
    pseudo = (tmp_path / "p.csv").read_text(encoding="utf-8")
    plain = (tmp_path / "i.csv").read_text(encoding="utf-8")
    assert "[NAVN-" in pseudo and not any(re.search(rf"\b{n}\b", pseudo) for n in SAMPLE_NAMES)
    assert "Emma" in plain
    assert len(list(csv.reader(pseudo.splitlines()))) == len(list(csv.reader(plain.splitlines())))


def test_a_pseudonymised_qdpx_keeps_selections_on_the_same_words_and_reimports(coded_corpus, tmp_path):
    path = tmp_path / "p.qdpx"
    coded_corpus.export("qdpx", path)
    with zipfile.ZipFile(path) as archive:
        texts = [archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("sources/")]
        xml = archive.read("project.qde").decode("utf-8")
    assert not any(re.search(rf"\b{n}\b", t) for t in texts for n in SAMPLE_NAMES)
    assert "030615-1237" not in "".join(texts)
    positions = [(int(a), int(b)) for a, b in re.findall(r'startPosition="(\d+)" endPosition="(\d+)"', xml)]
    assert positions and all(0 <= a < b for a, b in positions)
    report = coded_corpus.import_qdpx(path)
    assert report.matched_sources == report.sources and not report.unmatched_sources


def test_demo_with_debug_logging_leaks_no_names_or_cpr(tmp_path, caplog):
    runner = CliRunner()
    with caplog.at_level(logging.DEBUG):
        result = runner.invoke(
            app, ["--log-level", "DEBUG", "demo", "--corpus", str(CORPUS), "--dir", str(tmp_path / "d")]
        )
    assert result.exit_code == 0, result.output
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "030615-1237" not in logged and "0306151237" not in logged
    assert not [n for n in SAMPLE_NAMES if re.search(rf"\b{n}\b", logged)]
    assert "030615-1237" not in result.output
    digest = (tmp_path / "d" / "digest-2024-W06.html").read_text(encoding="utf-8")
    assert "Sara" not in digest and "[NAVN-1]" in digest
    # everything the demo made (the store, the digest, the report, the export, the topic model) is its owner's only
    made = [tmp_path / "d", *(tmp_path / "d").rglob("*")]
    assert {p.name for p in made} >= {"qualpipe.db", "report.html", "export.qdpx", "topics.json", "centroids.npy"}
    modes = {str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode)) for p in made}
    assert modes == {name: "0o700" if (tmp_path / name).is_dir() else "0o600" for name in modes}


def test_pseudonymising_at_ingest_stores_no_names_and_stays_consistent_between_runs(tmp_path):
    import shutil

    from qualpipe.project import Project

    root = tmp_path / "p"
    root.mkdir()
    config = (CORPUS / "qualpipe.toml").read_text(encoding="utf-8")
    config = config.replace("[privacy]", '[privacy]\npseudonymise_at_ingest = true\nkey = "../secret/key.json"')
    (root / "qualpipe.toml").write_text(config, encoding="utf-8")
    first_half = tmp_path / "first"
    first_half.mkdir()
    shutil.copyfile(CORPUS / "logbooks" / "logbog_2024_m09-m14.xlsx", first_half / "log.xlsx")
    with Project.init(root) as project:
        project.ingest([CORPUS / "interviews"], "interview")
        project.ingest([first_half], "logbook")
        stored = "\n".join(r[0] for r in project.store.query("SELECT text FROM documents"))
        authors = {r[0] for r in project.store.query("SELECT author FROM documents WHERE author IS NOT NULL")}
        roles = {r[0] for r in project.store.query("SELECT DISTINCT role FROM segments")}
        assert not [n for n in SAMPLE_NAMES if re.search(rf"\b{n}\b", stored)] and "030615-1237" not in stored
        assert authors and all(a.startswith("[NAVN-") for a in authors)
        assert {"interviewer", "parent", "child", "volunteer", "professional"} <= roles  # read before replacing
        sara_before = project.store.query("SELECT text FROM documents WHERE doc_key = 'logbook:M11-05'")[0][0].split(
            " fortalte"
        )[0]
    with Project(root) as project:  # a later run, a new file of the same case: same pseudonym
        late = tmp_path / "late.jsonl"
        late.write_text(
            '{"entry_id": "M11-99", "case_id": "M11", "date": "2024-03-25", "text": "Sara var glad i dag."}\n',
            encoding="utf-8",
        )
        project.ingest([late], "logbook")
        assert (
            project.store.query("SELECT text FROM documents WHERE doc_key = 'logbook:M11-99'")[0][0]
            == f"{sara_before} var glad i dag."
        )
        for doc, start, end, seg in project.store.query(
            "SELECT d.text, s.start, s.end, s.text FROM segments s JOIN documents d ON d.id = s.document_id"
        ):
            assert doc[start:end] == seg
    key = tmp_path / "secret" / "key.json"
    assert oct(key.stat().st_mode & 0o777) == "0o600" and "Sara" in key.read_text(encoding="utf-8")


def test_pseudonyms_already_shown_stay_when_an_earlier_dated_entry_arrives_later(project, tmp_path):
    first = tmp_path / "week1.jsonl"
    first.write_text(
        '{"entry_id": "e2", "case_id": "K1", "date": "2024-02-01", "text": "Emma var glad i dag."}\n', encoding="utf-8"
    )
    project.ingest([first], "logbook")
    e2 = project.store.query("SELECT id FROM documents WHERE doc_key LIKE '%e2'")[0][0]
    assert project.pseudonyms().document(e2).text == "[NAVN-1] var glad i dag."

    late = tmp_path / "late.jsonl"
    late.write_text(
        '{"entry_id": "e1", "case_id": "K1", "date": "2024-01-01", "text": "Oliver og Emma legede."}\n',
        encoding="utf-8",
    )
    project.ingest([late], "logbook")
    e1 = project.store.query("SELECT id FROM documents WHERE doc_key LIKE '%e1'")[0][0]
    later = project.pseudonyms()
    assert later.document(e2).text == "[NAVN-1] var glad i dag."
    assert later.document(e1).text == "[NAVN-2] og [NAVN-1] legede."


def test_pseudonyms_of_many_cases_warmed_at_once_are_kept_as_one_by_one(project, tmp_path):
    entries = tmp_path / "week.jsonl"
    entries.write_text(
        '{"entry_id": "a", "case_id": "K1", "date": "2024-02-01", "text": "Emma og Oliver bagte."}\n'
        '{"entry_id": "b", "case_id": "K2", "date": "2024-02-01", "text": "Oliver var træt."}\n',
        encoding="utf-8",
    )
    project.ingest([entries], "logbook")
    ids = [r[0] for r in project.store.query("SELECT id FROM documents ORDER BY case_id")]
    one_by_one = [project.pseudonyms().document(i).text for i in ids]
    project.config.key_path.unlink()
    project.pseudonyms().warm(["K1", "K2", "K1", None])
    assert sorted(json.loads(project.config.key_path.read_text(encoding="utf-8"))["documents"]) == [
        "case:K1",
        "case:K2",
    ]
    assert (
        [project.pseudonyms().document(i).text for i in ids]
        == one_by_one
        == ["[NAVN-1] og [NAVN-2] bagte.", "[NAVN-1] var træt."]
    )


def test_the_key_lives_apart_from_the_store_and_the_store_is_browsed_pseudonymised(project, tmp_path):
    """A new project's key is outside the project, 0600; the store keeps no name-to-pseudonym map, alerts
    keep no names, and the pseudonymised text is what a user browses."""
    import sqlite3
    import stat

    key = project.config.key_path
    assert project.root.resolve() not in key.resolve().parents
    entries = tmp_path / "week.jsonl"
    entries.write_text(
        '{"entry_id": "a", "case_id": "K1", "date": "2024-02-01", "text": "Emma Nielsen fortalte, at '
        'hendes far slog hende i går. Hun ville ikke hjem."}\n',
        encoding="utf-8",
    )
    project.ingest([entries], "logbook")
    project.flag_new_entries()
    project.pseudonyms().warm(["K1"])
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and "Emma Nielsen" in key.read_text(encoding="utf-8")
    with sqlite3.connect(project.config.store_path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        browsed = conn.execute("SELECT text FROM documents_pseudonymised").fetchall()
        evidence = [r[0] for r in conn.execute("SELECT evidence FROM alerts")]
    assert "case_pseudonyms" not in tables
    assert browsed == [("[NAVN-1] fortalte, at hendes far slog hende i går. Hun ville ikke hjem.",)]
    assert evidence and not any("Emma" in e or "Nielsen" in e for e in evidence)


def test_a_store_that_kept_its_key_inside_moves_it_out_without_renumbering(project, tmp_path):
    from qualpipe.project import Project

    entries = tmp_path / "week.jsonl"
    entries.write_text(
        '{"entry_id": "a", "case_id": "K1", "date": "2024-02-01", "text": "Oliver og Emma bagte."}\n', encoding="utf-8"
    )
    project.ingest([entries], "logbook")
    before = project.pseudonyms().document(1).text
    key = json.loads(project.config.key_path.read_text(encoding="utf-8"))
    # the store as an older qualpipe left it: the case's pseudonyms in a table beside the text, no key file
    with project.store.transaction() as conn:
        conn.execute(
            "CREATE TABLE case_pseudonyms (case_id TEXT PRIMARY KEY, labels TEXT NOT NULL, "
            "originals TEXT NOT NULL, documents TEXT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO case_pseudonyms VALUES ('K1', ?, ?, '[]')",
            (
                json.dumps({"PERSON:emma": "[NAVN-1]", "PERSON:oliver": "[NAVN-2]"}),
                json.dumps({"[NAVN-1]": "Emma", "[NAVN-2]": "Oliver"}),
            ),
        )
    project.config.key_path.unlink()
    project.close()
    with Project(project.root) as reopened:
        assert not reopened.store.query("SELECT 1 FROM sqlite_master WHERE name = 'case_pseudonyms'")
        moved = json.loads(reopened.config.key_path.read_text(encoding="utf-8"))
        assert moved["labels"]["case:K1"]["PERSON:emma"] == "[NAVN-1]"
        assert reopened.pseudonyms().document(1).text == "[NAVN-2] og [NAVN-1] bagte."
    assert before == "[NAVN-1] og [NAVN-2] bagte." and key["labels"]["case:K1"]["PERSON:oliver"] == "[NAVN-1]"
