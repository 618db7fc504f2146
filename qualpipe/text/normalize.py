"""Non-destructive cleaning: normalised text that maps back to offsets in the original."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

# [00:03:12], (00:03), 00:03:12.500, 1:02:03 — the forms transcription tools and typists write.
TIMESTAMP_RE = re.compile(
    r"[\[(]?\b\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?\b[\])]?"
)
# WebVTT voice/class/italic tags and inline cue timestamps: <v Mor>, </v>, <i>, <00:00:01.000>.
MARKUP_RE = re.compile(r"</?(?:v|c|i|b|u|lang|ruby|rt)(?:[ .][^>]*)?>|<\d{1,2}:\d{2}(?::\d{2})?[.,]\d{3}>")
WHITESPACE_RE = re.compile(r"\s+")
# How æ/ø/å are written without them (keyboards, code ids, people who type ASCII).
DANISH_LETTERS_SPELT_OUT = {"æ": "ae", "ø": "oe", "å": "aa"}
_SPELT_OUT_BOTH_CASES = {
    **DANISH_LETTERS_SPELT_OUT, **{k.upper(): v.capitalize() for k, v in DANISH_LETTERS_SPELT_OUT.items()}
}


@dataclass(frozen=True)
class Edit:
    """Replace original[start:end] with `replacement`."""

    start: int
    end: int
    replacement: str = ""


@dataclass(frozen=True)
class NormalizedText:
    """A cleaned string plus, for every character, the original span it came from.

    Character i of `text` came from original[starts[i]:ends[i]]: one character for text
    that was kept, the whole replaced run for a replacement (an NFC composition, a
    whitespace run folded to one space).
    """

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalised text to a half-open span of the original."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span {start}:{end} is empty or outside text of length {len(self.text)}")
        return self.starts[start], self.ends[end - 1]

    def from_original(self, start: int, end: int) -> tuple[int, int]:
        """The span of this text that covers original[start:end] (a replacement is taken whole)."""
        first = next((i for i, e in enumerate(self.ends) if e > start), len(self.text))
        last = next((i for i in range(len(self.starts) - 1, -1, -1) if self.starts[i] < end), -1)
        return (first, last + 1) if last >= first else (first, first)


def apply_edits(original: str, edits: Iterable[Edit], base: int = 0) -> NormalizedText:
    """Apply non-overlapping edits to `original`; offsets in the result are `base`-shifted.

    Overlapping edits are resolved in favour of the earliest (then longest) one.
    """
    chosen: list[Edit] = []
    last_end = 0
    for edit in sorted(edits, key=lambda e: (e.start, -(e.end - e.start))):
        if edit.start < last_end or edit.start == edit.end:
            continue
        chosen.append(edit)
        last_end = edit.end
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for edit in chosen + [Edit(len(original), len(original))]:
        # kept text in slices, not per character: this runs on every turn, entry and batch line
        out.append(original[pos:edit.start])
        starts.extend(range(base + pos, base + edit.start))
        ends.extend(range(base + pos + 1, base + edit.start + 1))
        out.append(edit.replacement)
        starts.extend([base + edit.start] * len(edit.replacement))
        ends.extend([base + edit.end] * len(edit.replacement))
        pos = edit.end
    return NormalizedText("".join(out), tuple(starts), tuple(ends))


def compose(first: NormalizedText, second: NormalizedText) -> NormalizedText:
    """Chain two normalisations: `second` was computed on `first.text` with base 0."""
    starts = tuple(first.starts[s] for s in second.starts)
    ends = tuple(first.ends[e - 1] for e in second.ends)
    return NormalizedText(second.text, starts, ends)


def nfc_edits(text: str) -> list[Edit]:
    """Edits that turn decomposed sequences (a + combining ring) into NFC characters."""
    if unicodedata.is_normalized("NFC", text):
        return []
    edits: list[Edit] = []
    i = 0
    n = len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        chunk = text[i:j]
        composed = unicodedata.normalize("NFC", chunk)
        if composed != chunk:
            edits.append(Edit(i, j, composed))
        i = j
    return edits


def pattern_edits(text: str, pattern: re.Pattern[str], replacement: str = "") -> list[Edit]:
    return [Edit(m.start(), m.end(), replacement) for m in pattern.finditer(text)]


def filler_pattern(fillers: Sequence[str]) -> re.Pattern[str] | None:
    """A pattern that removes filler words and the comma/space that belongs to them."""
    words = sorted({f.strip() for f in fillers if f.strip()}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)(?:\s*[,.…]+)?", re.IGNORECASE)


def whitespace_edits(text: str) -> list[Edit]:
    """Collapse every whitespace run to one space and drop it at the ends."""
    edits: list[Edit] = []
    for m in WHITESPACE_RE.finditer(text):
        at_edge = m.start() == 0 or m.end() == len(text)
        if at_edge:
            edits.append(Edit(m.start(), m.end(), ""))
        elif m.group() != " ":
            edits.append(Edit(m.start(), m.end(), " "))
    return edits


def normalize_span(
    source: str,
    start: int,
    end: int,
    *,
    remove_timestamps: bool = True,
    remove_markup: bool = True,
    fillers: re.Pattern[str] | None = None,
) -> NormalizedText:
    """Clean source[start:end]; `origin` offsets point into `source` itself."""
    piece = source[start:end]
    result = apply_edits(piece, nfc_edits(piece), base=start)
    removals: list[Edit] = []
    if remove_markup:
        removals += pattern_edits(result.text, MARKUP_RE)
    if remove_timestamps:
        removals += pattern_edits(result.text, TIMESTAMP_RE)
    if fillers is not None:
        removals += pattern_edits(result.text, fillers)
    if removals:
        result = compose(result, apply_edits(result.text, removals))
    result = compose(result, apply_edits(result.text, whitespace_edits(result.text)))
    return result


def joined_with_offsets(pieces: Sequence[str]) -> tuple[str, list[int]]:
    """The text joined from one piece per original character (empty where it was left out, longer where it was
    doubled or spelt out), with where each offset of the original went (len(pieces) + 1 of them)."""
    where, length = [], 0
    for piece in pieces:
        where.append(length)
        length += len(piece)
    where.append(length)
    return "".join(pieces), where


def retype(text: str, *, lower: bool = False, keep: str | None = None, spell_out: bool = False
           ) -> tuple[str, list[int]]:
    """`text` as another kind of writer types it, character by character, with where each offset of `text` went
    (len(text) + 1 of them), so that labelled spans can be carried over.

    `lower`: in lower case. `keep`: if given, only letters, digits, white space and these characters are kept
    (`""`: no punctuation at all, so "kl. 17" is "kl 17"; `","`: commas only). `spell_out`: æ/ø/å as ae/oe/aa.
    The training of the concern detector and of the sentence boundary model both retype with this.
    """
    pieces = []
    for ch in text:
        if keep is not None and not (ch.isalnum() or ch.isspace() or ch in keep):
            ch = ""
        if lower:
            ch = ch.lower()
        if spell_out:
            ch = _SPELT_OUT_BOTH_CASES.get(ch, ch)
        pieces.append(ch)
    return joined_with_offsets(pieces)
