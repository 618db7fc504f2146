"""One case week by week: every logbook entry with its concerns and who handled them, and concerns and themes
per ISO week (the web app's case page)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from qualpipe.errors import UserError
from qualpipe.flagging.alerts import iso_week
from qualpipe.flagging.lexicon import load_lexicon, severity_rank


@dataclass(frozen=True)
class TimelineAlert:
    id: int
    category: str
    label: str
    severity: str
    band: str
    reason: str
    start: int  # the evidence in the entry's (shown) text
    end: int
    handled_as: str | None
    handled_by: str | None
    handled_at: str | None
    note: str | None


@dataclass(frozen=True)
class TimelineEntry:
    document_id: int
    entry_id: str  # as in the logbook file (alerts add ENTRY_ID)
    date: str
    week: str
    author: str
    text: str  # pseudonymised unless identities are shown
    alerts: tuple[TimelineAlert, ...]
    themes: tuple[str, ...]  # theme labels coded on the entry

    def pieces(self) -> list[tuple[str, bool]]:
        """The text cut at the alerts' evidence: (piece, is evidence), in order, evidence never overlapping."""
        marks, out, at = sorted((a.start, a.end) for a in self.alerts if a.end > a.start), [], 0
        for start, end in marks:
            start = max(start, at)
            if start >= end:
                continue
            out += [(self.text[at:start], False), (self.text[start:end], True)]
            at = end
        out.append((self.text[at:], False))
        return [p for p in out if p[0]]


@dataclass(frozen=True)
class GridRow:
    kind: str  # "concern" or "theme"
    label: str
    cells: tuple[tuple[int, str], ...]  # per week: (count, severity of the worst concern or "")


@dataclass
class CaseTimeline:
    case_id: str
    weeks: list[str] = field(default_factory=list)  # every ISO week from the first to the last dated text
    entries: list[TimelineEntry] = field(default_factory=list)  # newest first
    rows: list[GridRow] = field(default_factory=list)  # concerns, then themes, week by week
    cancellations: int = 0
    interviews: int = 0


def _weeks(dates: list[str]) -> list[str]:
    days = sorted(dt.date.fromisoformat(d) for d in dates if d)
    if not days:
        return []
    monday = days[0] - dt.timedelta(days=days[0].weekday())
    weeks = []
    while monday <= days[-1]:
        weeks.append(iso_week(monday.isoformat()))
        monday += dt.timedelta(weeks=1)
    return weeks


def case_ids(store) -> list[str]:
    return [r[0] for r in store.query("SELECT case_id FROM cases ORDER BY case_id")]


def logbook_weeks(store) -> list[str]:
    """Every ISO week from the first to the last logbook entry, and any other week with alerts, newest first."""
    first, last = store.query("SELECT MIN(date), MAX(date) FROM documents WHERE kind = 'logbook' "
                              "AND superseded_at IS NULL")[0]
    weeks = set(_weeks([first, last]) if first else []) | {
        r[0] for r in store.query("SELECT DISTINCT week FROM alerts")
    }
    return sorted(weeks, reverse=True)


def case_timeline(
    store, case_id: str, labels: dict[str, str], theme_labels: dict[str, str], pseudonyms=None
) -> CaseTimeline:
    """The case's entries (text pseudonymised with `pseudonyms`, a CasePseudonyms, unless None) with their
    alerts, and concerns and themes per week. `labels` name concern categories, `theme_labels` codes."""
    docs = store.query(
        "SELECT id, doc_key, kind, date, author, text FROM documents WHERE case_id = ? "
        "AND superseded_at IS NULL ORDER BY date, id",
        (case_id,),
    )
    if not docs:
        raise UserError(f"case {case_id}: no documents in the store")
    if pseudonyms is not None:
        pseudonyms.warm([case_id])
    alerts: dict[int, list] = {}
    for a in store.query("SELECT * FROM alerts WHERE case_id = ? ORDER BY id", (case_id,)):
        alerts.setdefault(a["document_id"], []).append(a)
    themes: dict[int, set[str]] = {}
    per_week_themes: dict[tuple[str, str], set[int]] = {}
    for c in store.query(
        "SELECT DISTINCT s.id, s.document_id, s.date, c.code FROM codings c JOIN current_segments s "
        "ON s.id = c.segment_id WHERE s.case_id = ?",
        (case_id,),
    ):
        themes.setdefault(c["document_id"], set()).add(c["code"])
        if c["date"]:
            per_week_themes.setdefault((c["code"], iso_week(c["date"])), set()).add(c["id"])
    timeline = CaseTimeline(case_id, _weeks([d["date"] for d in docs]))
    timeline.interviews = sum(d["kind"] == "interview" for d in docs)
    concern_weeks: dict[tuple[str, str], list[str]] = {}
    for d in docs:
        if d["kind"] != "logbook":
            continue
        text, author = d["text"], d["author"] or ""
        views = []
        for a in alerts.get(d["id"], []):
            start, end = a["start"], a["end"]
            if pseudonyms is not None:
                _, start, end = pseudonyms.span(d["id"], start, end)
            views.append(
                TimelineAlert(
                    a["id"],
                    a["category"],
                    labels.get(a["category"], a["category"]),
                    a["severity"],
                    a["band"],
                    a["reason"],
                    start,
                    end,
                    a["handled_as"],
                    a["acked_by"],
                    a["acked_at"],
                    a["ack_note"],
                )
            )
            if d["date"] and a["band"] == "alert" and a["handled_as"] != "dismissed":
                concern_weeks.setdefault((a["category"], iso_week(d["date"])), []).append(a["severity"])
        if pseudonyms is not None:
            text = pseudonyms.span(d["id"], 0, len(text))[0]
            author = pseudonyms.pseudonymiser.pseudonymise(author, f"case:{case_id}").text if author else ""
        timeline.entries.append(
            TimelineEntry(
                d["id"],
                d["doc_key"].removeprefix("logbook:"),
                d["date"] or "",
                iso_week(d["date"]) if d["date"] else "",
                author,
                text,
                tuple(views),
                tuple(sorted(theme_labels.get(t, t) for t in themes.get(d["id"], ()))),
            )
        )
    timeline.entries.reverse()
    cancellation = load_lexicon().cancellation_category
    timeline.cancellations = sum(
        1 for a in sum(alerts.values(), []) if a["category"] == cancellation and a["handled_as"] != "dismissed"
    )
    for category in sorted({c for c, _ in concern_weeks}):
        cells = []
        for week in timeline.weeks:
            found = concern_weeks.get((category, week), [])
            cells.append((len(found), max(found, key=severity_rank) if found else ""))
        timeline.rows.append(GridRow("concern", labels.get(category, category), tuple(cells)))
    for code in sorted({c for c, _ in per_week_themes}, key=lambda c: theme_labels.get(c, c)):
        cells = tuple((len(per_week_themes.get((code, week), ())), "") for week in timeline.weeks)
        timeline.rows.append(GridRow("theme", theme_labels.get(code, code), cells))
    return timeline


def entry_case(store, entry_id: str) -> str | None:
    """The case of a current logbook entry (by its id in the logbook file), or None if there is no such entry."""
    rows = store.query(
        "SELECT case_id FROM documents WHERE doc_key = ? AND superseded_at IS NULL", (f"logbook:{entry_id}",)
    )
    return rows[0][0] if rows else None
