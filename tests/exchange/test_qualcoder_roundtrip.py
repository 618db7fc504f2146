"""The REFI-QDA round trip through a real QDA program: QualCoder's own import and export code
(../shared/tools/qualcoder-refi, run headless) between our export and our import, with an evaluator's
coding and a removed machine code in between, in both of QualCoder's line-ending modes, pseudonymised
and identified."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from conftest import CORPUS, new_corpus_project
from qualpipe.exchange.qdpx import MACHINE_USER

HARNESS = CORPUS.parents[1] / "shared" / "tools" / "qualcoder-refi"
PHRASE = "har aldrig aflyst, ikke én gang."


def qualcoder(script: str, *args) -> str:
    done = subprocess.run([sys.executable, str(HARNESS / script), *map(str, args)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def export_as_lene(qda, work, out, mode: str):
    """Save the evaluator's QualCoder project (Lene as its coder), export it with QualCoder as `mode` (its own
    REFI-QDA export, or the one for MAXQDA) and return the .qdpx it wrote."""
    qda.execute(
        "INSERT INTO project (databaseversion, date, memo, about, codername) "
        "VALUES ('v7', '2026-11-29', '', '', 'Lene')"
    )
    qda.commit()
    qda.close()
    qualcoder("run_export.py", work, out, *(["maxqda"] if mode == "maxqda" else []))
    return next(out.glob("*.qdpx"))


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    project = new_corpus_project(tmp_path_factory.mktemp("qc") / "project")
    project.ingest([CORPUS / "interviews"], "interview")
    project.code()
    yield project
    project.close()


@pytest.mark.parametrize("pseudonymised", [True, False], ids=["pseudonymised", "identified"])
@pytest.mark.parametrize("mode", ["lf", "maxqda"])
def test_an_evaluators_work_in_qualcoder_comes_back(coded, tmp_path, mode, pseudonymised):
    ours = tmp_path / "ours.qdpx"
    coded.export("qdpx", ours, show_identities=not pseudonymised)
    work = tmp_path / "qualcoder"
    imported = qualcoder("run_import.py", ours, work)
    assert "codername now: evaluator" in imported  # QualCoder's current coder is a human, not the machine

    qda = sqlite3.connect(work / "data.qda")
    assert qda.execute("SELECT COUNT(*) FROM source").fetchone()[0] == 7
    cases = dict(qda.execute("SELECT s.name, a.value FROM attribute a JOIN source s ON s.id = a.id "
                             "WHERE a.name = 'case' AND a.attr_type = 'file'").fetchall())
    assert sorted(set(cases.values())) == ["M01", "M03", "M05", "M07", "M11", "M14", "M16"]
    machine = qda.execute("SELECT COUNT(*) FROM code_text t JOIN code_name n ON n.cid = t.cid WHERE t.owner = ? "
                          "AND n.name NOT LIKE 'Taler:%'", (MACHINE_USER,)).fetchone()[0]
    assert machine == coded.store.query("SELECT COUNT(*) FROM codings WHERE source = 'machine'")[0][0]
    # speakers arrive as codes an evaluator can filter by: every interview turn carries its role
    spoken = dict(qda.execute("SELECT n.name, COUNT(*) FROM code_text t JOIN code_name n ON n.cid = t.cid "
                              "WHERE n.name LIKE 'Taler:%' GROUP BY n.name").fetchall())
    assert sum(spoken.values()) == coded.store.query("SELECT COUNT(*) FROM turns")[0][0] and "Taler: barn" in spoken
    # the evaluator, Lene, codes a passage and removes one machine code
    fid, text = next((i, t) for i, t in qda.execute("SELECT id, fulltext FROM source") if PHRASE in t)
    start = text.index(PHRASE)
    cid = qda.execute("SELECT cid FROM code_name WHERE name = 'Stabilitet'").fetchone()[0]
    qda.execute(
        "INSERT INTO code_text (cid, fid, seltext, pos0, pos1, owner, date, memo, important) "
        "VALUES (?, ?, ?, ?, ?, 'Lene', '2026-11-29 10:00:00', '', 0)",
        (cid, fid, PHRASE, start, start + len(PHRASE)),
    )
    removed = qda.execute(
        "SELECT t.ctid, t.cid, t.seltext FROM code_text t JOIN code_name n ON n.cid = t.cid "
        "WHERE t.owner = ? AND n.name NOT LIKE 'Taler:%' ORDER BY t.ctid LIMIT 1",
        (MACHINE_USER,),
    ).fetchone()
    qda.execute("DELETE FROM code_text WHERE ctid = ?", (removed[0],))
    theirs = export_as_lene(qda, work, tmp_path / "out", mode)
    report = coded.import_qdpx(theirs)
    assert report.matched_sources == report.sources == 7, report.unmatched_sources
    assert report.machine_codings_new == 0
    rows = coded.store.query(
        "SELECT c.coder, c.code, c.start, c.end, d.text FROM codings c JOIN segments s ON "
        "s.id = c.segment_id JOIN documents d ON d.id = s.document_id WHERE c.source = 'human'"
    )
    assert [(r["coder"], r["code"], r["text"][r["start"] : r["end"]]) for r in rows] == [("Lene", "stabilitet", PHRASE)]
    rejected = coded.store.query("SELECT coder, code, decision FROM code_decisions")
    assert [tuple(r) for r in rejected] == [
        (
            "Lene",
            coded.codebook()
            .find(
                sqlite3.connect(work / "data.qda")
                .execute("SELECT name FROM code_name WHERE cid = ?", (removed[1],))
                .fetchone()[0]
            )
            .id,
            "no",
        )
    ]
    # clean up for the next parameter: the store is shared by the module
    with coded.store.transaction() as conn:
        conn.execute("DELETE FROM codings WHERE source = 'human'")
        conn.execute("DELETE FROM code_decisions")


@pytest.mark.parametrize("mode", ["lf", "maxqda"])
def test_logbooks_go_out_one_per_case_and_codes_come_back_to_the_right_entry(tmp_path, mode):
    project = new_corpus_project(tmp_path / "logbooks")
    project.ingest([CORPUS / "logbooks"], "logbook")
    entries = project.store.query("SELECT COUNT(*) FROM documents")[0][0]
    cases = project.store.query("SELECT COUNT(DISTINCT case_id) FROM documents")[0][0]
    project.export("qdpx", tmp_path / "ours.qdpx")
    work = tmp_path / "qualcoder"
    qualcoder("run_import.py", tmp_path / "ours.qdpx", work)
    qda = sqlite3.connect(work / "data.qda")
    assert qda.execute("SELECT COUNT(*) FROM source").fetchone()[0] == cases < entries
    # the evaluator codes a sentence deep inside one case's logbook
    target = project.store.query("SELECT id, case_id, text FROM documents ORDER BY case_id, date DESC LIMIT 1")[0]
    phrase = target["text"].split(".")[0]
    name = f"{target['case_id']} logbog"
    fid, fulltext = qda.execute("SELECT id, fulltext FROM source WHERE name = ?", (name,)).fetchone()
    seen = project.pseudonyms().document(target["id"]).text.split(".")[0]
    start = fulltext.rindex(seen)
    cid = qda.execute("SELECT cid FROM code_name WHERE name = 'Relation'").fetchone()[0]
    qda.execute(
        "INSERT INTO code_text (cid, fid, seltext, pos0, pos1, owner, date, memo, important) "
        "VALUES (?, ?, ?, ?, ?, 'Lene', '2026-11-29 10:00:00', '', 0)",
        (cid, fid, seen, start, start + len(seen)),
    )
    report = project.import_qdpx(export_as_lene(qda, work, tmp_path / "out", mode))
    assert report.matched_sources == report.sources == cases
    rows = project.store.query(
        "SELECT c.coder, c.code, s.document_id, c.start, c.end FROM codings c "
        "JOIN segments s ON s.id = c.segment_id WHERE c.source = 'human'"
    )
    assert {(r["coder"], r["code"], r["document_id"]) for r in rows} == {("Lene", "relation", target["id"])}
    assert target["text"][rows[0]["start"] : rows[0]["end"]] == phrase
    project.close()
