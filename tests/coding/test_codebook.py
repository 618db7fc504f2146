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
    assert (
        codebook.get("barnets_stemme").definition == "Barnet bliver hørt."
        and codebook.get("barnets_stemme").color == "#AA0000"
    )


def test_codebook_errors_name_the_file(tmp_path):
    bad = tmp_path / "codes.yaml"
    bad.write_text("codes:\n  - label_da: Uden id\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"codes\.yaml: code 1 has no 'id'"):
        load_codebook(bad)


def test_slugs_spell_out_danish_letters():
    assert slugify("Læring og udvikling") == "laering_og_udvikling"
    assert slugify("Frirum / pusterum") == "frirum_pusterum"


def test_a_taguette_csv_codebook_loads_with_or_without_descriptions(tmp_path):
    exported = tmp_path / "taguette.csv"  # as Taguette exports a codebook
    exported.write_text(
        "tag,description,number of highlights\nTryghed,,3\nLeg og sjov,Barnet leger og griner,1\n", encoding="utf-8"
    )
    codebook = load_codebook(exported)
    assert [(c.id, c.label_da, c.definition) for c in codebook.codes] == [
        ("tryghed", "Tryghed", ""),
        ("leg_og_sjov", "Leg og sjov", "Barnet leger og griner"),
    ]
    assert not codebook.get("tryghed").defined and codebook.get("tryghed").prototype_texts() == ["Tryghed"]
    named = tmp_path / "named.csv"
    named.write_text("name\nTryghed\n", encoding="utf-8")
    assert load_codebook(named).ids == ["tryghed"]
    bad = tmp_path / "bad.csv"
    bad.write_text("kode,beskrivelse\nTryghed,x\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"bad.csv: the header needs exactly one of 'tag', 'name' or 'path'"):
        load_codebook(bad)


def test_the_codebook_goes_out_as_csv_and_qdc_and_comes_back_with_its_ids(tmp_path):
    from qualpipe.coding.codebook import write_codebook_csv, write_codebook_qdc

    default = load_codebook(None)
    for name, write in (("book.csv", write_codebook_csv), ("book.qdc", write_codebook_qdc)):
        write(default, tmp_path / name)
        back = load_codebook(tmp_path / name)
        assert back.ids == default.ids
        assert [c.definition for c in back.codes] == [c.definition for c in default.codes]


def test_a_qdc_without_descriptions_codes_zero_shot_and_says_which_codes_lack_a_definition(tmp_path):
    from typer.testing import CliRunner

    from conftest import CORPUS
    from qualpipe.cli import app

    qdc = tmp_path / "bare.qdc"
    qdc.write_text(
        '<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        '<Code guid="a" name="Leg" isCodable="true"/><Code guid="b" name="Skole" isCodable="true"/>'
        "</Codes></CodeBook>",
        encoding="utf-8",
    )
    root = tmp_path / "p"
    runner = CliRunner()
    invoke = lambda *a: runner.invoke(app, ["--project", str(root), *a], catch_exceptions=False)  # noqa: E731
    invoke("init")
    config = root / "qualpipe.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('# codebook = ""', f'codebook = "{qdc}"'), encoding="utf-8"
    )
    invoke("ingest", str(CORPUS / "logbooks" / "logbog_2024_m15-m20.jsonl"), "--kind", "logbook")
    result = invoke("code")
    assert result.exit_code == 0
    assert "(zero-shot," in result.output
    assert "warning: code 'leg' has no definition" in result.output and "warning: code 'skole'" in result.output
