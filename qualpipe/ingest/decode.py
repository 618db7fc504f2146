"""Turn the bytes of a text file into the text we store: encoding detected, mojibake repaired."""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Iterator

import ftfy

from qualpipe.errors import InputError

# Control characters that never occur in a real transcript; many of them mean a binary file.
_CONTROL = {c for c in range(32) if c not in (9, 10, 12, 13)}


def _looks_like_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: Latin text has a NUL in every other byte."""
    sample = data[:4000]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0) / len(sample[0::2])
    odd_nuls = sample[1::2].count(0) / len(sample[1::2])
    if odd_nuls > 0.3 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.3 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _decode_guess(data: bytes) -> tuple[str, str] | None:
    """Decode the bytes by BOM, UTF-16 layout, strict UTF-8, then Windows-1252.

    A fixed ladder rather than a statistical detector (charset-normalizer): for Danish the only
    realistic candidates are these, and strict UTF-8 almost never accepts non-UTF-8 Danish
    bytes, while statistical guessing misreads short files.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError:
                return None
    utf16 = _looks_like_utf16(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps them to C1 controls.
        return data.decode("latin-1"), "latin-1"


def decode_text(data: bytes, path: Path | str) -> tuple[str, str]:
    """Return (text, encoding). The text has LF line endings and repaired mojibake.

    Raises InputError for empty or binary content.
    """
    if not data.strip():
        raise InputError(path, "the file is empty; remove it from the batch or export it again")
    guess = _decode_guess(data)
    if guess is None:
        raise InputError(path, "looks like a binary file, not text; export it as .txt, .docx, .vtt or .srt")
    text, encoding = guess
    controls = sum(1 for ch in text[:20000] if ord(ch) in _CONTROL)
    if controls > max(2, len(text[:20000]) // 200):
        raise InputError(path, "looks like a binary file, not text; export it as .txt, .docx, .vtt or .srt")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Only the encoding repair: quotes, ligatures and widths stay as the author wrote them.
    text = ftfy.fix_encoding(text)
    if not text.strip():
        raise InputError(path, "the file holds no text; remove it from the batch or export it again")
    return text, encoding


def read_file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror}); check that it exists and you may read it")


def read_text_file(path: Path) -> tuple[str, str]:
    return decode_text(read_file_bytes(path), path)


def jsonl_records(text: str, path: Path | str) -> Iterator[tuple[int, dict | InputError]]:
    """(line number, object) for each non-blank JSON Lines line; a bad line is yielded as its error."""
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, InputError(path, f"is not valid JSON ({exc.msg}); fix the line or remove it", line=number)
            continue
        if not isinstance(record, dict):
            yield number, InputError(path, "is not a JSON object; each line must be one {...}", line=number)
            continue
        yield number, record
