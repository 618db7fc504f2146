"""The batch contract: `qualpipe code --input IN.jsonl --output OUT.jsonl`, with no project store.

Each input line holds `id` and `text` (other fields are passed through); each output line holds the
same fields plus `codes`: [{"code", "score"}], best first, only the codes assigned (possibly none).
A bad line still gets its output line, with `codes: []` and an `error`, so lines stay aligned.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator, TextIO

from qualpipe.coding.engine import CodingEngine
from qualpipe.errors import InputError
from qualpipe.ingest.decode import jsonl_records
from qualpipe.ingest.transcripts import Turn
from qualpipe.text.segment import Cleaning, segment_turns

CHUNK = 256


def sentences_of(text: str, nlp) -> list[str]:
    drafts = segment_turns(text, [Turn(None, "unknown", 0, len(text))], nlp, Cleaning())
    return [d.norm_text for d in drafts]


def read_batch(path: Path, stream: TextIO) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, record or None, error or None) for every non-blank line."""
    for number, record in jsonl_records(stream.read(), path):
        if isinstance(record, InputError):
            yield number, None, str(record)
        elif "id" not in record or not isinstance(record.get("text"), str):
            yield number, record, str(InputError(path, "needs an 'id' and a string 'text'", line=number))
        else:
            yield number, record, None


def code_batch(engine: CodingEngine, nlp, source: Path, out: TextIO, stream: TextIO,
               on_error: Callable[[str], None], progress: Callable[[int, int], None] | None = None) -> int:
    """Code every line of `stream`; returns the number of bad lines."""
    errors = 0
    pending: list[tuple[dict | None, str | None]] = []

    def flush() -> None:
        good = [(r, sentences_of(r["text"], nlp)) for r, e in pending if e is None]
        assigned = iter(engine.assigned(engine.unit_scores([s for _, s in good])))
        for record, error in pending:
            if error is not None:
                line = {"id": record.get("id") if record else None, "codes": [], "error": error}
            else:
                line = {**record, "codes": [{"code": c.code, "score": c.score} for c in next(assigned)]}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        pending.clear()

    done = 0
    for _number, record, error in read_batch(source, stream):
        if error is not None:
            errors += 1
            on_error(error)
        pending.append((record, error))
        done += 1
        if len(pending) >= CHUNK:
            flush()
            if progress:
                progress(done, 0)
    flush()
    return errors
