"""The trained theme coder (the default), the review loop, agreement between coders, and the interview
corpus's transcripts: real model, real store, real files."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import CORPUS
from qualpipe.cli import app
from qualpipe.coding.run import human_labels
from qualpipe.coding.trained import shipped_theme_model, shipped_theme_model_path
from qualpipe.learning.head import LinearHead, cpu_kind
from qualpipe.project import Project

INTERVIEWS = CORPUS / "interviews_dev"


def test_the_shipped_theme_coder_is_reproduced_by_one_command_with_its_seed(tmp_path):
    out = tmp_path / "theme_model.npz"
    result = CliRunner().invoke(app, ["code", "train", "--seed", "13", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "test macro-F1" in result.output
    fresh, shipped = LinearHead.load(out), shipped_theme_model()
    assert fresh.info["corpus"] == shipped.info["corpus"]  # the shipped model was trained on this corpus
    assert shipped_theme_model_path().stat().st_size < 8_000_000
    assert fresh.C == shipped.C and fresh.info["cpu"] == cpu_kind()
    if shipped.info["cpu"] == cpu_kind():
        assert fresh.alert_ == pytest.approx(shipped.alert_, abs=0.02)
        assert np.abs(fresh.coef_ - shipped.coef_).max() < 0.02  # float16 storage, thread-count noise
        return
    # Another kind of CPU (AVX2 against AVX-512): the vectors, and so the weights and thresholds, differ; what is
    # promised is the results (README, "Cross-CPU"): the same C and macro-F1 within 0.02 on dev and on test (0.001
    # and 0.003 with vectors moved as much, simulated).
    assert abs(fresh.info["dev_macro_f1"] - shipped.info["dev_macro_f1"]) < 0.02
    assert abs(fresh.info["test_macro_f1"]["all"] - shipped.info["test_macro_f1"]["all"]) < 0.02


def test_the_trained_coder_reads_the_unit_and_not_single_words(coded_corpus):
    engine = coded_corpus.coding_engine()
    assert engine.method == "trained"
    units = [["Vi spurgte hende, hvad hun selv havde lyst til at lave, og hun valgte at bage boller."],
             ["Det er klassiske tegn på omsorgssvigt."],
             ["Bussen var forsinket, og der var kø ved kassen."]]
    assigned = [[c.code for c in row] for row in engine.assigned(engine.unit_scores(units))]
    assert "inddragelse" in assigned[0]
    assert "ressourcefokus" not in assigned[1]  # the example: a concern is not a strength
    assert assigned[2] == []


def test_a_codebook_of_ones_own_falls_back_to_zero_shot(coded_corpus):
    from qualpipe.coding.codebook import Codebook
    from qualpipe.coding.engine import CodingEngine
    from qualpipe.coding.trained import TrainedCoder
    from qualpipe.text.nlp import load_nlp

    default = coded_corpus.coding_engine()
    own = Codebook("eget", default.codebook.codes[:3])
    engine = CodingEngine(own, default.embedder, load_nlp(""), trained=TrainedCoder(shipped_theme_model()))
    assert engine.method == "zero-shot" and len(engine.thresholds) == 3


@pytest.fixture
def coded_copy(coded_corpus, tmp_path) -> Project:
    root = tmp_path / "project"
    shutil.copytree(coded_corpus.root, root)
    project = Project(root)
    yield project
    project.close()


def test_review_in_the_terminal_accepts_rejects_and_adds_with_one_key_each(coded_copy):
    queue = CliRunner().invoke(app, ["--project", str(coded_copy.root), "review", "--limit", "3", "--format", "jsonl"])
    assert queue.exit_code == 0
    result = CliRunner().invoke(app, ["--project", str(coded_copy.root), "review", "--limit", "3", "--as", "Lene"],
                                input="y" + "n" + "7\r" + "q")
    assert result.exit_code == 0, result.output
    assert "3 decision(s) stored as Lene" in result.output
    decisions = coded_copy.store.query(
        "SELECT segment_id, code, decision FROM code_decisions WHERE coder = 'Lene' ORDER BY decided_at"
    )
    assert [d["decision"] for d in decisions] == ["yes", "no", "yes"]
    assert decisions[2]["code"] == coded_copy.codebook().ids[6]
    human = coded_copy.store.query("SELECT segment_id, code FROM codings WHERE source = 'human' AND coder = 'Lene'")
    assert {(h["segment_id"], h["code"]) for h in human} == {
        (d["segment_id"], d["code"]) for d in decisions if d["decision"] == "yes"
    }
    # decided segments leave the queue; a re-run of the same keys on the new queue decides other segments
    again = CliRunner().invoke(app, ["--project", str(coded_copy.root), "review", "--limit", "3", "--format", "jsonl"])
    assert not {str(d["segment_id"]) for d in decisions} & {
        line.split('"segment_id": ')[1].split(",")[0] for line in again.output.splitlines() if line
    }


def test_only_explicit_decisions_are_negatives_for_learning(coded_copy):
    codes = coded_copy.codebook().ids
    segment = coded_copy.segments(kind="logbook")[0].id
    coded_copy.decide(segment, codes[0], "yes", "Lene")
    coded_copy.decide(segment, codes[1], "no", "Lene")
    ids, Y, K = human_labels(coded_copy.store, [segment], codes)
    assert ids == [segment]
    assert Y[0].tolist() == [True] + [False] * (len(codes) - 1)
    assert K[0].tolist() == [True, True] + [False] * (len(codes) - 2)  # untouched codes are unknown, not "no"
    coded_copy.decide(segment, codes[0], "no", "Lene")  # changing one's mind replaces the decision
    assert not coded_copy.store.query("SELECT 1 FROM codings WHERE source = 'human' AND segment_id = ?", (segment,))


def write_codes(path, rows, coder):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["segment_id", "code", "coder"])
        for segment, code in rows:
            writer.writerow([segment, code, coder])


def test_agreement_between_any_two_coders_with_alpha_for_three(coded_copy, tmp_path):
    segments = [s.id for s in coded_copy.segments(kind="logbook")][:40]
    a = [(s, "relation") for s in segments[:20]] + [(s, "") for s in segments[20:]]
    b = [(s, "relation") for s in segments[:15]] + [(s, "") for s in segments[15:]]
    write_codes(tmp_path / "a.csv", a, "Anna")
    write_codes(tmp_path / "b.csv", b, "Bo")
    runner = CliRunner()
    for name in ("a.csv", "b.csv"):
        assert runner.invoke(app, ["--project", str(coded_copy.root), "import", str(tmp_path / name)]).exit_code == 0
    result = runner.invoke(app, ["--project", str(coded_copy.root), "code", "evaluate", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    pair = {r["code"]: r for r in rows if r["coders"] == "Anna / Bo"}
    assert (pair["relation"]["precision"], pair["relation"]["recall"]) == ("0.75", "1.00")  # Anna against Bo
    assert pair["stabilitet"]["f1"] == "n/a"  # used by neither
    assert any(r["coders"] == "Anna / qualpipe" for r in rows)  # machine-human as well as human-human
    alphas = {r["code"]: r["alpha"] for r in rows if r["coders"] == "all"}
    assert set(alphas) == set(coded_copy.codebook().ids) and alphas["relation"] != "n/a"
    only = runner.invoke(
        app, ["--project", str(coded_copy.root), "code", "evaluate", "--coder", "Anna", "--coder", "Nobody"]
    )
    assert only.exit_code != 0 and "Nobody" in only.output


def test_learning_warns_about_codes_with_too_few_examples(coded_copy, tmp_path):
    segments = [s.id for s in coded_copy.segments(kind="logbook")]
    rows = [(s, "relation" if i % 2 else "ressourcefokus") for i, s in enumerate(segments[:30])] + [
        (segments[30], "frirum")
    ]
    write_codes(tmp_path / "codes.csv", rows, "Anna")
    runner = CliRunner()
    assert runner.invoke(app, ["--project", str(coded_copy.root), "import", str(tmp_path / "codes.csv")]).exit_code == 0
    result = runner.invoke(app, ["--project", str(coded_copy.root), "code", "--learn"])
    assert result.exit_code == 0, result.output
    assert "warning: code 'frirum' has 1 human example(s)" in result.output
    assert "code 'relation'" not in result.output


def test_learning_keeps_the_trained_coder_when_it_agrees_better_with_the_evaluators_codes(coded_copy, tmp_path):
    """An evaluator who confirmed the trained coder's codes must not have them replaced by a coder learned from a
    few dozen of them (the other way round, tests/coding/test_coding.py)."""
    runner, base = CliRunner(), ["--project", str(coded_copy.root)]
    segments = [s.id for s in coded_copy.segments(kind="logbook")][:60]
    machine = {(r["segment_id"], r["code"]) for r in coded_copy.store.query(
        "SELECT segment_id, code FROM codings WHERE source = 'machine' AND method LIKE 'trained:%'")}
    confirmed = [(s, c) for s, c in sorted(machine) if s in segments]
    assert len({c for _, c in confirmed}) >= 3  # the trained coder coded these entries with several codes
    coded = {s for s, _ in confirmed}
    write_codes(tmp_path / "codes.csv", confirmed + [(s, "") for s in segments if s not in coded], "Anna")
    assert runner.invoke(app, [*base, "import", str(tmp_path / "codes.csv")]).exit_code == 0
    kept = runner.invoke(app, [*base, "code", "--learn"])
    assert kept.exit_code == 0, kept.output
    assert "The trained coder on the same segments: macro-F1 1.000 (kept)" in kept.output
    assert "(trained," in kept.output and "kept the trained coder's codes" in kept.output
    after = {(r["segment_id"], r["code"]) for r in coded_copy.store.query(
        "SELECT segment_id, code FROM codings WHERE source = 'machine' AND method LIKE 'trained:%'")}
    assert after == machine


def test_the_interview_corpus_transcripts_ingest_in_every_layout(tmp_path):
    root = tmp_path / "interviews"
    root.mkdir()
    shutil.copyfile(INTERVIEWS / "qualpipe.toml", root / "qualpipe.toml")
    with Project.init(root) as project:
        report = project.ingest([INTERVIEWS / "transcripts"], "interview")
        assert report.errors == [] if hasattr(report, "errors") else True
        documents = project.store.query("SELECT COUNT(*) AS n, COUNT(DISTINCT case_id) AS cases FROM documents")[0]
        interviewer = project.store.query("SELECT COUNT(*) AS n FROM turns WHERE role = 'interviewer'")[0]["n"]
    turns = [json.loads(line) for line in (INTERVIEWS / "turns.jsonl").read_text(encoding="utf-8").splitlines()]
    assert documents["n"] == len({t["interview_id"] for t in turns}) >= 60
    assert documents["cases"] == len({t["case_id"] for t in turns})
    assert interviewer == sum(t["interviewer"] for t in turns)
    assert {p.suffix for p in (INTERVIEWS / "transcripts").iterdir()} >= {".txt", ".vtt", ".srt", ".docx"}


def test_a_turn_is_coded_with_the_question_it_answers(corpus_project, tmp_path):
    from qualpipe.coding.run import InterviewQuestions, codable_segments, coding_units
    from qualpipe.coding.training import questions_answered

    transcript = tmp_path / "M90_2024-05-02_interview_forældre.txt"
    transcript.write_text(
        "R: Skal vi bare starte?\n"
        "I: Hvad er hun blevet god til i år? Og hvad siger lærerne?\n"
        "R: Hun er blevet rigtig god til at læse, og hun er så stolt af det.\n"
        "Lise: Ja, hun læser højt for os hver gang.\n"
        "I: Hvordan går det med lektierne?\n"
        "R: Dem laver hun selv nu.\n",
        encoding="utf-8",
    )
    project = corpus_project
    project.ingest([transcript], "interview")
    project.code()
    segments = codable_segments(project.store, include_interviewer=False)
    units = coding_units(segments)
    questions = InterviewQuestions(project.store).of(segments, units)
    opening = [segments[u[0]].norm_text for u in units]
    assert questions == [
        [],  # said before any question
        ["Hvad er hun blevet god til i år?", "Og hvad siger lærerne?"],
        ["Hvad er hun blevet god til i år?", "Og hvad siger lærerne?"],  # a second speaker answers it too
        ["Hvordan går det med lektierne?"],
    ], opening
    # the stored codes are the ones the coder gives the turn read with its question, not alone
    engine = project.coding_engine()
    turns = [[segments[i].norm_text for i in u] for u in units]
    asked, alone = engine.unit_scores(turns, questions=questions), engine.unit_scores(turns)
    assert engine.assigned(asked) != engine.assigned(alone)
    for unit, expected in zip(units, engine.assigned(asked)):
        stored = project.store.query(
            "SELECT code, score FROM codings WHERE source = 'machine' AND segment_id IN (%s)"
            % ",".join(str(segments[i].id) for i in unit))
        assert {r["code"]: round(r["score"], 4) for r in stored} == {c.code: c.score for c in expected}
    # the training corpus is read the same way: the last interviewer turn before each turn
    assert questions_answered(["a", "q1", "b", "c", "q2", "d"], [1] * 6, [False, True, False, False, True, False]) == [
        "", "", "q1", "q1", "", "q2"]


def test_a_batch_line_may_carry_its_question(tmp_path):
    source = tmp_path / "in.jsonl"
    answer = "Hun er blevet rigtig god til at læse, og hun er så stolt af det."
    lines = [{"id": 1, "text": answer}, {"id": 2, "text": answer, "question": "Hvad er hun blevet god til i år?"},
             {"id": 3, "text": answer, "question": 7}]
    source.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["code", "--input", str(source), "--output", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 1 and "in.jsonl:3: 'question' must be a string" in result.output
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert out[1]["question"] == lines[1]["question"]  # passed through
    alone, asked = ({c["code"]: c["score"] for c in o["codes"]} for o in out[:2])
    assert "ressourcefokus" in alone and "ressourcefokus" in asked and alone != asked
    assert out[2]["codes"] == [] and "error" in out[2]
