"""Turns into sentence segments whose offsets point into the stored source text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from qualpipe.ingest.transcripts import Turn
from qualpipe.text.normalize import Edit, NormalizedText, apply_edits, compose, normalize_span

if TYPE_CHECKING:
    from spacy.language import Language


@dataclass(frozen=True)
class Cleaning:
    remove_timestamps: bool = True
    fillers: object = None  # a compiled filler pattern, or None


@dataclass(frozen=True)
class SegmentDraft:
    """A sentence before it is stored: source[start:end] == text; norm_text is the cleaned form."""

    turn_index: int
    start: int
    end: int
    text: str
    norm_text: str


def clean_turn(source: str, turn: Turn, cleaning: Cleaning) -> NormalizedText:
    """The turn's normalised text; cue headers between merged cues become a space."""
    if turn.drop:
        piece = source[turn.start:turn.end]
        drops = [Edit(a - turn.start, b - turn.start, " ") for a, b in turn.drop]
        first = apply_edits(piece, drops, base=turn.start)
        second = normalize_span(
            first.text, 0, len(first.text), remove_timestamps=cleaning.remove_timestamps, fillers=cleaning.fillers
        )
        return compose(first, second)
    return normalize_span(
        source, turn.start, turn.end, remove_timestamps=cleaning.remove_timestamps, fillers=cleaning.fillers
    )


def segment_turns(source: str, turns: Sequence[Turn], nlp: Language, cleaning: Cleaning) -> list[SegmentDraft]:
    cleaned = [clean_turn(source, t, cleaning) for t in turns]
    drafts: list[SegmentDraft] = []
    for turn_index, (norm, doc) in enumerate(zip(cleaned, nlp.pipe(n.text for n in cleaned))):
        for sent in doc.sents:
            sentence = sent.text.strip()
            if not any(ch.isalnum() for ch in sentence):
                continue
            lead = len(sent.text) - len(sent.text.lstrip())
            s, e = sent.start_char + lead, sent.start_char + lead + len(sentence)
            start, end = norm.to_original(s, e)
            drafts.append(SegmentDraft(turn_index, start, end, source[start:end], sentence))
    return drafts
