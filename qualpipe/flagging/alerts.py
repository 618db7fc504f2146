"""Alerts in the store and the coordinator's weekly digest: incremental, idempotent, acknowledgeable."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from qualpipe.errors import UserError
from qualpipe.flagging.case_rules import DatedFlags, apply_case_rules
from qualpipe.flagging.flagger import Flag
from qualpipe.flagging.lexicon import load_lexicon, severity_rank
from qualpipe.privacy.pseudonymise import redact
from qualpipe.store import utc_now


WEEK = re.compile(r"^\s*(\d{4})\s*-?\s*[Ww]\s*(\d{1,2})\s*$")


def iso_week(date: str) -> str:
    year, week, _ = dt.date.fromisoformat(date).isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(text: str) -> str:
    """The one way a week is read, for every command: `2024-W6`, `2024W06`, `2024-w06` become `2024-W06`."""
    match = WEEK.match(text or "")
    if match is None:
        raise UserError(f"--week {text}: not an ISO week; write it as 2024-W06")
    year, number = int(match[1]), int(match[2])
    try:
        dt.date.fromisocalendar(year, number, 1)
    except ValueError:
        raise UserError(f"--week {text}: {year} has no week {number}; write it as 2024-W06") from None
    return f"{year}-W{number:02d}"


def week_bounds(week: str) -> tuple[dt.date, dt.date]:
    week = parse_week(week)
    monday = dt.date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    return monday, monday + dt.timedelta(days=6)


def last_complete_week(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return iso_week((today - dt.timedelta(days=today.isoweekday())).isoformat())


@dataclass
class FlagReport:
    entries: int = 0
    alerts: int = 0
    raised: int = 0


def flag_new_entries(store, build_flagger) -> FlagReport:
    """Flag the logbook entries not flagged before; re-apply case rules to the cases they belong to.

    `build_flagger()` is called only when there are entries to flag: a digest with nothing new to
    flag does not load the models."""
    new = store.unflagged_entries()
    if not new:
        return FlagReport()
    return store_flags(store, new, build_flagger().flag_case_entries(*with_case_history(store, new)))


def with_case_history(store, rows: list) -> tuple[list[str], list, list[str], list[tuple[str, str]]]:
    """What `ConcernFlagger.flag_case_entries` reads for pending entries `rows`: their texts, cases and dates (an
    undated entry counts on its ingest date, as its alerts do) and the stored urgent alerts of their cases."""
    now = utc_now()
    cases = sorted({r["case_id"] for r in rows if r["case_id"]})
    return ([r["text"] for r in rows], [r["case_id"] for r in rows], [r["date"] or _ingest_date(r, now) for r in rows],
            urgent_alert_dates(store, cases))


def urgent_alert_dates(store, cases: list[str]) -> list[tuple[str, str]]:
    """(case, entry date) of the stored urgent alerts of `cases` that nobody dismissed as a false alarm (a
    coordinator's added concern included): what puts a case under watch (case rule `watch`)."""
    rows: list = []
    urgent = list(load_lexicon().urgent_categories)
    for at in range(0, len(cases), 500):  # SQLite's limit on bound parameters
        chunk = cases[at:at + 500]
        rows += store.query(
            "SELECT DISTINCT a.case_id, a.entry_date FROM alerts a JOIN documents d ON d.id = a.document_id "
            f"WHERE a.band = 'alert' AND d.superseded_at IS NULL AND a.category IN ({','.join('?' * len(urgent))}) "
            "AND COALESCE(a.handled_as, '') != 'dismissed' AND a.entry_date IS NOT NULL "
            f"AND a.case_id IN ({','.join('?' * len(chunk))})",
            (*urgent, *chunk),
        )
    return [(r["case_id"], r["entry_date"]) for r in rows]


def store_flags(store, entries: list, flags: list) -> FlagReport:
    """Store entries' flags as alerts and mark the entries flagged, then re-apply the case rules of their cases.

    Atomic, and a second call with the same entries adds nothing (alerts are unique per entry and category):
    an alert stored before keeps its row, its score included."""
    report = FlagReport(entries=len(entries))
    now = utc_now()
    with store.transaction() as conn:
        for row, entry_flags in zip(entries, flags):
            date = row["date"] or _ingest_date(row, now)  # never the week 'undated': it would reach no digest
            for f in entry_flags:
                report.alerts += conn.execute(
                    "INSERT OR IGNORE INTO alerts (document_id, case_id, entry_date, week, category, base_severity, "
                    "severity, evidence, start, end, fired_by, created_at, band, reason, undated, score) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        row["id"],
                        row["case_id"],
                        date,
                        iso_week(date),
                        f.category,
                        f.severity,
                        f.severity,
                        redact(f.evidence),
                        f.start,
                        f.end,
                        f.fired_by,
                        now,
                        f.band,
                        f.reason,
                        int(not row["date"]),
                        f.score,
                    ),
                ).rowcount
            conn.execute(
                "INSERT OR IGNORE INTO flagged_documents (document_id, flagged_at) VALUES (?, ?)", (row["id"], now)
            )
        cases = sorted({r["case_id"] for r in entries if r["case_id"]})
        report.raised = _apply_case_rules(conn, cases)
    return report


def _ingest_date(row, now: str) -> str:
    ingested = row["ingested_at"] if "ingested_at" in row.keys() else None
    return (ingested or now)[:10]


def _apply_case_rules(conn, cases: list[str]) -> int:
    """Recompute rule-raised severities for the given cases from their stored base flags."""
    raised = 0
    for case_id in cases:
        rows = conn.execute(
            "SELECT a.id, a.document_id, a.entry_date, a.category, a.base_severity, a.severity, a.evidence, a.start, "
            "a.end,"
            " a.fired_by FROM alerts a JOIN documents d ON d.id = a.document_id "
            "WHERE a.case_id = ? AND d.superseded_at IS NULL AND a.band = 'alert'",
            (case_id,),
        ).fetchall()
        entries = conn.execute(
            "SELECT id, date FROM documents WHERE case_id = ? AND kind = 'logbook' AND superseded_at IS NULL",
            (case_id,),
        ).fetchall()
        by_doc: dict[int, list] = {}
        for r in rows:
            by_doc.setdefault(r["document_id"], []).append(r)
        dated = [
            DatedFlags(
                e["id"],
                case_id,
                e["date"],
                tuple(
                    Flag(
                        r["category"],
                        r["base_severity"],
                        r["evidence"],
                        r["start"],
                        r["end"],
                        r["fired_by"].split("; case rule:")[0],
                        None,
                    )
                    for r in by_doc.get(e["id"], [])
                ),
            )
            for e in entries
        ]
        for entry in apply_case_rules(dated):
            for flag, row in zip(entry.flags, by_doc.get(entry.key, [])):
                if flag.severity != row["severity"]:
                    conn.execute(
                        "UPDATE alerts SET severity = ?, fired_by = ? WHERE id = ?",
                        (flag.severity, flag.fired_by, row["id"]),
                    )
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
    reason: str = ""
    band: str = "alert"
    handled_as: str | None = None
    handled_by: str | None = None
    handled_at: str | None = None
    note: str | None = None
    still_open: bool = False  # shown in an earlier digest, urgent or high, and not handled yet
    undated: bool = False  # the entry had no usable date: dated by when it was ingested


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
    check: list[AlertView] = field(default_factory=list)  # "Tjek disse": the detector was unsure; likeliest first
    handled: list[AlertView] = field(default_factory=list)  # handled by a coordinator: who, when, what
    failures: list = field(default_factory=list)  # (file, problem) of inputs that could not be read
    notify_cases: list[str] = field(default_factory=list)
    arrived_since: int = 0  # a rebuilt digest: alerts for this week or earlier that arrived after it was built
    open_earlier: list = field(
        default_factory=list
    )  # (case, [alert ids]) unhandled from earlier digests, not shown now
    screening_error: str = ""  # flagging new entries failed (the error's kind and message): no case is calm
    unscreened: int = 0  # new entries that could not be screened


def weekly_digest(
    store, week: str, labels: dict[str, str], pseudonyms=None, failures=None, provisional: bool = False
) -> Digest:
    """The digest of `week`, built so that no unhandled alert is ever missed.

    The first build of a week shows every unacknowledged alert no digest has shown yet whose entry is
    dated in that week or earlier (earlier ones marked late, with their date: a skipped week's alerts
    reach the next digest), and every urgent or high alert shown before and still not handled, the
    check band's included. What
    it showed is kept: rebuilding the week shows the same alerts (those handled since under
    "Håndteret") and says how many alerts have arrived since. `failures` (input files that could not
    be read) open the digest, and then no case is called calm; nor is a case with an unhandled alert an
    earlier digest showed (`open_earlier`). With `pseudonyms` (a CasePseudonyms),
    entry text and evidence are shown pseudonymised. A `provisional` digest (new entries could not be
    screened) is shown but not kept, so the next build of the week is a whole one."""
    week = parse_week(week)
    monday, sunday = week_bounds(week)
    columns = "a.*, d.text AS text"
    built = store.query("SELECT snapshot FROM digests WHERE week = ?", (week,))
    rebuild = bool(built and built[0]["snapshot"])
    if rebuild:
        rows = store.query(
            f"SELECT {columns}, i.still_open FROM digest_items i JOIN alerts a ON a.id = i.alert_id "
            "JOIN documents d ON d.id = a.document_id WHERE i.week = ? ORDER BY a.id",
            (week,),
        )
    else:
        reshown = load_lexicon().severities_from("high")  # shown in every digest until handled
        rows = store.query(
            f"SELECT {columns}, a.first_digest IS NOT NULL AS still_open FROM alerts a JOIN documents d ON d.id = "
            "a.document_id "
            "WHERE d.superseded_at IS NULL AND a.acked_at IS NULL AND a.week <= ? AND (a.first_digest IS NULL OR "
            f"(a.first_digest < ? AND a.severity IN ({', '.join('?' * len(reshown))}))) ORDER BY a.id",
            (week, week, *reshown),
        )
    shown = {r["id"] for r in rows}
    handled_rows = [r for r in rows if r["acked_at"] is not None]
    handled_rows += [
        r
        for r in store.query(
            f"SELECT {columns}, 0 AS still_open FROM alerts a JOIN documents d ON d.id = a.document_id "
            "WHERE d.superseded_at IS NULL AND a.acked_at IS NOT NULL AND a.week = ? ORDER BY a.id",
            (week,),
        )
        if r["id"] not in shown
    ]
    arrived = (
        store.query(
            "SELECT COUNT(*) FROM alerts a JOIN documents d ON d.id = a.document_id WHERE d.superseded_at IS NULL "
            "AND a.acked_at IS NULL AND a.first_digest IS NULL AND a.week <= ?",
            (week,),
        )[0][0]
        if rebuild
        else 0
    )
    digest = Digest(
        week,
        monday.isoformat(),
        sunday.isoformat(),
        acknowledged_hidden=len(handled_rows),
        failures=list(failures or []),
        arrived_since=arrived,
    )
    if pseudonyms is not None:
        pseudonyms.warm({r["case_id"] for r in [*rows, *handled_rows]})

    def view(r) -> AlertView:
        text, start, end = r["text"], r["start"], r["end"]
        if pseudonyms is not None:
            text, start, end = pseudonyms.span(r["document_id"], start, end)
        still_open = bool(r["still_open"])
        return AlertView(
            r["id"],
            r["case_id"] or "?",
            r["entry_date"] or "",
            r["category"],
            labels.get(r["category"], r["category"]),
            r["severity"],
            text[start:end],
            start,
            end,
            r["fired_by"],
            text,
            late=r["week"] < week and not still_open,
            reason=r["reason"],
            band=r["band"],
            handled_as=r["handled_as"],
            handled_by=r["acked_by"],
            handled_at=r["acked_at"],
            note=r["ack_note"],
            still_open=still_open,
            undated=bool(r["undated"]),
        )

    by_case: dict[str, list[AlertView]] = {}
    check_rows = []
    for r in rows:
        if r["acked_at"] is not None:
            continue
        if r["band"] == "check":
            check_rows.append(r)
        else:
            by_case.setdefault(r["case_id"] or "?", []).append(view(r))
    # The check band can be long and a coordinator reads it from the top, so the likeliest concern comes first.
    # Sorted as rows because the views carry no score: it is not a calibrated probability, so no format shows it.
    check_rows.sort(key=check_band_order)
    digest.check = [view(r) for r in check_rows]
    digest.handled = [view(r) for r in handled_rows]
    for case_id, alerts in by_case.items():
        alerts.sort(key=lambda a: (-severity_rank(a.severity), a.entry_date, a.id))
        counts = _cancellations(store, case_id, sunday)
        digest.cases.append(CaseDigest(case_id, alerts[0].severity, alerts, counts[0], counts[1]))
    digest.notify_cases = sorted(
        c.case_id for c in digest.cases if any(a.category in load_lexicon().urgent_categories for a in c.alerts)
    )
    digest.notify_reminder = bool(digest.notify_cases)
    digest.cases.sort(key=lambda c: (-severity_rank(c.severity), c.case_id))
    active = {
        r[0]
        for r in store.query(
            "SELECT DISTINCT case_id FROM documents WHERE kind = 'logbook' AND superseded_at IS NULL AND date BETWEEN "
            "? AND ?",
            (monday.isoformat(), sunday.isoformat()),
        )
    }
    all_cases = {
        r[0]
        for r in store.query("SELECT DISTINCT case_id FROM documents WHERE kind = 'logbook' AND case_id IS NOT NULL")
    }
    listed = set(by_case) | {a.case_id for a in digest.check}
    # A case with an unhandled alert that an earlier digest showed (a watch alert is shown once) is never
    # called calm: it is named with its alert ids until someone acknowledges or dismisses them.
    earlier: dict[str, list[int]] = {}
    for r in store.query(
        "SELECT a.id, a.case_id FROM alerts a JOIN documents d ON d.id = a.document_id WHERE "
        "d.superseded_at IS NULL AND a.acked_at IS NULL AND a.week <= ? ORDER BY a.case_id, a.id",
        (week,),
    ):
        if (r["case_id"] or "?") not in listed and r["id"] not in shown:
            earlier.setdefault(r["case_id"] or "?", []).append(r["id"])
    digest.open_earlier = sorted(earlier.items())
    digest.quiet_cases = sorted(active - listed - set(earlier))
    digest.silent_cases = sorted(all_cases - active - listed - set(earlier))
    if not rebuild and not provisional:  # a provisional digest (screening failed) is not kept: the next build is whole
        now = utc_now()
        with store.transaction() as conn:
            conn.executemany(
                "UPDATE alerts SET first_digest = ? WHERE id = ? AND first_digest IS NULL",
                [(week, r["id"]) for r in rows],
            )
            conn.executemany(
                "INSERT OR IGNORE INTO digest_items (week, alert_id, still_open) VALUES (?, ?, ?)",
                [(week, r["id"], int(bool(r["still_open"]))) for r in rows],
            )
            conn.execute(
                "INSERT INTO digests (week, built_at, snapshot) VALUES (?, ?, 1) ON CONFLICT (week) DO UPDATE "
                "SET snapshot = 1, built_at = excluded.built_at",
                (week, now),
            )
    return digest


def check_band_order(row) -> tuple:
    """Highest score first, then alerts without one (stored before schema 12); ties by case, entry date, id."""
    score = row["score"]
    return (score is None, -(score or 0.0), row["case_id"] or "?", row["entry_date"] or "", row["id"])


def unresolved_failures(store) -> list[tuple[str, str]]:
    """Logbook files (or rows) that failed to load and have not loaded cleanly since: (file name, problem).

    The message names the file and row and says what to do; it never quotes the entry's text."""
    rows = store.query(
        "SELECT source_path, message FROM ingest_failures WHERE kind = 'logbook' AND resolved_at IS NULL "
        "ORDER BY failed_at, id"
    )
    return [(Path(r["source_path"]).name, r["message"]) for r in rows]


def _cancellations(store, case_id: str, sunday: dt.date) -> tuple[int, str]:
    """Cancellations in the 8 weeks up to the digest week, and the trend: last 4 weeks against the 4 before."""
    start = sunday - dt.timedelta(weeks=8)
    middle = sunday - dt.timedelta(weeks=4)
    rows = store.query(
        "SELECT a.entry_date FROM alerts a JOIN documents d ON d.id = a.document_id WHERE d.superseded_at IS NULL "
        "AND a.case_id = ? AND a.category = ? AND a.entry_date > ? AND a.entry_date <= ?",
        (case_id, load_lexicon().cancellation_category, start.isoformat(), sunday.isoformat()),
    )
    recent = sum(r[0] > middle.isoformat() for r in rows)
    earlier = len(rows) - recent
    trend = "rising" if recent > earlier else "falling" if recent < earlier else "steady"
    return len(rows), trend


def acknowledge(
    store, ids: list[int], *, by: str, note: str, case_id: str | None = None
) -> tuple[list[int], list[int]]:
    """Record alerts as handled, by whom and what was done; with `case_id`, every open alert of that case
    that a digest has shown.

    All or nothing: an unknown id acknowledges none. Returns (acknowledged now, already handled before)."""
    if not by.strip() or not note.strip():
        raise UserError('ack needs --by (who) and --note (what was done, e.g. "underretning sendt")')
    if not ids and case_id is None:
        raise UserError("ack needs alert ids (as the digest shows them) or --case CASE")
    wanted = list(ids)
    if case_id is not None:
        # Only alerts a digest has shown: what nobody has read yet cannot have been handled.
        wanted += [
            r[0]
            for r in store.query(
                "SELECT id FROM alerts WHERE case_id = ? AND acked_at IS NULL AND first_digest IS NOT NULL", (case_id,)
            )
        ]
        if not wanted:
            raise UserError(f"--case {case_id}: no open alerts shown in a digest for that case")
    found = {
        r["id"]: r["acked_at"]
        for r in store.query(f"SELECT id, acked_at FROM alerts WHERE id IN ({','.join('?' * len(wanted))})", wanted)
    }
    missing = [i for i in wanted if i not in found]
    if missing:
        raise UserError(
            f"alert(s) {', '.join(map(str, missing))} not found; nothing was acknowledged; "
            "use the ids shown in the digest"
        )
    todo = sorted({i for i in wanted if found[i] is None})
    done = []
    with store.transaction() as conn:
        now = utc_now()
        for i in todo:
            # Two people at once: the second's UPDATE finds the alert handled (writers take turns), and it is
            # reported to them as handled before, not as theirs.
            if conn.execute("UPDATE alerts SET acked_at = ?, acked_by = ?, handled_as = 'ack', ack_note = ? "
                            "WHERE id = ? AND acked_at IS NULL", (now, by, note, i)).rowcount:
                done.append(i)
    return done, sorted({i for i in wanted if i not in done})


@dataclass(frozen=True)
class AlertRecord:
    """Where an alert belongs and whether (how, by whom, when) it was handled."""

    id: int
    case_id: str | None
    handled_as: str | None
    handled_by: str | None
    handled_at: str | None


def alert_record(store, alert_id: int) -> AlertRecord | None:
    rows = store.query("SELECT id, case_id, handled_as, acked_by, acked_at FROM alerts WHERE id = ?", (alert_id,))
    return AlertRecord(*rows[0]) if rows else None


def mark_digest_sent(store, week: str, recipients: list[str]) -> None:
    with store.transaction() as conn:
        conn.execute(
            "UPDATE digests SET sent_at = ?, sent_to = ? WHERE week = ?", (utc_now(), ", ".join(recipients), week)
        )


def dismiss(store, alert_id: int, *, reason: str, by: str, if_open: bool = False) -> bool:
    """A false alarm: the alert is handled as dismissed, and the coordinator's "no" is kept as a label
    (the entry does not show this category) for `flag train --with-feedback`.

    With `if_open`, an alert someone has handled meanwhile is left as it is (returns False)."""
    if not reason.strip() or not by.strip():
        raise UserError("dismiss needs --reason (why it is a false alarm) and --by (who decided)")
    rows = store.query("SELECT document_id, category FROM alerts WHERE id = ?", (alert_id,))
    if not rows:
        raise UserError(f"alert #{alert_id} not found; use the ids shown in 'qualpipe alerts'")
    now = utc_now()
    with store.transaction() as conn:
        if not conn.execute(
            "UPDATE alerts SET acked_at = ?, acked_by = ?, handled_as = 'dismissed', ack_note = ? "
            "WHERE id = ?" + (" AND acked_at IS NULL" if if_open else ""),
            (now, by, reason, alert_id),
        ).rowcount:
            return False
        conn.execute(
            "INSERT OR REPLACE INTO concern_labels (document_id, category, present, severity, note, labelled_by,"
            " labelled_at) VALUES (?, ?, 0, NULL, ?, ?, ?)",
            (rows[0]["document_id"], rows[0]["category"], reason, by, now),
        )
    return True


def add_concern(store, entry_id: str, *, category: str, severity: str, by: str, note: str = "") -> int:
    """A concern the detector missed: stored as a label and as an alert already handled by its author
    (shown in later digests under "Håndteret"), with the entry's first sentence as evidence. Returns the alert id."""
    lexicon = load_lexicon()
    if category not in lexicon.category_ids:
        raise UserError(f"--category {category}: use one of {', '.join(lexicon.category_ids)}")
    if severity not in lexicon.severities:
        raise UserError(f"--severity {severity}: use one of {', '.join(lexicon.severities)}")
    if not by.strip():
        raise UserError("add needs --by (who decided)")
    docs = store.query(
        "SELECT id, case_id, date, text FROM documents WHERE doc_key = ? AND superseded_at IS NULL",
        (f"logbook:{entry_id}",),
    )
    if not docs:
        raise UserError(f"logbook entry {entry_id} not found; use the entry id of the logbook file")
    doc, now = docs[0], utc_now()
    end = len(doc["text"]) if "." not in doc["text"] else doc["text"].index(".") + 1
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO concern_labels (document_id, category, present, severity, note, labelled_by,"
            " labelled_at) VALUES (?, ?, 1, ?, ?, ?, ?)",
            (doc["id"], category, severity, note, by, now),
        )
        conn.execute(
            "INSERT INTO alerts (document_id, case_id, entry_date, week, category, base_severity, severity, evidence,"
            " start, end, fired_by, created_at, acked_at, acked_by, handled_as, ack_note) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'added',?) ON CONFLICT (document_id, category) DO UPDATE SET "
            "severity = excluded.severity, acked_at = excluded.acked_at, acked_by = excluded.acked_by, "
            "handled_as = 'added', ack_note = excluded.ack_note, band = 'alert'",
            (
                doc["id"],
                doc["case_id"],
                doc["date"],
                iso_week(doc["date"] or now[:10]),
                category,
                severity,
                severity,
                redact(doc["text"][:end]),
                0,
                end,
                f"coordinator: {by}",
                now,
                now,
                by,
                note,
            ),
        )
    return store.query("SELECT id FROM alerts WHERE document_id = ? AND category = ?", (doc["id"], category))[0][0]
