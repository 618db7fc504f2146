"""Codes and topics linked back to cases, speaker roles, kinds of text and weeks, as pandas DataFrames."""

from __future__ import annotations

import json

import pandas as pd

from qualpipe.errors import UserError

GROUPINGS = ("case", "role", "kind", "week", "month")
_COLUMN = {"case": "case_id", "role": "role", "kind": "kind", "week": "week", "month": "month"}

# A segment's codes: a human's where a human coded or reviewed it, the machine's otherwise.
EFFECTIVE_CODES = """
    SELECT segment_id, code, 'human' AS source FROM codings WHERE source = 'human'
    UNION
    SELECT segment_id, code, 'machine' AS source FROM codings WHERE source = 'machine' AND segment_id NOT IN (
        SELECT segment_id FROM codings WHERE source = 'human' UNION SELECT segment_id FROM reviews)
"""


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with None (not NaN) where a value is missing, ready for JSON, CSV or a table."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def iso_weeks(dates: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(dates, errors="coerce", format="ISO8601")
    calendar = parsed.dt.isocalendar()
    weeks = calendar["year"].astype("string") + "-W" + calendar["week"].astype("string").str.zfill(2)
    return weeks.fillna("unknown")


def segment_frame(store, case_id: str | None = None) -> pd.DataFrame:
    """Every current segment (of one case, if given) with what it is linked to: case, role, kind, date, week, month."""
    sql = "SELECT id AS segment_id, document_id, case_id, role, kind, date, start, end FROM current_segments"
    rows = store.query(sql + " WHERE case_id = ?", (case_id,)) if case_id else store.query(sql)
    frame = pd.DataFrame([dict(r) for r in rows],
                         columns=["segment_id", "document_id", "case_id", "role", "kind", "date", "start", "end"])
    frame["week"] = iso_weeks(frame["date"])
    frame["month"] = frame["date"].str[:7].fillna("unknown")
    frame["case_id"] = frame["case_id"].fillna("unknown")
    return frame


def _check(by: str) -> str:
    if by not in GROUPINGS:
        raise UserError(f"--by {by}: unknown grouping; use one of {', '.join(GROUPINGS)}")
    return _COLUMN[by]


def _shares(linked: pd.DataFrame, segments: pd.DataFrame, column: str, keys: list[str]) -> pd.DataFrame:
    """Segments per (group, keys) and their share of the group's segments."""
    totals = segments.groupby(column).size().rename("group_segments")
    counts = (linked.groupby([column, *keys]).segment_id.nunique().rename("segments").reset_index()
              .join(totals, on=column))
    counts["share"] = (counts["segments"] / counts["group_segments"]).round(4)
    return counts.rename(columns={column: "group"}).sort_values(["group", "segments", *keys],
                                                                ascending=[True, False, *[True] * len(keys)],
                                                                kind="stable").reset_index(drop=True)


def codes_by(
    store, codebook, by: str, case_id: str | None = None, *, include_interviewer: bool = False
) -> pd.DataFrame:
    """Codes per group: group, code, label (from `codebook`), segments coded, share of the group's codable segments
    (the interviewer's only with `include_interviewer`).

    A segment counts a human's codes where a human coded or reviewed it, the machine's otherwise."""
    column = _check(by)
    segments = segment_frame(store, case_id)
    if not include_interviewer:
        segments = segments[segments.role != "interviewer"]
    # One case's report reads that case's codes only, not the whole store's.
    sql, params = (
        (
            f"SELECT * FROM ({EFFECTIVE_CODES}) WHERE segment_id IN (SELECT id FROM segments WHERE case_id = ?)",
            (case_id,),
        )
        if case_id
        else (EFFECTIVE_CODES, ())
    )
    codes = pd.DataFrame([dict(r) for r in store.query(sql, params)], columns=["segment_id", "code", "source"])
    linked = codes.merge(segments, on="segment_id")
    frame = _shares(linked, segments, column, ["code"])
    labels = {c.id: c.label_da for c in codebook.codes}
    frame.insert(2, "label", frame["code"].map(labels).fillna(frame["code"]))
    return frame


def topics_by(store, by: str, run_id: int, case_id: str | None = None) -> pd.DataFrame:
    """Topics of a run per group: group, topic, label, theme, segments, share of the group's segments in the run."""
    column = _check(by)
    assigned = pd.DataFrame(
        [dict(r) for r in store.query("SELECT segment_id, topic FROM segment_topics WHERE run_id = ?", (run_id,))],
        columns=["segment_id", "topic"],
    )
    if assigned.empty:
        raise UserError(f"topic run {run_id}: no assignments; see 'qualpipe topics list'")
    segments = segment_frame(store, case_id).merge(assigned[["segment_id"]], on="segment_id")
    frame = _shares(assigned.merge(segments, on="segment_id"), segments, column, ["topic"])
    topics = topic_rows(store, run_id)
    frame.insert(2, "label", frame["topic"].map({t["topic"]: t["label"] for t in topics}))
    frame.insert(3, "theme", frame["topic"].map({t["topic"]: t["theme"] for t in topics}))
    frame.insert(4, "name", frame["topic"].map({t["topic"]: topic_name(t) for t in topics}))
    return frame


def topic_name(topic: dict) -> str:
    """A short readable name: id, three top words and the codebook theme it matches, if any."""
    words = ", ".join(topic["words"][:3]) or "outliers"
    return f"{topic['topic']}: {words}" + (f" [{topic['theme']}]" if topic.get("theme") else "")


def topic_rows(store, run_id: int) -> list[dict]:
    rows = store.query(
        "SELECT topic, size, label, words, theme, theme_score, representative FROM topics WHERE run_id = ? ORDER BY "
        "topic",
        (run_id,),
    )
    return [
        {**dict(r), "words": json.loads(r["words"]), "representative": json.loads(r["representative"] or "[]")}
        for r in rows
    ]


def quote(store, pseudonyms, document_id: int, start: int, end: int) -> str:
    """original[start:end] of a stored document, pseudonymised when `pseudonyms` is given."""
    if pseudonyms is not None:
        return pseudonyms.span_text(document_id, start, end)
    return store.document_text(document_id)[start:end]


def topic_table(store, run_id: int, pseudonyms=None) -> pd.DataFrame:
    """One row per topic: id, size, label, theme and its share, top words, representative segments (their text
    pseudonymised when `pseudonyms` is given)."""
    segments = segment_frame(store).set_index("segment_id")
    records = []
    for topic in topic_rows(store, run_id):
        quotes = []
        for segment_id in topic["representative"]:
            if segment_id not in segments.index:
                continue  # superseded since the run
            seg = segments.loc[segment_id]
            quotes.append(quote(store, pseudonyms, int(seg.document_id), int(seg.start), int(seg.end)))
        records.append(
            {
                "topic": topic["topic"],
                "size": topic["size"],
                "label": topic["label"],
                "theme": topic["theme"],
                "theme_share": topic["theme_score"],
                "words": ", ".join(topic["words"]),
                "representative": quotes,
            }
        )
    return pd.DataFrame(records, columns=["topic", "size", "label", "theme", "theme_share", "words", "representative"])
