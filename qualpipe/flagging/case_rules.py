"""Case-level rules: severity rises with a case's history, read in date order.

The rules' categories, counts and severities are data: `case_rules` in qualpipe/data/concerns.da.yaml.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Sequence

from qualpipe.flagging.flagger import Flag
from qualpipe.flagging.lexicon import Lexicon, load_lexicon


@dataclass(frozen=True)
class DatedFlags:
    key: object
    case_id: str | None
    date: str | None
    flags: tuple[Flag, ...]


def _raise(flag: Flag, severity: str, reason: str, lexicon: Lexicon) -> Flag:
    if lexicon.severity_rank(severity) <= lexicon.severity_rank(flag.severity):
        return flag
    return replace(flag, severity=severity, fired_by=f"{flag.fired_by}; case rule: {reason}")


def apply_case_rules(entries: Sequence[DatedFlags], lexicon: Lexicon | None = None) -> list[DatedFlags]:
    """Entries (any order) with severities raised by their case's history (the rules of `lexicon`, by default
    the packaged one); the input order is kept."""
    lexicon = lexicon or load_lexicon()
    cancelling, worsening = lexicon.case_rules.cancellations, lexicon.case_rules.worsening
    by_case: dict[str | None, list[int]] = {}
    for index, entry in enumerate(entries):
        by_case.setdefault(entry.case_id, []).append(index)
    result = list(entries)
    for case_id, indices in by_case.items():
        if case_id is None:
            continue
        ordered = sorted(indices, key=lambda i: (entries[i].date or "", i))
        cancellations: list[dt.date] = []
        in_run: list[bool] = []  # per entry, in date order: flagged with the worsening rule's category
        for i in ordered:
            entry = entries[i]
            day = dt.date.fromisoformat(entry.date) if entry.date else None
            categories = {f.category for f in entry.flags}
            if cancelling.category in categories and day is not None:
                cancellations.append(day)
            in_run.append(worsening.category in categories)
            recent = [d for d in cancellations if day is not None and 0 <= (day - d).days <= cancelling.within_days]
            run = sum(in_run[-worsening.last_entries:])
            flags = []
            for flag in entry.flags:
                if flag.category == cancelling.category and len(recent) >= cancelling.count:
                    flag = _raise(flag, cancelling.severity,
                                  f"{len(recent)} cancellations within {cancelling.within_days // 7} weeks", lexicon)
                if flag.category == worsening.category and run >= worsening.count:
                    flag = _raise(flag, worsening.severity,
                                  f"wellbeing concerns in {run} of the last {worsening.last_entries} entries", lexicon)
                flags.append(flag)
            if flags != list(entry.flags):  # most entries keep theirs: a case's whole history is re-read each week
                result[i] = replace(entry, flags=tuple(flags))
    return result
