"""Case-level rules: severity rises with a case's history, read in date order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Sequence

from qualpipe.flagging.flagger import Flag
from qualpipe.flagging.lexicon import severity_rank

CANCELLATION_WINDOW_DAYS = 28
CANCELLATIONS_FOR_HIGH = 2
WELLBEING_RUN = 3          # of the last this many entries of a case ...
WELLBEING_FOR_HIGH = 2     # ... this many with mistrivsel is a worsening run


@dataclass(frozen=True)
class DatedFlags:
    key: object
    case_id: str | None
    date: str | None
    flags: tuple[Flag, ...]


def _raise(flag: Flag, severity: str, reason: str) -> Flag:
    if severity_rank(severity) <= severity_rank(flag.severity):
        return flag
    return replace(flag, severity=severity, fired_by=f"{flag.fired_by}; case rule: {reason}")


def apply_case_rules(entries: Sequence[DatedFlags]) -> list[DatedFlags]:
    """Entries (any order) with severities raised by their case's history; the input order is kept."""
    by_case: dict[str | None, list[int]] = {}
    for index, entry in enumerate(entries):
        by_case.setdefault(entry.case_id, []).append(index)
    result = list(entries)
    for case_id, indices in by_case.items():
        if case_id is None:
            continue
        ordered = sorted(indices, key=lambda i: (entries[i].date or "", i))
        cancellations: list[dt.date] = []
        wellbeing: list[bool] = []
        for i in ordered:
            entry = entries[i]
            day = dt.date.fromisoformat(entry.date) if entry.date else None
            categories = {f.category for f in entry.flags}
            if "aflysning" in categories and day is not None:
                cancellations.append(day)
            wellbeing.append("mistrivsel" in categories)
            recent = [d for d in cancellations if day is not None and 0 <= (day - d).days <= CANCELLATION_WINDOW_DAYS]
            worsening = sum(wellbeing[-WELLBEING_RUN:]) >= WELLBEING_FOR_HIGH
            flags = []
            for flag in entry.flags:
                if flag.category == "aflysning" and len(recent) >= CANCELLATIONS_FOR_HIGH:
                    flag = _raise(flag, "high", f"{len(recent)} cancellations within {CANCELLATION_WINDOW_DAYS // 7} weeks")
                if flag.category == "mistrivsel" and worsening:
                    flag = _raise(flag, "high", f"wellbeing concerns in {sum(wellbeing[-WELLBEING_RUN:])} of the last {WELLBEING_RUN} entries")
                flags.append(flag)
            if flags != list(entry.flags):  # most entries keep theirs: a case's whole history is re-read each week
                result[i] = replace(entry, flags=tuple(flags))
    return result
