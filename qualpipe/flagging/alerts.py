"""Alerts in the store and the coordinator's weekly digest: incremental, idempotent, acknowledgeable."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from qualpipe.errors import UserError
from qualpipe.flagging.case_rules import DatedFlags, apply_case_rules
from qualpipe.flagging.flagger import URGENT_CATEGORIES, Flag
from qualpipe.flagging.lexicon import severity_rank
from qualpipe.store import utc_now


def iso_week(date: str) -> str:
    year, week, _ = dt.date.fromisoformat(date).isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str) -> tuple[dt.date, dt.date]:
    try:
        monday = dt.date.fromisocalendar(int(week[:4]), int(week.split("W")[1]), 1)
    except (ValueError, IndexError):
        raise UserError(f"--week {week}: not an ISO week; write it as 2024-W10") from None
    return monday, monday + dt.timedelta(days=6)


def last_complete_week(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return iso_week((today - dt.timedelta(days=today.isoweekday())).isoformat())


@dataclass
class FlagReport:
    entries: int = 0
    alerts: int = 0
    raised: int = 0


def pending_entries(store) -> list:
    """Current logbook entries not flagged yet, by case and date."""
    return store.query(
        "SELECT d.id, d.case_id, d.date, d.text FROM documents d LEFT JOIN flagged_documents f ON f.document_id = d.id "
        "WHERE d.kind = 'logbook' AND d.superseded_at IS NULL AND f.document_id IS NULL ORDER BY d.case_id, d.date, d.id")


def flag_new_entries(store, build_flagger) -> FlagReport:
    """Flag the logbook entries not flagged before; re-apply case rules to the cases they belong to.

    `build_flagger()` is called only when there are entries to flag: a digest with nothing new to
    flag does not load the models."""
    new = pending_entries(store)
    if not new:
        return FlagReport()
    return store_flags(store, new, build_flagger().flag_entries([r["text"] for r in new]))


def store_flags(store, entries: list, flags: list) -> FlagReport:
    """Store entries' flags as alerts and mark the entries flagged, then re-apply the case rules of their cases.

    Atomic, and a second call with the same entries adds nothing (alerts are unique per entry and category)."""
    report = FlagReport(entries=len(entries))
    now = utc_now()
    with store.transaction() as conn:
        for row, entry_flags in zip(entries, flags):
            for f in entry_flags:
                report.alerts += conn.execute(
                    "INSERT OR IGNORE INTO alerts (document_id, case_id, entry_date, week, category, base_severity, severity,"
                    " evidence, start, end, fired_by, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (row["id"], row["case_id"], row["date"], iso_week(row["date"]) if row["date"] else "undated",
                     f.category, f.severity, f.severity, f.evidence, f.start, f.end, f.fired_by, now)).rowcount
            conn.execute("INSERT OR IGNORE INTO flagged_documents (document_id, flagged_at) VALUES (?, ?)", (row["id"], now))
        cases = sorted({r["case_id"] for r in entries if r["case_id"]})
        report.raised = _apply_case_rules(conn, cases)
    return report


def _apply_case_rules(conn, cases: list[str]) -> int:
    """Recompute rule-raised severities for the given cases from their stored base flags."""
    raised = 0
    for case_id in cases:
        rows = conn.execute(
            "SELECT a.id, a.document_id, a.entry_date, a.category, a.base_severity, a.severity, a.evidence, a.start, a.end,"
            " a.fired_by FROM alerts a JOIN documents d ON d.id = a.document_id "
            "WHERE a.case_id = ? AND d.superseded_at IS NULL", (case_id,)).fetchall()
        entries = conn.execute(
            "SELECT id, date FROM documents WHERE case_id = ? AND kind = 'logbook' AND superseded_at IS NULL", (case_id,)).fetchall()
        by_doc: dict[int, list] = {}
        for r in rows:
            by_doc.setdefault(r["document_id"], []).append(r)
        dated = [
            DatedFlags(e["id"], case_id, e["date"], tuple(
                Flag(r["category"], r["base_severity"], r["evidence"], r["start"], r["end"], r["fired_by"].split("; case rule:")[0], None)
                for r in by_doc.get(e["id"], [])))
            for e in entries
        ]
        for entry in apply_case_rules(dated):
            for flag, row in zip(entry.flags, by_doc.get(entry.key, [])):
                if flag.severity != row["severity"]:
                    conn.execute("UPDATE alerts SET severity = ?, fired_by = ? WHERE id = ?", (flag.severity, flag.fired_by, row["id"]))
                    raised += 1
    return raised


@dataclass(frozen=True)
class AlertView:
    id: int
    case_id: str
    entry_date: str
    category: str
    label: str
    severity: str
    evidence: str
    start: int
    end: int
    fired_by: str
    text: str
    late: bool


@dataclass
class CaseDigest:
    case_id: str
    severity: str
    alerts: list[AlertView]
    cancellations_8_weeks: int
    cancellation_trend: str


@dataclass
class Digest:
    week: str
    start: str
    end: str
    cases: list[CaseDigest] = field(default_factory=list)
    quiet_cases: list[str] = field(default_factory=list)
    silent_cases: list[str] = field(default_factory=list)
    notify_reminder: bool = False
    acknowledged_hidden: int = 0


def weekly_digest(project, week: str, labels: dict[str, str], pseudonyms=None) -> Digest:
    """The digest of `week`: unacknowledged alerts of entries dated that week, plus late entries.

    With `pseudonyms` (a CasePseudonyms), entry text and evidence are shown pseudonymised."""
    monday, sunday = week_bounds(week)
    store = project.store
    rows = store.query(
        "SELECT a.*, d.text AS text, d.ingested_at AS ingested_at FROM alerts a JOIN documents d ON d.id = a.document_id "
        "WHERE d.superseded_at IS NULL AND a.acked_at IS NULL AND (a.week = ? OR a.first_digest = ? OR "
        "(a.first_digest IS NULL AND a.week < ? AND EXISTS (SELECT 1 FROM digests g WHERE g.week = a.week "
        "AND g.built_at < d.ingested_at)))", (week, week, week))
    acked = store.query(
        "SELECT COUNT(*) FROM alerts a JOIN documents d ON d.id = a.document_id "
        "WHERE d.superseded_at IS NULL AND a.acked_at IS NOT NULL AND a.week = ?", (week,))[0][0]
    digest = Digest(week, monday.isoformat(), sunday.isoformat(), acknowledged_hidden=acked)
    by_case: dict[str, list[AlertView]] = {}
    if pseudonyms is not None:
        pseudonyms.warm(r["case_id"] for r in rows)
    for r in rows:
        text, start, end = r["text"], r["start"], r["end"]
        if pseudonyms is not None:
            text, start, end = pseudonyms.span(r["document_id"], start, end)
        by_case.setdefault(r["case_id"] or "?", []).append(AlertView(
            r["id"], r["case_id"] or "?", r["entry_date"] or "", r["category"], labels.get(r["category"], r["category"]),
            r["severity"], text[start:end], start, end, r["fired_by"], text, late=r["week"] < week))
    for case_id, alerts in by_case.items():
        alerts.sort(key=lambda a: (-severity_rank(a.severity), a.entry_date, a.id))
        counts = _cancellations(store, case_id, sunday)
        digest.cases.append(CaseDigest(case_id, alerts[0].severity, alerts, counts[0], counts[1]))
        digest.notify_reminder |= any(a.category in URGENT_CATEGORIES for a in alerts)
    digest.cases.sort(key=lambda c: (-severity_rank(c.severity), c.case_id))
    active = {r[0] for r in store.query(
        "SELECT DISTINCT case_id FROM documents WHERE kind = 'logbook' AND superseded_at IS NULL AND date BETWEEN ? AND ?",
        (monday.isoformat(), sunday.isoformat()))}
    all_cases = {r[0] for r in store.query("SELECT DISTINCT case_id FROM documents WHERE kind = 'logbook' AND case_id IS NOT NULL")}
    digest.quiet_cases = sorted(active - set(by_case))
    digest.silent_cases = sorted(all_cases - active - set(by_case))
    now = utc_now()
    with store.transaction() as conn:
        conn.executemany("UPDATE alerts SET first_digest = ? WHERE id = ? AND first_digest IS NULL",
                         [(week, a.id) for c in digest.cases for a in c.alerts])
        conn.execute("INSERT OR IGNORE INTO digests (week, built_at) VALUES (?, ?)", (week, now))
    return digest


def _cancellations(store, case_id: str, sunday: dt.date) -> tuple[int, str]:
    """Cancellations in the 8 weeks up to the digest week, and the trend: last 4 weeks against the 4 before."""
    start = sunday - dt.timedelta(weeks=8)
    middle = sunday - dt.timedelta(weeks=4)
    rows = store.query(
        "SELECT a.entry_date FROM alerts a JOIN documents d ON d.id = a.document_id WHERE d.superseded_at IS NULL "
        "AND a.case_id = ? AND a.category = 'aflysning' AND a.entry_date > ? AND a.entry_date <= ?",
        (case_id, start.isoformat(), sunday.isoformat()))
    recent = sum(r[0] > middle.isoformat() for r in rows)
    earlier = len(rows) - recent
    trend = "rising" if recent > earlier else "falling" if recent < earlier else "steady"
    return len(rows), trend


def acknowledge(project, ids: list[int], by: str) -> list[int]:
    """Mark alerts handled; returns the ids that were not found."""
    missing = [i for i in ids if not project.store.query("SELECT 1 FROM alerts WHERE id = ?", (i,))]
    with project.store.transaction() as conn:
        conn.executemany("UPDATE alerts SET acked_at = ?, acked_by = ? WHERE id = ? AND acked_at IS NULL",
                         [(utc_now(), by, i) for i in ids if i not in missing])
    return missing

