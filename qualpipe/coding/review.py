"""What an evaluator sees while reviewing: a segment in its context with the machine's codes, her decisions."""

from __future__ import annotations

from dataclasses import dataclass

from qualpipe.errors import UserError

CONTEXT_CHARS = 280


@dataclass(frozen=True)
class SegmentContext:
    segment_id: int
    case_id: str | None
    kind: str
    date: str | None
    role: str
    before: str  # the document's text just before the segment (pseudonymised unless identities are shown)
    text: str
    after: str
    machine_codes: tuple[tuple[str, float], ...]  # stored machine codes on the segment: (code, score), best first


@dataclass(frozen=True)
class Decision:
    segment_id: int
    case_id: str | None
    code: str
    decision: str  # "yes" (accepted or added: also her human code) or "no" (rejected)
    decided_at: str
    human_code: bool  # a human coding by the same coder exists for it
    text: str


def segment_context(store, segment_id: int, pseudonyms=None, width: int = CONTEXT_CHARS) -> SegmentContext:
    """The segment with up to `width` characters of its document on each side, cut at spaces."""
    rows = store.query("SELECT id, document_id, case_id, kind, date, role, start, end FROM current_segments "
                       "WHERE id = ?", (segment_id,))
    if not rows:
        raise UserError(f"segment {segment_id} is not in this project")
    s = rows[0]
    if pseudonyms is not None:
        text, start, end = pseudonyms.span(s["document_id"], s["start"], s["end"])
    else:
        text, start, end = store.document_text(s["document_id"]), s["start"], s["end"]
    before, after = text[max(0, start - width):start], text[end:end + width]
    if start > width and " " in before:
        before = "… " + before.split(" ", 1)[1]
    if end + width < len(text) and " " in after:
        after = after.rsplit(" ", 1)[0] + " …"
    codes = tuple((r["code"], r["score"] or 0.0) for r in store.query(
        "SELECT code, score FROM codings WHERE segment_id = ? AND source = 'machine' ORDER BY score DESC",
        (segment_id,)))
    return SegmentContext(s["id"], s["case_id"], s["kind"], s["date"], s["role"], before, text[start:end], after, codes)


def decisions_of(store, coder: str, pseudonyms=None, limit: int = 50) -> list[Decision]:
    """The coder's latest decisions, newest first, with the segment's text."""
    rows = store.query(
        "SELECT d.segment_id, d.code, d.decision, d.decided_at, s.case_id, s.document_id, s.start, s.end, s.text, "
        "EXISTS (SELECT 1 FROM codings c WHERE c.segment_id = d.segment_id AND c.code = d.code AND c.source = 'human' "
        "AND c.coder = d.coder) AS human FROM code_decisions d JOIN segments s ON s.id = d.segment_id "
        "WHERE d.coder = ? ORDER BY d.decided_at DESC LIMIT ?", (coder, limit))
    out = []
    for r in rows:
        text = pseudonyms.span_text(r["document_id"], r["start"], r["end"]) if pseudonyms is not None else r["text"]
        out.append(Decision(r["segment_id"], r["case_id"], r["code"], r["decision"], r["decided_at"], bool(r["human"]),
                            text))
    return out


def decided_segments(store, coder: str) -> int:
    """How many segments the coder has decided at least one code on."""
    return store.query("SELECT COUNT(DISTINCT segment_id) FROM code_decisions WHERE coder = ?", (coder,))[0][0]
