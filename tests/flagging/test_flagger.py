"""The flagger end to end: lexicon on inflected forms, exemplars beyond keywords, evidence kept."""

from __future__ import annotations

from conftest import concerns_of


def test_inflections_and_compounds_match(flagger):
    assert "aflysning" in concerns_of(flagger, "Der har været mange aflysninger.")
    assert "aflysning" in concerns_of(flagger, "Mor meldte afbud i morges.")
    assert "selvskade" in concerns_of(flagger, "Hun har tænkt på selvmord.")


def test_evidence_is_the_sentence_with_offsets_and_what_fired(flagger):
    text = "Vi bagte boller. Han fortalte, at far slog ham i går. Bagefter spillede vi kort."
    flag = flagger.flag_entries([text])[0][0]
    assert flag.category == "vold_overgreb" and flag.severity == "urgent"
    assert text[flag.start:flag.end] == flag.evidence == "Han fortalte, at far slog ham i går."
    assert "pattern 'slog ham'" in flag.fired_by


def test_concern_without_lexicon_words_is_caught_by_exemplars(flagger):
    text = "Han tog rester fra køleskabet med hjem i sin rygsæk, fordi der ikke var mad hjemme hos ham."
    flags = flagger.flag_entries([text])[0]
    assert any(f.category == "omsorgssvigt" for f in flags)


def test_exemplar_detector_alone_flags_a_phrasing_no_pattern_covers(flagger):
    """Straight from the detector: a sentence close to a self-harm example, with no pattern words."""
    X = flagger.embedder.encode(["Hun skrev i sin dagbog, at hun gerne vil forsvinde for evigt."])
    hits = flagger.detector.detect(X)[0]
    assert "selvskade" in [category for category, _, _ in hits]
    ordinary = flagger.embedder.encode(["Vi gik en tur i parken og fodrede ænderne."])
    assert flagger.detector.detect(ordinary)[0] == []


def test_a_calm_entry_has_no_flags(flagger):
    assert flagger.flag_entries(["Hyggeligt besøg. Vi bagte kage og spillede Uno. Intet at bemærke."])[0] == []
