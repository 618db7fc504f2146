"""Each Danish context rule: words read as a person reads them."""

from __future__ import annotations

import pytest

from conftest import concerns_of
from qualpipe.flagging.flagger import ConcernFlagger


@pytest.mark.parametrize("text, category", [
    ("Hun var ikke ked af det i dag.", "mistrivsel"),
    ("Der er ingen tegn på mistrivsel.", "mistrivsel"),
    ("Vi har aldrig aflyst et besøg.", "aflysning"),
    ("Han var slet ikke trist, snarere træt.", "mistrivsel"),
])
def test_negation_cancels_the_concern(flagger, text, category):
    assert category not in concerns_of(flagger, text)


def test_negation_stops_at_a_comma_or_men(flagger):
    assert "mistrivsel" in concerns_of(flagger, "Hun ville ikke lege, og hun græd det meste af tiden.")


def test_a_negation_inside_the_concern_phrase_is_part_of_it(flagger):
    """ConText reads "ikke overskud" and "ikke hjemme" as the concern itself, not as its negation."""
    lexicon_only = ConcernFlagger(flagger.nlp, flagger.embedder)
    assert concerns_of(lexicon_only, "Jeg havde ikke overskud til besøget i dag.").get("frivillig_belastning")
    assert concerns_of(lexicon_only, "Drengen var ikke hjemme, da jeg kom.").get("aflysning")
    assert concerns_of(flagger, "Jeg havde ikke overskud til besøget i dag.").get("frivillig_belastning")


@pytest.mark.parametrize("text", [
    "Hvis besøget skulle blive aflyst, ringer vi til ham.",
    "I tilfælde af afbud giver vi besked i god tid.",
])
def test_hypotheticals_are_not_concerns(flagger, text):
    assert "aflysning" not in concerns_of(flagger, text)


def test_conditional_wish_to_be_dead_is_still_urgent(flagger):
    assert concerns_of(flagger, "Han sagde, at det ville være bedre, hvis han var død.").get("selvskade") == "urgent"


@pytest.mark.parametrize("text", [
    "Sidste måned var hun ked af det, men nu har hun fået en ny veninde.",
    "Hun blev drillet før jul, men det er stoppet nu.",
    "Der var en konflikt i klassen, men den er blevet løst.",
])
def test_resolved_past_worries_are_not_flagged(flagger, text):
    assert concerns_of(flagger, text) == {}


def test_a_past_worry_without_resolution_still_counts(flagger):
    assert "mistrivsel" in concerns_of(flagger, "Sidste uge græd hun hver gang, hun skulle hjem.")


def test_the_lexicon_detector_counts_a_past_worry_without_resolution(flagger):
    lexicon_only = ConcernFlagger(flagger.nlp, flagger.embedder)
    assert "mistrivsel" in concerns_of(lexicon_only, "Sidste uge græd hun hver gang, hun skulle hjem.")


@pytest.mark.parametrize("text", [
    "Vi spillede Uno, og hun slog katten i Uno to gange.",
    "Han slog en kolbøtte i sofaen.",
    "Hun slog sig på knæet, da hun væltede på kælken.",
    "Han slog sømmene i selv og var stolt.",
])
def test_innocent_senses_of_slaa_are_not_violence(flagger, text):
    assert "vold_overgreb" not in concerns_of(flagger, text)


def test_violence_against_the_child_is_urgent(flagger):
    assert concerns_of(flagger, "Hun fortalte, at stedfar slår hende, når han er fuld.") == {"vold_overgreb": "urgent"}


def test_another_persons_state_is_not_the_childs_wellbeing(flagger):
    assert "mistrivsel" not in concerns_of(flagger, "Jeg blev ked af det på hans vegne.")
    assert "mistrivsel" not in concerns_of(flagger, "Det var et godt besøg, men jeg er presset og sover dårligt.")


def test_volunteer_strain_needs_the_volunteer_as_subject(flagger):
    assert "frivillig_belastning" not in concerns_of(flagger, "Emma var træt efter skolen, så vi så film.")
    assert "frivillig_belastning" in concerns_of(
        flagger, "Vi er helt udkørte og overvejer at stoppe som venskabsfamilie."
    )


def test_quarrels_between_children_are_not_adult_conflict(flagger):
    assert "konflikt" not in concerns_of(flagger, "Drengene skændtes om, hvem der skulle sidde foran.")


@pytest.mark.xfail(strict=True, reason="known miss of the learned detector since the afternoon of 2026-11-30 (the "
                   "mean blend, eight more train writers): konflikt recall 0.44-0.56 on the test split, 0.62 before "
                   "(README 'Measured'); the parents' quarrel was flagged before. Strict: it fails once fixed.")
def test_parents_quarrelling_in_front_of_the_child_is_conflict(flagger):
    # The guide's table: conflict between the adults around the child is `konflikt`, `watch` for friction (the test
    # asked `high` until the afternoon of 2026-11-30; the guide keeps `high` for a threat to end the match).
    assert concerns_of(flagger, "Far og mor skændtes højlydt, mens hun så på.").get("konflikt") == "watch"


@pytest.mark.xfail(strict=True, reason="known miss of the learned detector: konflikt recall 0.56 on the test split "
                   "(README 'Measured'); a parent's threat to end the match, the guide's own 'high', is not flagged. "
                   "Strict: it fails once fixed.")
def test_a_parent_threatening_to_end_the_match_is_high_conflict(flagger):
    text = "Mor sagde i døren, at hun vil stoppe besøgene, hvis vi bliver ved med at give ham slik."
    assert concerns_of(flagger, text).get("konflikt") == "high"
