"""spaCy's Danish lemma table as an SQLite file: the look-ups of the dict it replaces, owner-only, built once."""

from __future__ import annotations

import os
import random
import stat

from spacy.util import load_language_data

from qualpipe.text.lemma_table import LemmaTable, source_table, table_file
from qualpipe.text.nlp import load_nlp


def test_the_table_file_answers_as_spacys_table_and_is_built_once_owner_only(tmp_path):
    source = source_table()
    built = table_file(source, tmp_path / "cache")
    assert stat.S_IMODE(os.stat(built).st_mode) == 0o600
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [built.name]  # no partial file left
    modified = built.stat().st_mtime_ns
    assert table_file(source, tmp_path / "cache") == built and built.stat().st_mtime_ns == modified

    pairs = load_language_data(source)
    table = LemmaTable(built)
    assert len(table) == len(pairs)
    for form in random.Random(7).sample(sorted(pairs), 2000):
        assert table.get(form) == pairs[form] and form in table
    assert table.get("ikke-et-dansk-ordxq") is None and "ikke-et-dansk-ordxq" not in table


def test_lemmas_of_running_text_use_the_table_and_the_closed_class_fixes():
    doc = load_nlp("")("Børnene legede med hundene, og de aflyste turen.")
    lemmas = {t.text: t.lemma_ for t in doc}
    assert lemmas["Børnene"] == "barn"  # capitalised: looked up lower-cased
    assert lemmas["hundene"] == "hund" and lemmas["aflyste"] == "aflyse"
    assert lemmas["med"] == "med"  # lemma_fixes.da.tsv, not the table's "mede"
