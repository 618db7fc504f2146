"""Volunteer logbooks (.csv, .xlsx, .jsonl): one entry per row, columns mapped per organisation."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from qualpipe.errors import InputError
from qualpipe.ingest.decode import decode_text, jsonl_records

_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%y", "%d/%m/%y", "%d.%m.%y", "%Y/%m/%d")


@dataclass(frozen=True)
class LogbookRow:
    row: int  # 1-based, counting the header as row 1 (as a spreadsheet shows it)
    entry_id: str
    case_id: str
    date: str | None  # ISO date
    author: str | None
    text: str


def parse_date(value: Any) -> str | None:
    """An ISO date from the forms Danish exports use; None for an empty cell; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    text = re.sub(r"[T ]\d{1,2}:\d{2}(:\d{2})?(\.\d+)?([+-]\d{2}:?\d{2}|Z)?$", "", text)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(text)


def _rows_csv(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    text, _ = decode_text(path.read_bytes(), path)
    sample = text[:5000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames:
        raise InputError(path, "has no header row; the first row must name the columns")
    # Rows are numbered as a spreadsheet shows them (header = row 1), not as physical lines:
    # a quoted entry may span several lines.
    for number, record in enumerate(reader, start=2):
        yield number, record


def _rows_xlsx(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import openpyxl
    from zipfile import BadZipFile

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(
            path, f"is not a readable Excel .xlsx file ({type(exc).__name__}); open and re-save it in Excel"
        )
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header or not any(header):
        raise InputError(path, "has no header row; the first row must name the columns")
    names = [str(h).strip() if h is not None else "" for h in header]
    for number, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        yield number, dict(zip(names, values))
    workbook.close()


def _rows_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | InputError]]:
    """Lines as records; a line that is not a JSON object is yielded as its error, and reading goes on."""
    text, _ = decode_text(path.read_bytes(), path)
    yield from jsonl_records(text, path)


READERS = {".csv": _rows_csv, ".tsv": _rows_csv, ".xlsx": _rows_xlsx, ".jsonl": _rows_jsonl}


def read_logbook(
    path: Path, columns: dict[str, str], default_case: str | None = None
) -> tuple[list[LogbookRow], list[InputError]]:
    """All good rows of a logbook file, and one error per bad row. With `default_case` (`ingest --case`),
    rows without a case column or cell belong to that case.

    A problem with the whole file (no text column, unreadable) raises InputError instead.
    """
    reader = READERS[path.suffix.lower()]
    rows: list[LogbookRow] = []
    errors: list[InputError] = []
    seen_ids: dict[str, int] = {}
    where = "line" if path.suffix.lower() == ".jsonl" else "row"
    for index, (number, record) in enumerate(reader(path)):
        if isinstance(record, InputError):
            errors.append(record)
            continue
        located = {"line": number} if where == "line" else {"row": number}
        if index == 0 and where == "row":
            _require_columns(path, record, columns, needs_case=default_case is None)
        record = {str(k).strip(): v for k, v in record.items() if k is not None}
        text = _cell(record, columns["text"])
        case_id = _cell(record, columns["case_id"]) or default_case
        if not text:
            errors.append(
                InputError(path, f"empty '{columns['text']}'; fill in the entry or delete the row", **located)
            )
            continue
        if not case_id:
            errors.append(InputError(path, f"empty '{columns['case_id']}'; every entry must name its case", **located))
            continue
        try:
            date = parse_date(record.get(columns["date"]))
        except ValueError:
            errors.append(
                InputError(path, f"'{columns['date']}' is not a date; write it as YYYY-MM-DD or DD-MM-YYYY", **located)
            )
            continue
        entry_id = _cell(record, columns["entry_id"]) or f"{case_id}/{date or 'undated'}/{number}"
        if entry_id in seen_ids:
            errors.append(
                InputError(
                    path,
                    f"entry id '{entry_id}' already used in row {seen_ids[entry_id]}; ids must be unique",
                    **located,
                )
            )
            continue
        seen_ids[entry_id] = number
        rows.append(LogbookRow(number, entry_id, case_id, date, _cell(record, columns["author"]) or None, text))
    if not rows and not errors:
        raise InputError(path, "holds no entries; check that it is the right export")
    return rows, errors


def _cell(record: dict[str, Any], column: str) -> str:
    value = record.get(column)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _require_columns(path: Path, record: dict[str, Any], columns: dict[str, str], needs_case: bool = True) -> None:
    present = {str(k).strip() for k in record if k is not None}
    for field in ("text", "case_id") if needs_case else ("text",):
        if columns[field] not in present:
            raise InputError(
                path,
                # The cells found are not quoted: in a file without a header row they are an entry's text.
                f"has no '{columns[field]}' column among its {len(present)} column(s); "
                f"map it with --column {field}=NAME or [logbook.columns] in qualpipe.toml",
            )
