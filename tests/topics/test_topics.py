"""Topics: fitted on cached embeddings, stored per run with quality figures, reproducible, assignable without
refitting."""

from __future__ import annotations

import json
from pathlib import Path

from bertopic import BERTopic
from typer.testing import CliRunner

from conftest import CORPUS
from qualpipe.cli import app
from qualpipe.topics.model import DanishAnalyzer, TopicParams
from qualpipe.topics.quality import npmi_coherence, topic_diversity


def _assignments(project, run_id: int) -> list[tuple]:
    return [
        tuple(r)
        for r in project.store.query(
            "SELECT segment_id, topic, raw_topic FROM segment_topics WHERE run_id = ? ORDER BY segment_id", (run_id,)
        )
    ]


def _gold_names() -> set[str]:
    names = set()
    for line in (CORPUS / "gold" / "personal_data.jsonl").read_text(encoding="utf-8").splitlines():
        for span in json.loads(line)["spans"]:
            if span["kind"] == "PERSON":
                names.update(part.lower() for part in span["text"].split())
    return names


def test_danish_analyzer_gives_lemmas_without_stop_words():
    assert DanishAnalyzer()("Børnene legede med hundene, og vi var på besøg i dag.") == ["barn", "lege", "hund"]


def test_danish_analyzer_drops_english_and_swedish_function_words_but_keeps_danish_words():
    words = DanishAnalyzer()(
        "Hun sagde: this is what we always do, och inte mycket mer. Hun sad ved hans side og så en film."
    )
    assert not {"this", "what", "always", "och", "inte", "mycket"} & set(words)
    assert words == ["sidde", "side", "film"]  # "side" is an English stop word and a Danish word


def test_a_topic_whose_representation_is_empty_gets_its_c_tf_idf_words():
    from types import SimpleNamespace

    from scipy.sparse import csr_matrix

    from qualpipe.topics.runs import topic_words

    model = SimpleNamespace(
        get_topic=lambda t: [("", 0.0)] * 3,
        _outliers=1,
        c_tf_idf_=csr_matrix([[0.0, 0.0, 0.0], [0.1, 0.0, 0.7]]),
        vectorizer_model=SimpleNamespace(get_feature_names_out=lambda: ["fodbold", "hund", "kage"]),
    )
    assert topic_words(model, 0, 10) == ["kage", "fodbold"]


def test_danish_analyzer_drops_names_and_institutions():
    words = DanishAnalyzer(institutions=("Mælkebøtten",))("Vi hentede Oliver i Mælkebøtten og byggede en hule.")
    assert words == ["hente", "bygge", "hule"]


def test_npmi_is_one_for_words_always_together_and_minus_one_for_words_never_together():
    docs = ["kage hund", "kage hund", "bil tog", "bil tog"]
    split = str.split
    assert abs(npmi_coherence([["kage", "hund"]], docs, split) - 1.0) < 1e-9
    assert npmi_coherence([["kage", "bil"]], docs, split) == -1.0
    independent = ["a b", "a", "b", ""]
    assert abs(npmi_coherence([["a", "b"]], independent, split)) < 1e-9


def test_diversity_is_the_share_of_unique_top_words():
    assert topic_diversity([["a", "b"], ["c", "d"]]) == 1.0
    assert topic_diversity([["a", "b"], ["a", "b"]]) == 0.5


def test_a_run_stores_quality_themes_representatives_and_reduced_outliers(topic_corpus):
    run_id = topic_corpus.topic_runs.latest()
    run = topic_corpus.store.query("SELECT * FROM topic_runs WHERE id = ?", (run_id,))[0]
    assert -1.0 <= run["npmi"] <= 1.0 and 0.0 < run["diversity"] <= 1.0 and run["n_topics"] >= 3
    rows = _assignments(topic_corpus, run_id)
    assert len(rows) == run["n_segments"]
    assert all(topic >= 0 for _, topic, _ in rows), "outliers are reduced by default"
    raw_outliers = [r for r in rows if r[2] == -1]
    assert raw_outliers, "the raw HDBSCAN cluster (-1 = outlier) is kept beside the reduced topic"
    probabilities = topic_corpus.store.query(
        "SELECT probability, raw_topic FROM segment_topics WHERE run_id = ?", (run_id,)
    )
    assert all(0.0 <= p <= 1.0 for p, _ in probabilities) and all(p == 0.0 for p, raw in probabilities if raw == -1)

    topics = topic_corpus.store.query("SELECT * FROM topics WHERE run_id = ? AND topic >= 0", (run_id,))
    codebook = set(topic_corpus.codebook().ids)
    themed = [t for t in topics if t["theme"]]
    assert themed and all(t["theme"] in codebook and t["theme_score"] >= 0.3 for t in themed)
    assert all(json.loads(t["words"]) for t in topics), "every topic has words"
    segment_ids = {r[0] for r in rows}
    for topic in topics:
        representative = json.loads(topic["representative"])
        assert 1 <= len(representative) <= 3 and set(representative) <= segment_ids
        members = {r[0] for r in rows if r[1] == topic["topic"]}
        assert set(representative) <= members


def test_topic_words_never_hold_a_childs_or_adults_name(topic_corpus):
    names = _gold_names()
    assert len(names) > 10
    words = {w for r in topic_corpus.store.query("SELECT words FROM topics") for w in json.loads(r["words"])}
    assert words and not words & names


def test_refitting_with_the_same_seed_gives_the_same_topics_and_rerunning_stores_nothing(topic_corpus):
    first = topic_corpus.topic_runs.latest()
    runs_before = topic_corpus.store.query("SELECT COUNT(*) FROM topic_runs")[0][0]
    assert topic_corpus.fit_topics(TopicParams()) == first
    assert topic_corpus.store.query("SELECT COUNT(*) FROM topic_runs")[0][0] == runs_before
    second = topic_corpus.fit_topics(TopicParams(), refit=True)
    assert second != first and _assignments(topic_corpus, first) == _assignments(topic_corpus, second)
    words = [
        [tuple(r) for r in topic_corpus.store.query("SELECT topic, words FROM topics WHERE run_id = ?", (run,))]
        for run in (first, second)
    ]
    assert words[0] == words[1]


def test_keeping_outliers_and_guiding_by_the_codebook_are_run_options(topic_corpus, tmp_path, monkeypatch):
    kept = topic_corpus.fit_topics(TopicParams(reduce_outliers=False, guided=True))
    rows = _assignments(topic_corpus, kept)
    assert any(topic == -1 for _, topic, _ in rows) and all(topic == raw for _, topic, raw in rows)
    params = json.loads(topic_corpus.store.query("SELECT params FROM topic_runs WHERE id = ?", (kept,))[0][0])
    assert params["guided"] is True and params["reduce_outliers"] is False
    stored = topic_corpus.store.query("SELECT model_path FROM topic_runs WHERE id = ?", (kept,))[0][0]
    assert not Path(stored).is_absolute()  # relative to the project: found from any working folder
    monkeypatch.chdir(tmp_path)
    seeds = BERTopic.load(topic_corpus.topic_runs.info(kept)["model_path"]).seed_topic_list
    stabilitet = topic_corpus.codebook().get("stabilitet")
    assert list(stabilitet.cues) in [list(s) for s in seeds]


def test_assigning_a_topics_own_representative_segments_gives_that_topic(topic_corpus):
    run_id = topic_corpus.fit_topics(TopicParams())  # the default run (outliers reduced), whatever ran since
    texts, expected = [], []
    for row in topic_corpus.store.query(
        "SELECT topic, representative FROM topics WHERE run_id = ? AND topic >= 0", (run_id,)
    ):
        for segment_id in json.loads(row["representative"]):
            texts.append(topic_corpus.store.query("SELECT norm_text FROM segments WHERE id = ?", (segment_id,))[0][0])
            expected.append(row["topic"])
    assigned = topic_corpus.assign_topics(run_id, texts)
    agreement = sum(a.topic == e for a, e in zip(assigned, expected)) / len(expected)
    assert agreement >= 0.8 and all(a.topic >= 0 and 0.0 <= a.probability <= 1.0 for a in assigned)


def test_cli_lists_runs_shows_the_table_and_assigns_from_jsonl(topic_corpus, tmp_path):
    runner = CliRunner()
    base = ["--project", str(topic_corpus.root)]
    run_id = topic_corpus.topic_runs.latest()
    listed = runner.invoke(app, [*base, "topics", "list", "--format", "jsonl"])
    runs = {json.loads(line)["id"]: json.loads(line) for line in listed.output.splitlines()}
    assert runs[run_id]["npmi"] is not None and runs[run_id]["diversity"] is not None

    shown = runner.invoke(app, [*base, "topics", "show", str(run_id), "--format", "jsonl"])
    table = [json.loads(line) for line in shown.output.splitlines()]
    assert shown.exit_code == 0 and {t["topic"] for t in table} >= {0, 1, 2}
    quotes = " ".join(q for t in table for q in t["representative"]).lower().split()
    assert quotes and not set(quotes) & _gold_names(), "representative segments are pseudonymised by default"

    source = tmp_path / "new.jsonl"
    source.write_text('{"id": "n1", "text": "Vi spillede fodbold i parken."}\n{"id": "n2"}\n', encoding="utf-8")
    result = runner.invoke(
        app, [*base, "topics", "assign", str(run_id), "--input", str(source), "--output", str(tmp_path / "out.jsonl")]
    )
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert result.exit_code == 1 and "new.jsonl:2:" in result.output
    assert lines[0]["id"] == "n1" and lines[0]["topic"] >= 0 and lines[1]["topic"] is None


def test_fitting_on_a_terminal_says_what_it_is_doing(topic_corpus, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(topic_corpus.root, root)
    result = CliRunner().invoke(app, ["--project", str(root), "topics", "--refit", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    stages = [line.split("] ")[1].split()[0] for line in result.output.splitlines() if line.startswith("[")]
    # "topic words again" only when outliers were reduced; "neighbours" only from 4,096 segments
    steps = ["loading", "words", "loading", "reducing", "clustering", "topic", "topic", "quality", "saving"]
    assert stages in (steps, steps[:6] + steps[7:]), result.output


def test_an_unknown_run_is_a_one_line_error(topic_corpus):
    result = CliRunner().invoke(app, ["--project", str(topic_corpus.root), "topics", "show", "999"])
    assert result.exit_code == 2 and "topic run 999: not found" in result.output
