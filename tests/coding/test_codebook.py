"""The default codebook and codebooks from users: YAML and REFI-QDA .qdc."""

from __future__ import annotations

import pytest

from qualpipe.coding.codebook import load_codebook, slugify
from qualpipe.errors import UserError

THEMES = ["stabilitet", "barnets_eget_tempo", "genkendelighed_struktur", "inddragelse", "ressourcefokus", "relation",
          "frirum", "laering_udvikling"]


def test_default_codebook_has_the_eight_themes_fully_described():
    codebook = load_codebook()
    assert codebook.ids == THEMES
    for code in codebook.codes:
        assert code.label_da and code.label_en and code.definition and code.include and code.exclude
        assert len(code.examples) >= 5 and code.cues and code.color.startswith("#")


def test_a_refi_qda_codebook_is_imported(tmp_path):
    qdc = tmp_path / "nvivo.qdc"
    qdc.write_text(
        '<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="NVivo"><Codes>'
        '<Code guid="0b3c5c9e-0000-4000-8000-000000000001" name="Barnets stemme" isCodable="true" color="#AA0000">'
        '<Description>Barnet bliver hørt.</Description>'
        '<Code guid="0b3c5c9e-0000-4000-8000-000000000002" name="Tryghed" isCodable="true"/></Code>'
        '<Code guid="0b3c5c9e-0000-4000-8000-000000000003" name="Overskrift" isCodable="false"/>'
        '</Codes></CodeBook>', encoding="utf-8")
    codebook = load_codebook(qdc)
    assert codebook.ids == ["barnets_stemme", "tryghed"]
    assert codebook.get("barnets_stemme").definition == "Barnet bliver hørt." and codebook.get("barnets_stemme").color == "#AA0000"


def test_codebook_errors_name_the_file(tmp_path):
    bad = tmp_path / "codes.yaml"
    bad.write_text("codes:\n  - label_da: Uden id\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"codes\.yaml: code 1 has no 'id'"):
        load_codebook(bad)


def test_slugs_spell_out_danish_letters():
    assert slugify("Læring og udvikling") == "laering_og_udvikling"
    assert slugify("Frirum / pusterum") == "frirum_pusterum"
