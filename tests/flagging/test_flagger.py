"""The flagger end to end: lexicon on inflected forms, the learned detector beyond keywords, evidence kept;
and the older lexicon-and-exemplar detector, still available with [flagging] detector = "lexicon"."""

from __future__ import annotations

import pytest

from conftest import concerns_of


@pytest.fixture(scope="module")
def lexicon_flagger(flagger):
    from qualpipe.flagging.flagger import ConcernFlagger

    return ConcernFlagger(flagger.nlp, flagger.embedder)


def test_the_lexicon_matches_inflections_and_compounds(lexicon_flagger):
    assert "aflysning" in concerns_of(lexicon_flagger, "Der har været mange aflysninger.")
    assert "aflysning" in concerns_of(lexicon_flagger, "Mor meldte afbud i morges.")
    assert "selvskade" in concerns_of(lexicon_flagger, "Hun har tænkt på selvmord.")


def test_evidence_is_the_sentence_with_offsets_what_fired_and_why_in_danish(flagger):
    text = "Vi bagte boller. Han fortalte, at far slog ham i går. Bagefter spillede vi kort."
    flag = flagger.flag_entries([text])[0][0]
    assert flag.category == "vold_overgreb" and flag.severity == "urgent" and flag.band == "alert"
    assert text[flag.start:flag.end] == flag.evidence == "Han fortalte, at far slog ham i går."
    assert "model" in flag.fired_by and "pattern 'slog ham'" in flag.fired_by
    assert flag.reason == "Barnet fortæller om slag derhjemme"


def test_in_a_bullet_list_without_full_stops_the_evidence_is_the_line_that_says_why(flagger):
    text = "* Kl. 15-18\n* Lego og pizza\n* Hun sagde at far slår hende når han er fuld\n* Kørte hjem 18"
    flag = next(f for f in flagger.flag_entries([text])[0] if f.category == "vold_overgreb")
    assert flag.band == "alert" and flag.severity == "urgent"
    assert text[flag.start:flag.end] == flag.evidence == "* Hun sagde at far slår hende når han er fuld"


def test_not_wanting_to_go_home_is_marked_low_mood_not_violence(flagger):
    """The guide's table: explicitly not wanting to go home is `mistrivsel` (high); only fear of what happens
    at home is violence."""
    flags = lexicon_hits(flagger, "Vi spiste pandekager. Hun vil ikke hjem.")
    assert [(f.category, f.severity) for f in flags] == [("mistrivsel", "high")]


def test_marks_without_the_obvious_words_are_an_urgent_alert_from_the_learned_detector(flagger):
    text = "Han havde fire små runde ar på underarmen og ville ikke sige, hvor de kom fra."
    flags = {f.category: f.reason for f in flagger.flag_entries([text])[0] if f.band == "alert"}
    assert flags["vold_overgreb"] == "Mærker på kroppen uden forklaring"
    # Unexplained scars on a forearm are also one of the guide's signs of self-harm; if that is flagged too, its
    # reason says so (not "giver ting væk", the nearest reason before the catalogue had marks on the arms).
    assert flags.keys() <= {"vold_overgreb", "selvskade"} and flags.get("selvskade", "Tegn på selvskade") == (
        "Tegn på selvskade")
    assert "vold_overgreb" not in {f.category for f in lexicon_hits(flagger, text)}  # the model's, not a pattern's


def lexicon_hits(flagger, text: str) -> list:
    """The lexicon's own flags for a text (no patterns for burn marks: the alert above is the model's)."""
    return list(flagger._lexicon_flags(flagger.nlp(text))[1].values())


def test_concern_without_lexicon_words_is_caught_by_exemplars(lexicon_flagger):
    text = "Han tog rester fra køleskabet med hjem i sin rygsæk, fordi der ikke var mad hjemme hos ham."
    flags = lexicon_flagger.flag_entries([text])[0]
    assert any(f.category == "omsorgssvigt" for f in flags)


def test_exemplar_detector_alone_flags_a_phrasing_no_pattern_covers(lexicon_flagger):
    """Straight from the detector: a sentence close to a self-harm example, with no pattern words."""
    X = lexicon_flagger.embedder.encode(["Hun skrev i sin dagbog, at hun gerne vil forsvinde for evigt."])
    hits = lexicon_flagger.detector.detect(X)[0]
    assert "selvskade" in [category for category, _, _ in hits]
    ordinary = lexicon_flagger.embedder.encode(["Vi gik en tur i parken og fodrede ænderne."])
    assert lexicon_flagger.detector.detect(ordinary)[0] == []


def test_a_calm_entry_has_no_flags(flagger):
    assert flagger.flag_entries(["Hyggeligt besøg. Vi bagte kage og spillede Uno. Intet at bemærke."])[0] == []


def test_an_urgent_score_down_to_half_the_alert_threshold_is_shown_in_the_check_band_never_as_an_alert(flagger):
    """Guide rule 10: a doubtful urgent entry is shown, not dropped. The band reaches at least half way down to
    the alert threshold, also where the trained check threshold (the lowest dev positive's score) sits higher."""
    import numpy as np

    from qualpipe.flagging.flagger import CHECK_FRACTION, check_band, decide_entry

    head, lexicon = flagger.model, flagger.lexicon
    sentences = list(flagger.nlp("Vi spillede kort. Han var stille.").sents)
    widened = [c for c in lexicon.urgent_categories if head.alert_[c] * CHECK_FRACTION < head.check_[c]]
    assert widened, "the shipped model has an urgent category whose trained check threshold is above the floor"

    def bands(category: str, score: float) -> list[tuple[str, str]]:
        proba = np.zeros((len(sentences), len(head.categories)), np.float32)
        proba[1, head.categories.index(category)] = score
        return [(f.category, f.band) for f in decide_entry(head, proba, sentences, {}, lexicon)]

    for category in widened:
        floor = head.alert_[category] * CHECK_FRACTION
        assert check_band(head, category) == floor
        assert bands(category, head.alert_[category]) == [(category, "alert")]
        assert bands(category, floor * 1.05) == [(category, "check")]  # below the trained check threshold: shown
        assert bands(category, floor * 0.95) == []


def test_a_project_sets_how_far_below_the_alert_threshold_its_check_band_reaches(tmp_path, flagger):
    """`[flagging] check_fraction = 1.0`: only the band the training chose; the same score the default shows in
    "Tjek disse" is shown nowhere, and what is an alert does not change."""
    import numpy as np

    from qualpipe.flagging.flagger import CHECK_FRACTION
    from qualpipe.project import Project

    root = tmp_path / "p"
    root.mkdir()
    (root / "qualpipe.toml").write_text("[flagging]\ncheck_fraction = 1.0\n", encoding="utf-8")
    with Project.init(root) as project:
        configured = project.engines.flagger()
    head, lexicon = flagger.model, flagger.lexicon
    category = next(c for c in lexicon.urgent_categories if head.alert_[c] * CHECK_FRACTION < head.check_[c])
    sentences = list(flagger.nlp("Vi spillede kort. Han var stille.").sents)

    def bands(engine, score: float) -> list[tuple[str, str]]:
        proba = np.zeros((len(sentences), len(head.categories)), np.float32)
        proba[1, head.categories.index(category)] = score
        read = ([sentences], [None], [(None, {}, {})], proba)
        return [(f.category, f.band) for f in engine._decide_learned(read, [False])[0]]

    below_trained_band = head.alert_[category] * CHECK_FRACTION * 1.05
    assert bands(flagger, below_trained_band) == [(category, "check")]
    assert bands(configured, below_trained_band) == []
    assert bands(configured, head.check_[category] * 1.01) == [(category, "check")]
    assert bands(configured, head.alert_[category]) == bands(flagger, head.alert_[category]) == [(category, "alert")]


@pytest.mark.parametrize(
    "text, category",
    [
        ("Super nice day at the beach. Then he told me that his dad hits him with a belt when he is drunk.",
         "vold_overgreb"),
        ("She said her stepdad touches her at night and that it is their secret.", "vold_overgreb"),
        ("She was really down today. She said she wants to die and has been cutting her arms.", "selvskade"),
    ],
)
def test_a_disclosure_written_in_english_is_an_alert_or_in_the_check_band(flagger, text, category):
    """A volunteer who writes English, or a child quoted in English: the guide's signs hold in any language."""
    assert category in {f.category for f in flagger.flag_entries([text])[0] if f.band in ("alert", "check")}


def test_a_game_won_in_english_is_no_violence(flagger):
    flags = flagger.flag_entries(["We played Uno and she beat me three times in a row, she was so proud."])[0]
    assert "vold_overgreb" not in {f.category for f in flags}
