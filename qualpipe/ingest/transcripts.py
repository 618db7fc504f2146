"""Interview transcripts (.txt, .docx, .vtt, .srt) parsed into speaker turns with source offsets."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from qualpipe.errors import InputError
from qualpipe.text.roles import RoleResolver

_TS = r"[\[(]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?[\])]?"
# A speaker label at the start of a line: optional timestamps, 1-4 words (a parenthesis such as
# "(10 år)" allowed), an optional timestamp, then a colon followed by space or the line's end.
_LABEL_RE = re.compile(
    rf"[ \t]*(?:{_TS}[ \t]*)*"
    r"(?P<label>[^\W\d_][\w.'/-]*(?:[ \t]+[\w.'/-]+){0,3}(?:[ \t]*\([^()\n]{1,40}\))?)"
    rf"[ \t]*(?:{_TS}[ \t]*)?:(?=\s|$)[ \t]*"
)
_TIMING_RE = re.compile(r"^[^\n]*-->[^\n]*$", re.MULTILINE)
_SRT_LABEL_RE = re.compile(
    r"^[ \t]*(?:-[ \t]*)?(?P<label>[^\W\d_][\w.'/-]*(?:[ \t]+[\w.'/-]+){0,2}(?:[ \t]*\([^()\n]{1,40}\))?)[ \t]*:[ \t]+"
)
_VOICE_OPEN_RE = re.compile(r"^<v(?:\.[\w.-]+)?[ \t]+[^>]*>")


@dataclass(frozen=True)
class Turn:
    """One speaker's stretch of talk: source[start:end], minus the `drop` spans (cue headers)."""

    speaker: str | None
    role: str
    start: int
    end: int
    drop: tuple[tuple[int, int], ...] = ()


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for line in text.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def parse_plain_transcript(text: str, roles: RoleResolver) -> list[Turn]:
    """Split a plain-text transcript into turns at speaker labels.

    A candidate label counts when it is a known role word, a configured speaker, or recurs as a
    label in the file: so "Det var sådan: ..." in running speech does not start a turn.
    """
    lines = _line_spans(text)
    candidates: list[tuple[int, re.Match[str] | None]] = []
    counts: Counter[str] = Counter()
    for index, (start, end) in enumerate(lines):
        match = _LABEL_RE.match(text, start, end)
        candidates.append((index, match))
        if match:
            counts[match.group("label").strip().lower()] += 1

    def accepted(match: re.Match[str]) -> bool:
        label = match.group("label").strip()
        return roles.is_known(label) or roles.configured(label) is not None or counts[label.lower()] >= 2

    turns: list[Turn] = []
    speaker: str | None = None
    turn_start: int | None = None
    turn_end = 0

    def close() -> None:
        if turn_start is not None:
            s, e = _trim(text, turn_start, turn_end)
            if s < e:
                turns.append(Turn(speaker, roles.role_of(speaker), s, e))

    for index, match in candidates:
        line_start, line_end = lines[index]
        if match and accepted(match):
            close()
            speaker = match.group("label").strip()
            turn_start, turn_end = match.end(), line_end
        else:
            if turn_start is None:
                turn_start = line_start
            if text[line_start:line_end].strip():
                turn_end = line_end
    close()
    return turns


def read_docx_text(path: Path) -> str:
    """The paragraphs (and two-column table rows as "speaker: text") of a .docx, one per line."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise InputError(path, f"is not a readable Word .docx file ({type(exc).__name__}); open and re-save it in Word")
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [c.text.strip() for c in row.cells]
                cells = [c for i, c in enumerate(cells) if c and c not in cells[:i]]
                if len(cells) >= 2:
                    lines.append(f"{cells[0]}: {' '.join(cells[1:])}")
                elif cells:
                    lines.append(cells[0])
        else:
            lines.append(block.text)
    text = "\n".join(lines).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError(path, "the Word document holds no text; check that it is the right file")
    return text


def _cue_blocks(text: str) -> list[tuple[int, int, int]]:
    """(header_start, payload_start, payload_end) for every cue, found by its timing line."""
    blocks = []
    for m in _TIMING_RE.finditer(text):
        header_start = m.start()
        # An identifier line directly above the timing line belongs to the header.
        prev_nl = text.rfind("\n", 0, max(m.start() - 1, 0))
        if m.start() > 0 and text[m.start() - 1] == "\n":
            above = text[prev_nl + 1 : m.start() - 1]
            if above.strip() and "-->" not in above:
                header_start = prev_nl + 1
        payload_start = m.end() + 1 if m.end() < len(text) else m.end()
        blank = text.find("\n\n", payload_start)
        payload_end = len(text) if blank == -1 else blank
        blocks.append((header_start, min(payload_start, payload_end), payload_end))
    return blocks


def _cue_speaker(text: str, start: int, end: int, voice: str | None) -> tuple[str | None, int]:
    """The cue's speaker and where its spoken text starts (after a voice tag or a "Name:" prefix)."""
    payload = text[start:end]
    if voice:
        tag = _VOICE_OPEN_RE.match(payload)
        return voice.strip(), start + (tag.end() if tag else 0)
    label = _SRT_LABEL_RE.match(payload)
    if label:
        return label.group("label").strip(), start + label.end()
    return None, start


def turns_from_cues(text: str, voices: list[str | None], path: Path, roles: RoleResolver) -> list[Turn]:
    """Merge consecutive cues of one speaker into a turn; cue headers between them are dropped."""
    blocks = _cue_blocks(text)
    if len(blocks) != len(voices):
        raise InputError(
            path, f"found {len(blocks)} cue timings but the parser read {len(voices)} cues; check the file's cue layout"
        )
    turns: list[Turn] = []
    current: dict | None = None
    for (header_start, payload_start, payload_end), voice in zip(blocks, voices):
        speaker, content_start = _cue_speaker(text, payload_start, payload_end, voice)
        if speaker is None and current is not None:
            speaker = current["speaker"]
        content_start, content_end = _trim(text, content_start, payload_end)
        if content_start >= content_end:
            continue
        if current is not None and current["speaker"] == speaker:
            current["drop"].append((current["end"], content_start))
            current["end"] = content_end
            continue
        if current is not None:
            turns.append(_turn_from(current, roles))
        current = {"speaker": speaker, "start": content_start, "end": content_end, "drop": []}
    if current is not None:
        turns.append(_turn_from(current, roles))
    return turns


def _turn_from(current: dict, roles: RoleResolver) -> Turn:
    return Turn(
        current["speaker"], roles.role_of(current["speaker"]), current["start"], current["end"], tuple(current["drop"])
    )


def parse_vtt(text: str, path: Path, roles: RoleResolver) -> list[Turn]:
    import webvtt
    from webvtt.errors import MalformedFileError

    try:
        captions = webvtt.from_string(text).captions
    except (MalformedFileError, ValueError, IndexError) as exc:
        raise InputError(path, f"is not valid WebVTT ({exc}); it must start with 'WEBVTT' and hold timed cues")
    if not captions:
        raise InputError(path, "is WebVTT without any cues; export the transcript again")
    return turns_from_cues(text, [c.voice for c in captions], path, roles)


def parse_srt(text: str, path: Path, roles: RoleResolver) -> list[Turn]:
    import srt

    try:
        subtitles = list(srt.parse(text))
    except (srt.SRTParseError, ValueError) as exc:
        raise InputError(path, f"is not valid SubRip .srt ({type(exc).__name__}); check the cue numbering and timings")
    if not subtitles:
        raise InputError(path, "is an .srt without any cues; export the transcript again")
    return turns_from_cues(text, [None] * len(subtitles), path, roles)


@dataclass(frozen=True)
class TranscriptFormat:
    """How one kind of transcript file becomes turns: `read` gives its text (None: the file's bytes, decoded
    with the encoding detected), `parse` splits that text into speaker turns."""

    parse: Callable[[str, Path, RoleResolver], list[Turn]]
    read: Callable[[Path], str] | None = None


def _plain(text: str, path: Path, roles: RoleResolver) -> list[Turn]:
    return parse_plain_transcript(text, roles)


# The transcript formats by file suffix. A new format is a parser (and, for a binary file, a reader) plus one line.
TRANSCRIPT_FORMATS: dict[str, TranscriptFormat] = {
    ".txt": TranscriptFormat(_plain),
    ".docx": TranscriptFormat(_plain, read=read_docx_text),
    ".vtt": TranscriptFormat(parse_vtt),
    ".srt": TranscriptFormat(parse_srt),
}
