"""The learned concern detector: reproduced by its training command, and corrected by a coordinator's feedback."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import REPO, new_corpus_project
from qualpipe.cli import app
from qualpipe.engines import Engines
from qualpipe.flagging.flagger import ConcernFlagger
from qualpipe.flagging.model import ConcernHead, entry_head_path, shipped_model_path
from qualpipe.flagging.training import LabelledEntry, choose_thresholds, load_corpus, retyped_copies
from qualpipe.learning.head import cpu_kind
from qualpipe.project import Project
from qualpipe.text.nlp import load_nlp

CORPUS_DEV = REPO / "corpora" / "dev"


@pytest.fixture(scope="module")
def retrained(tmp_path_factory):
    """The shipped model's training command, run again from the corpus with the documented seed."""
    out = tmp_path_factory.mktemp("model") / "concern_model.npz"
    result = CliRunner().invoke(app, ["flag", "train", "--corpus", str(CORPUS_DEV), "--seed", "13", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return ConcernHead.load(out), result.output


def test_the_training_command_reproduces_the_shipped_weights_and_thresholds(retrained):
    head, output = retrained
    shipped = ConcernHead.load(shipped_model_path())
    assert head.categories == shipped.categories and head.C == shipped.C
    assert head.info["lexicon_alerts"] == shipped.info["lexicon_alerts"]
    assert head.entry_ is not None and shipped.entry_ is not None  # the whole-entry head is trained and shipped
    assert "test split: P" in output and "urgent" in output
    assert head.info["cpu"] == cpu_kind()
    if shipped.info["cpu"] == cpu_kind():
        # Same corpus, seed and kind of CPU: the same weights, up to float16 storage.
        assert np.allclose(head.coef_, shipped.coef_, atol=2e-3) and np.allclose(
            head.intercept_, shipped.intercept_, atol=2e-3
        )
        assert np.allclose(head.entry_.coef_, shipped.entry_.coef_, atol=2e-3)
        assert all(abs(head.alert_[k] - shipped.alert_[k]) < 0.02 for k in head.categories)
        return
    # Another kind of CPU (AVX2 against AVX-512): the vectors differ in their last digits (cosine >= 0.999), so the
    # weights do; what is promised is the results (README, "Cross-CPU"): the same C, dev micro F1 within 0.02, and
    # at least 85% of the flags on the dev and test entries the same (with vectors moved as much, simulated by
    # bench/cross_cpu_training.py: 96% for the detector of the evening of 2026-11-30; 89% and 93% in two draws for
    # the one retrained that afternoon, whose omsorgssvigt threshold sits on a flat dev F1 curve and moved by 0.16
    # and 0.19).
    assert abs(head.info["dev"]["f1"] - shipped.info["dev"]["f1"]) < 0.02
    entries = [e.text for e in load_corpus(CORPUS_DEV) if e.split in ("dev", "test")]
    nlp, embedder = load_nlp(""), Engines().raw_embedder()
    flags = [{(i, f.category, f.band) for i, entry in enumerate(ConcernFlagger(nlp, embedder, model=m)
                                                                 .flag_entries(entries)) for f in entry}
             for m in (head, shipped)]
    assert len(flags[0] & flags[1]) >= 0.85 * len(flags[0] | flags[1])


def test_a_threshold_chosen_on_dev_keeps_a_margin_on_both_sides_of_it():
    # Dev scores of one urgent category: positives at 0.55, 0.70, 0.90; the negatives below 0.30 but one at 0.60.
    # Every threshold in (0.30, 0.55] makes the same dev decisions; one right at 0.55 would drop a disclosure that
    # scores 0.549 after a retraining moves the vectors by a hair.
    scores = np.array([[0.05], [0.10], [0.30], [0.55], [0.60], [0.70], [0.90]])
    gold = np.array([[False], [False], [False], [True], [False], [True], [True]])
    alert, check = choose_thresholds(scores, gold, ["vold_overgreb"], ["vold_overgreb"])
    assert alert["vold_overgreb"] == pytest.approx((0.30 + 0.55) / 2)
    assert check["vold_overgreb"] <= alert["vold_overgreb"]
    assert (scores[gold] >= check["vold_overgreb"]).all()


def test_an_urgent_threshold_listens_to_positives_beyond_dev_and_keeps_its_false_alarms_from_dev():
    # Dev: twelve disclosures, all scored 0.80 or more, and calm entries at 0.05 and one at 0.35. The reserve's
    # disclosures, worded as dev's were not, half of them score 0.45. On dev alone the threshold sits between 0.35
    # and 0.80, above all of those; with them it drops below 0.45, still above every dev false alarm.
    scores = np.array([[0.05]] * 100 + [[0.35]] + [[0.80 + 0.01 * i] for i in range(12)])
    gold = np.array([[False]] * 101 + [[True]] * 12)
    alone, _ = choose_thresholds(scores, gold, ["selvskade"], ["selvskade"])
    more = np.array([[0.45]] * 10 + [[0.90]] * 10 + [[np.nan]] * 5)  # NaN: not a positive of the category
    pooled, check = choose_thresholds(scores, gold, ["selvskade"], ["selvskade"], more_positives=more)
    assert 0.45 < alone["selvskade"] < 0.80
    assert 0.35 < pooled["selvskade"] <= 0.45 and check["selvskade"] <= pooled["selvskade"]
    # a category that is not urgent keeps dev's best F1
    plain, _ = choose_thresholds(scores, gold, ["mistrivsel"], [], more_positives=more)
    assert plain["mistrivsel"] == choose_thresholds(scores, gold, ["mistrivsel"], [])[0]["mistrivsel"] > 0.45


def test_training_copies_retyped_without_capitals_punctuation_or_æøå_or_with_typos_keep_their_evidence():
    text = 'Vi så en film. Hun sagde: "Far slog mig hårdt." Så græd hun meget længe.'
    start = text.index('"Far')
    entry = LabelledEntry("V99-01-01", "V99-01", "V99", "train", text,
                          (("vold_overgreb", "urgent", start, start + len('"Far slog mig hårdt."')),))
    copies = retyped_copies([entry] * 40, seed=13)
    kinds = {c.entry_id.split("~")[1] for c in copies}
    assert kinds == {"plain", "ascii", "plain-ascii", "typos"}  # each kind drawn among forty entries
    misspelt_copies = set()
    for copy in copies:
        (category, severity, a, b), = copy.concerns
        evidence = copy.text[a:b].strip(' ."').lower()
        assert (category, severity) == ("vold_overgreb", "urgent") and copy.split == "train"
        if copy.entry_id.endswith("typos"):
            # the same words, one letter more, less or moved here and there, and the span still on them
            assert evidence.split()[0] == "far" and len(evidence.split()) == 4
            assert abs(len(copy.text) - len(text)) <= 3 and copy.text.count(" ") == text.count(" ")
            misspelt_copies.add(copy.text)
        else:
            assert evidence == ("far slog mig haardt" if copy.entry_id.endswith("ascii") else "far slog mig hårdt")
            assert ("æ" not in copy.text) == copy.entry_id.endswith("ascii")
    assert len(misspelt_copies) > 1 and text not in misspelt_copies  # different slips; no copy without one


def test_an_entry_with_spelling_mistakes_is_still_read(flagger):
    # Written for this test: the r and d a writer spelling by ear leaves out, and a game won with a slip or two.
    flags = flagger.flag_entries([
        "Vi var i skoven. Bagefter fortalde hun at hendes stedfar slå hende med bæltet når hun ikke høre efter. "
        "Hun var meget bange for at gå hjem.",
        "Vi spilede ludo og hun vandt fire gange i træk, hun var så stolt og grinte hele vejen hjem i bilen.",
    ])
    assert ("vold_overgreb", "alert") in [(f.category, f.band) for f in flags[0]]
    assert not [f for f in flags[1] if f.band == "alert"]


def test_an_entry_typed_in_lower_case_without_punctuation_is_still_read(flagger):
    flags = flagger.flag_entries([
        "hun sagde at hun ikke gider leve mere og at det hele er ligemeget",
        "vi spillede uno og hun slog mig fire gange i traek hun var mega stolt",
    ])
    assert [(f.category, f.band) for f in flags[0] if f.band == "alert"] == [("selvskade", "alert")]
    assert not [f for f in flags[1] if f.band == "alert"]  # a game won is no concern


def test_the_shipped_model_stores_what_was_trained_and_stays_small():
    path = shipped_model_path()
    assert path.stat().st_size < 10_000_000  # the head only: no vocabulary, no encoder copy
    assert entry_head_path(path).stat().st_size < 10_000_000
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["embedder"] == "e5-small-fast" and meta["seed"] == 13
    assert set(meta["alert"]) == set(meta["categories"])


def test_the_corpus_split_keeps_writers_and_cases_apart():
    entries = load_corpus(CORPUS_DEV)
    by_split = {s: {e.writer for e in entries if e.split == s} for s in ("train", "dev", "test")}
    cases = {s: {e.case_id for e in entries if e.split == s} for s in ("train", "dev", "test")}
    assert by_split["test"] and by_split["dev"] and by_split["train"]
    assert not (by_split["test"] & (by_split["train"] | by_split["dev"])) and not (by_split["dev"] & by_split["train"])
    assert not (cases["test"] & (cases["train"] | cases["dev"])) and not (cases["dev"] & cases["train"])
    assert len(entries) >= 2400 and sum(any(s == "urgent" for _, s, *_ in e.concerns) for e in entries) >= 250


def test_a_coordinators_dismissals_of_a_recurring_false_alarm_stop_it_recurring(tmp_path, flagger):
    """Sadness that the visit is over is no concern (guide rule 4), but one volunteer writes it every week."""
    project = new_corpus_project(tmp_path / "p")
    weekly = [
        "Han var lidt ked af det, da vi skulle sige farvel.",
        "Hun var ked af, at besøget var slut.",
        "Han græd lidt, da vi skulle sige farvel, fordi han gerne ville blive og lege mere.",
        "Hun græd lidt i bilen hjem, fordi dagen var slut.",
    ]
    rows = [
        {"entry_id": f"K1-{i}", "case_id": "K1", "date": f"2024-03-{4 + 7 * i:02d}", "text": t}
        for i, t in enumerate(weekly)
    ]
    (tmp_path / "week.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    project.ingest([tmp_path / "week.jsonl"], "logbook")
    project.flag_new_entries()
    false_alarms = project.store.query("SELECT id FROM alerts WHERE category = 'mistrivsel' AND band = 'alert'")
    assert len(false_alarms) >= 3, "the shipped detector raises this false alarm (else the test proves nothing)"
    runner = CliRunner()
    for row in false_alarms:
        done = runner.invoke(
            app,
            [
                "--project",
                str(project.root),
                "alerts",
                "dismiss",
                str(row["id"]),
                "--reason",
                "ked af at sige farvel, ikke bekymring",
                "--by",
                "Lene",
            ],
        )
        assert done.exit_code == 0, done.output
    project.close()
    trained = runner.invoke(
        app, ["--project", str(project.root), "flag", "train", "--corpus", str(CORPUS_DEV), "--with-feedback"]
    )
    assert trained.exit_code == 0, trained.output
    assert f"{len(false_alarms)} coordinator label(s)" in trained.output
    later = [
        {
            "entry_id": "K1-9",
            "case_id": "K1",
            "date": "2024-04-22",
            "text": "Hun var lidt ked af det, da vi skulle sige farvel.",
        },
        {
            "entry_id": "K1-10",
            "case_id": "K1",
            "date": "2024-04-29",
            "text": "Han sagde, at han er bange for at tage hjem, fordi far slår ham, når han er fuld.",
        },
    ]
    before = flagger.flag_entries([later[0]["text"]])[0]
    assert any(f.category == "mistrivsel" and f.band == "alert" for f in before)  # the shipped model still would
    (tmp_path / "later.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in later), encoding="utf-8"
    )
    with Project(project.root) as again:
        assert again.concern_model_path().is_file()  # the project's own model is the one its flagger uses now
        again.ingest([tmp_path / "later.jsonl"], "logbook")
        again.flag_new_entries()
        got = {
            (r["doc_key"], r["category"], r["band"])
            for r in again.store.query(
                "SELECT d.doc_key, a.category, a.band FROM alerts a JOIN documents d ON d.id = a.document_id "
                "WHERE d.doc_key IN ('logbook:K1-9', 'logbook:K1-10')"
            )
        }
    assert not any(key == "logbook:K1-9" and band == "alert" for key, _, band in got)
    assert ("logbook:K1-10", "vold_overgreb", "alert") in got  # a real disclosure is still an alert
