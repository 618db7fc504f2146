"""spaCy's Danish lemma lookup table as an SQLite file in the cache folder: a command holds only the forms it meets.

The table (spacy-lookups-data, 553k forms) read as a Python dict took about 125 MB of resident memory and
0.4-0.5 s in every command that splits or lemmatises text, a tenth of the weekly run's peak memory. The
same pairs in an SQLite file, built once from spaCy's table (about 2 s) and named by the data package's
version and the table file's size, answer a look-up in microseconds; each form is asked once per process.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

FORMAT = "1"  # bump when the file's layout changes
MEMO = 1 << 17  # forms remembered per process (a week of logbook text meets about 15k)


def source_table() -> Path | None:
    """spaCy's Danish lemma lookup file (spacy-lookups-data), or None when the package is missing."""
    from spacy.util import registry

    tables = registry.lookups.get("da") if "da" in registry.lookups else {}
    return Path(tables["lemma_lookup"]) if "lemma_lookup" in tables else None


def table_file(source: Path, folder: Path) -> Path:
    """The SQLite file for `source` in `folder`, built (atomically, owner-only) on first use."""
    stored = source if source.is_file() else source.with_name(source.name + ".gz")  # as load_language_data reads it
    target = folder / f"da-lemmas-{version('spacy-lookups-data')}-{stored.stat().st_size}-f{FORMAT}.sqlite"
    if target.is_file():
        return target
    from spacy.util import load_language_data

    from qualpipe.private_files import create_private_file

    pairs = load_language_data(source)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    create_private_file(partial)
    try:
        with sqlite3.connect(partial) as conn:
            conn.execute("CREATE TABLE lemma (form TEXT PRIMARY KEY, lemma TEXT NOT NULL) WITHOUT ROWID")
            conn.executemany("INSERT OR REPLACE INTO lemma VALUES (?, ?)", pairs.items())
        conn.close()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


class LemmaTable:
    """Read-only look-ups in a table file: `get(form)` is the form's lemma, or None when the table lacks it."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()  # the web app and the flagger's threads may share a pipeline
        self.get = lru_cache(maxsize=MEMO)(self._lookup)

    def _lookup(self, form: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT lemma FROM lemma WHERE form = ?", (form,)).fetchone()
        return row[0] if row else None

    def __contains__(self, form: object) -> bool:
        """Whether the table has `form` as a key, as `form in dict` did (privacy and topics ask this)."""
        return isinstance(form, str) and self.get(form) is not None

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM lemma").fetchone()[0]
