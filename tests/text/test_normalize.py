"""Cleaning is non-destructive: every cleaned character maps back to the original text."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from qualpipe.ingest.transcripts import Turn, parse_plain_transcript
from qualpipe.text.nlp import load_nlp
from qualpipe.text.normalize import filler_pattern, normalize_span
from qualpipe.text.roles import RoleResolver
from qualpipe.text.segment import Cleaning, segment_turns

FILLERS = filler_pattern(["øh", "øhm", "hmm"])
PIECES = st.sampled_from([
    "Hun", "glæder", "sig", "å", "a\u030a", "Ø", "e\u0301", "øh,", "øhm", "hmm...", "[00:03:12]", "00:03:12",
    "(01:02)", ".", "!", "?", ",", " ", "  ", "\n", "\n\n", "\t", "I:", "Mor:", "Barn (10 år):", "\"", "- ", "10.",
    "bl.a.", "kl.", "<v Mor>", "</v>", "Det", "var", "svært",
])
TEXTS = st.lists(PIECES, min_size=1, max_size=40).map(lambda parts: "".join(
    p if i == 0 or p in " \n\n\t" else (" " + p if i % 3 else p) for i, p in enumerate(parts)))


def test_cleaning_removes_timestamps_fillers_and_folds_whitespace():
    source = "[00:03:12]  Øh, hun var\n\nglad, hmm... meget glad."
    cleaned = normalize_span(source, 0, len(source), fillers=FILLERS)
    assert cleaned.text == "hun var glad, meget glad."
    start, end = cleaned.to_original(0, 3)
    assert source[start:end] == "hun"


def test_decomposed_letters_are_composed_and_map_to_both_code_points():
    source = "Ga\u030ar du"
    cleaned = normalize_span(source, 0, len(source))
    assert cleaned.text == "Går du"
    assert cleaned.to_original(1, 2) == (1, 3)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_every_cleaned_character_comes_from_its_original_span(source):
    cleaned = normalize_span(source, 0, len(source), fillers=FILLERS)
    assert len(cleaned.text) == len(cleaned.starts) == len(cleaned.ends)
    previous_end = 0
    for char, start, end in zip(cleaned.text, cleaned.starts, cleaned.ends):
        original = source[start:end]
        assert start >= previous_end - 1 and start < end <= len(source)
        if char == " ":
            # A folded space stands for whitespace and whatever was removed inside it.
            assert normalize_span(original, 0, len(original), fillers=FILLERS).text == ""
        else:
            assert unicodedata.normalize("NFC", original) == char
        previous_end = end


@settings(max_examples=150, deadline=None)
@given(TEXTS)
def test_segment_offsets_round_trip_into_the_source(source):
    nlp = load_nlp("")
    turns = parse_plain_transcript(source, RoleResolver()) or [Turn(None, "unknown", 0, len(source))]
    drafts = segment_turns(source, turns, nlp, Cleaning(fillers=FILLERS))
    last_end = 0
    for draft in drafts:
        assert source[draft.start:draft.end] == draft.text
        assert last_end <= draft.start < draft.end
        assert draft.norm_text and draft.norm_text == draft.norm_text.strip()
        last_end = draft.end
