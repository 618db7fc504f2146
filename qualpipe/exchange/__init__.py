"""Exchange with other tools: REFI-QDA projects, spreadsheets, and evaluators' code files.

Output formats are registered in `EXPORT_FORMATS`: a new one is a module with a writer taking the store,
the codebook, the path and the options below, plus one line here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from qualpipe.errors import UserError


def _qdpx(store, codebook, path: Path, **options):
    from qualpipe.exchange.qdpx import export_qdpx

    return export_qdpx(store, codebook, path, **options)


def _table(kind: str) -> Callable:
    def write(store, codebook, path: Path, *, pseudonyms=None, **_options) -> int:
        from qualpipe.exchange import tables

        return getattr(tables, f"export_{kind}")(store, path, pseudonyms)

    return write


# format -> writer(store, codebook, path, *, name, kind, pseudonyms, logbooks_per_case)
EXPORT_FORMATS: dict[str, Callable] = {
    "qdpx": _qdpx,  # REFI-QDA: NVivo, ATLAS.ti, MAXQDA, QualCoder; returns an ExportReport
    "csv": _table("csv"),  # one row per coding; returns the number of rows
    "xlsx": _table("xlsx"),
}


def export(fmt: str, store, codebook, path: Path, **options):
    """Write the store's codings as `fmt` (a key of EXPORT_FORMATS) to `path`."""
    if fmt not in EXPORT_FORMATS:
        raise UserError(f"--format {fmt}: use {', '.join(EXPORT_FORMATS)}")
    return EXPORT_FORMATS[fmt](store, codebook, path, **options)
