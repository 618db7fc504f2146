"""Replacement: consistent within a scope, mappable back to the original, plain files without a project."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

from typer.testing import CliRunner

from qualpipe.cli import app
from qualpipe.privacy.detect import name_lists, name_words
from qualpipe.privacy.pseudonymise import Pseudonymiser

TEXT = "Emma og Jonas bagte. Emmas mor ringede fra 22 33 44 55. Jonas var glad."


def test_same_person_same_pseudonym_within_a_scope_and_fresh_numbering_in_another():
    p = Pseudonymiser()
    first = p.pseudonymise(TEXT, "M01").text
    assert first == "[NAVN-1] og [NAVN-2] bagte. [NAVN-1]s mor ringede fra [TLF-1]. [NAVN-2] var glad."
    assert p.pseudonymise("Jonas kom igen.", "M01").text == "[NAVN-2] kom igen."
    assert p.pseudonymise("Jonas kom igen.", "M02").text == "[NAVN-1] kom igen."


def test_the_forms_of_one_person_share_one_pseudonym_and_two_people_stay_apart():
    p = Pseudonymiser()
    text = p.pseudonymise("Emma Nielsen kom kl. 15. Emma var glad. Fru Nielsen ringede senere, og E. Nielsen skrev "
                          "under. Emma Sofie Nielsen står på papirerne.", "M01").text
    assert text == ("[NAVN-1] kom kl. 15. [NAVN-1] var glad. [NAVN-1] ringede senere, og [NAVN-1] skrev under. "
                    "[NAVN-1] står på papirerne.")
    # a first name seen before the full name: the full name joins it
    assert p.pseudonymise("Søren kom. Søren Madsen er far.", "M02").text == "[NAVN-1] kom. [NAVN-1] er far."
    # another Emma with another last name is another person; a bare "Emma" then keeps its first link
    assert p.pseudonymise("Emma Hansen fra klassen kom forbi.", "M01").text == "[NAVN-2] fra klassen kom forbi."
    assert p.pseudonymise("Fru Hansen ringede.", "M01").text == "[NAVN-2] ringede."
    # two people who could both be meant: a new pseudonym, never the wrong person's
    q = Pseudonymiser()
    q.pseudonymise("Jonas Berg og Jonas Holm spillede.", "M03")
    assert q.pseudonymise("Jonas vandt.", "M03").text == "[NAVN-3] vandt."


def test_substitute_name_style():
    text = Pseudonymiser(style="name").pseudonymise(TEXT, "x").text
    assert "Emma" not in text and "Jonas" not in text and text.startswith("Alex og Kim bagte.")


def test_offsets_map_from_pseudonymised_text_back_to_the_original():
    result = Pseudonymiser().pseudonymise(TEXT, "M01")
    start = result.text.index("mor ringede")
    a, b = result.mapping.to_original(start, start + len("mor ringede"))
    assert TEXT[a:b] == "mor ringede"
    a, b = result.mapping.to_original(0, len("[NAVN-1]"))
    assert TEXT[a:b] == "Emma"


def test_plain_files_are_copied_pseudonymised_and_the_key_is_kept_apart(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("I: Hvem er det?\nMor: Det er Sofie, hun bor på Nørrebrogade 12.\n", encoding="utf-8")
    (src / "b.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Mor>Sofie har CPR 030615-1237.</v>\n", encoding="utf-8"
    )
    (src / "c.srt").write_text("1\n00:00:00,500 --> 00:00:02,000\nMor: Sofie er glad.\n", encoding="utf-8")
    (src / "d.jsonl").write_text(
        json.dumps({"id": 1, "case_id": "K1", "text": "Sofie ringede fra 22334455."}) + "\n", encoding="utf-8"
    )
    (src / "e.pdf").write_text("x", encoding="utf-8")
    out, key = tmp_path / "out", tmp_path / "secret" / "key.json"
    result = CliRunner().invoke(
        app, ["pseudonymise", *(str(p) for p in sorted(src.iterdir())), "-o", str(out), "--key", str(key)]
    )
    assert (
        result.exit_code == 1 and "e.pdf: unknown file type" in result.output and "4 file(s) written" in result.output
    )
    texts = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
    assert "Sofie" not in "".join(texts.values()) and "030615-1237" not in texts["b.vtt"]
    assert texts["a.txt"] == "I: Hvem er det?\nMor: Det er [NAVN-1], hun bor på [ADRESSE-1].\n"
    assert texts["b.vtt"].startswith("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n")
    assert json.loads(texts["d.jsonl"]) == {"id": 1, "case_id": "K1", "text": "[NAVN-1] ringede fra [TLF-1]."}
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and "Sofie" in key.read_text(encoding="utf-8")
    assert not list(out.glob("*key*"))


def test_entries_typed_without_capitals_keep_no_childs_name():
    """The dev corpus's writers who type in lower case write the children's names that way too; pseudonymised,
    none of those entries keeps a listed first name (other than one that is also a word, like "line")."""
    corpus = Path(__file__).resolve().parents[2] / "corpora" / "dev" / "logbooks.jsonl"
    entries = [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines()]
    lower = [t for t in entries if t == t.lower() and len(t) > 80][:200]
    names = {n.lower() for n in name_lists()[0] if len(n) > 1} - name_words()
    named = [t for t in lower if names & set(re.findall(r"\w+", t))]
    assert len(named) > 100  # the corpus does write the names in lower case
    p = Pseudonymiser()
    kept = {w for t in named for w in re.findall(r"\w+", p.pseudonymise(t, "M01").text) if w in names}
    assert not kept
