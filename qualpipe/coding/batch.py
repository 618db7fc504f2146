"""The batch contract: `qualpipe code --input IN.jsonl --output OUT.jsonl`, with no project store.

Each input line holds `id` and `text`, and may hold `question`: the interviewer's question the text answers,
which the trained coder reads with it (other fields are passed through); each output line holds the same
fields plus `codes`: [{"code", "score"}], best first, only the codes assigned (possibly none).
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

CHUNK = 20_000  # lines coded at once: about 60 MB of sentence vectors

# Sentence boundaries come before the lemmas in the blank pipeline; the lemmas only serve cue matching.
NOT_FOR_SPLITTING = ("qualpipe_lemmatizer",)


def sentences_of(text: str, nlp) -> list[str]:
    drafts = segment_turns(text, [Turn(None, "unknown", 0, len(text))], nlp, Cleaning())
    return [d.norm_text for d in drafts]


def split_texts(texts: list[str], nlp) -> list[list[str]]:
    """Each text's sentences, as `sentences_of` gives them, without running the lemmatizer."""
    with nlp.select_pipes(disable=[name for name in NOT_FOR_SPLITTING if name in nlp.pipe_names]):
        return [sentences_of(text, nlp) for text in texts]


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
    """Code every line of `stream`; returns the number of bad lines.

    Up to CHUNK lines are split first and their sentences embedded in one length-sorted pass: chunks of 256
    lines, each sorted on its own, padded about 17% more tokens on 1,500 interview turns
    (bench/code_batch_speed.py); the bound keeps a huge batch's vectors from filling the memory."""
    errors = 0
    pending: list[tuple[dict | None, str | None]] = []

    def flush() -> None:
        good = split_texts([r["text"] for r, e in pending if e is None], nlp)
        asked = [r.get("question", "") for r, e in pending if e is None]
        questions = split_texts(asked, nlp) if any(q.strip() for q in asked) else None
        assigned = iter(engine.assigned(engine.unit_scores(good, progress=progress, questions=questions)))
        for record, error in pending:
            if error is not None:
                line = {"id": record.get("id") if record else None, "codes": [], "error": error}
            else:
                line = {**record, "codes": [{"code": c.code, "score": c.score} for c in next(assigned)]}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        pending.clear()

    for number, record, error in read_batch(source, stream):
        if error is None and not isinstance(record.get("question", ""), str):
            error = str(InputError(source, "'question' must be a string (or left out)", line=number))
        if error is not None:
            errors += 1
            on_error(error)
        pending.append((record, error))
        if len(pending) >= CHUNK:
            flush()
    flush()
    return errors
