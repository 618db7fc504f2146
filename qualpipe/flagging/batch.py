"""The batch contract: `qualpipe flag --input IN.jsonl --output OUT.jsonl`, with no project store.

Each input line holds `id`, `text` and optionally `case_id` and `date` (other fields pass through);
each output line adds `concerns`: [{"category", "severity", "evidence", "start", "end"}] (an empty list
when none) and `check`: the same for what the detector is unsure about (the digest's "Tjek disse"), which
a caller must not drop. With `case_id` and `date`, case-level rules apply in date order within each case, and an
entry within the `watch` rule's weeks after an urgent alert of its case in the batch is read more closely.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, TextIO

from qualpipe.coding.batch import read_batch
from qualpipe.flagging.case_rules import DatedFlags, apply_case_rules
from qualpipe.flagging.flagger import ConcernFlagger
from qualpipe.ingest.logbooks import parse_date


def flag_batch(flagger: ConcernFlagger, source: Path, stream: TextIO, out: TextIO,
               on_error: Callable[[str], None]) -> int:
    """Flag every line; returns the number of bad lines. Reads the whole batch: case rules need it."""
    items = list(read_batch(source, stream))
    good = [(n, r) for n, r, e in items if e is None]
    dates, cases = [], []
    for number, record in good:
        try:
            date = parse_date(record.get("date"))
        except ValueError:
            date = None
            on_error(f"{source}:{number}: 'date' is not a date; case rules skip this line")
        case = record.get("case_id")
        dates.append(date)
        cases.append(str(case) if case is not None and date else None)
    flags = flagger.flag_case_entries([r["text"] for _, r in good], cases, dates)
    dated = [DatedFlags(number, case, date, tuple(entry_flags))
             for (number, _), case, date, entry_flags in zip(good, cases, dates, flags)]
    ruled = {d.key: d.flags for d in apply_case_rules(dated)}
    errors = 0
    for number, record, error in items:
        if error is not None:
            errors += 1
            on_error(error)
            line = {"id": record.get("id") if record else None, "concerns": [], "check": [], "error": error}
        else:
            line = {**record, **{key: [{"category": f.category, "severity": f.severity, "evidence": f.evidence,
                                        "start": f.start, "end": f.end} for f in ruled[number] if f.band == band]
                                 for key, band in (("concerns", "alert"), ("check", "check"))}}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return errors
