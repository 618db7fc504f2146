"""What the store hands out: small frozen records that travel between the stages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    id: int
    document_id: int
    doc_key: str
    kind: str
    case_id: str | None
    date: str | None
    speaker: str | None
    role: str
    language: str | None
    start: int
    end: int
    text: str
    norm_text: str
    turn_id: int | None = None  # the transcript turn (or None: a logbook entry is one unit)


@dataclass(frozen=True)
class Status:
    cases: int
    documents: dict[str, int]
    superseded_versions: int
    segments_by_role: dict[str, int]
    segments_by_language: dict[str, int]
    segments_by_kind: dict[str, int]

    @property
    def segments(self) -> int:
        return sum(self.segments_by_kind.values())
