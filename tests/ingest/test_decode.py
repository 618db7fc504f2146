"""Encodings Danish files arrive in are detected, and mojibake is repaired."""

from __future__ import annotations

import codecs

import pytest

from qualpipe.errors import InputError
from qualpipe.ingest.decode import decode_text

DANISH = "Mor: Søren og Åse bor på Østerbro.\r\nBarn: Æblegrød!"
EXPECTED = DANISH.replace("\r\n", "\n")


@pytest.mark.parametrize(
    "raw, encoding",
    [
        (DANISH.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + DANISH.encode("utf-8"), "utf-8-sig"),
        (DANISH.encode("utf-16"), "utf-16"),
        (DANISH.encode("utf-16-le"), "utf-16-le"),
        (DANISH.encode("cp1252"), "cp1252"),
    ],
)
def test_danish_text_decodes_from_every_common_encoding(raw, encoding):
    assert decode_text(raw, "f.txt") == (EXPECTED, encoding)


def test_mojibake_is_repaired():
    broken = "Barnet sagde, at hun var glad for BÃ¸rnehaven og sÃ¥ Ã¦bler.".encode("utf-8")
    text, _ = decode_text(broken, "f.txt")
    assert text == "Barnet sagde, at hun var glad for Børnehaven og så æbler."


def test_empty_and_binary_files_are_rejected_by_name():
    with pytest.raises(InputError, match=r"^empty\.txt: the file is empty"):
        decode_text(b"  \n", "empty.txt")
    with pytest.raises(InputError, match=r"^img\.txt: looks like a binary file"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x10\x08\x02", "img.txt")
