"""Personal data found in Danish text: CPR, phones, e-mails, addresses, postcodes, institutions, names."""

from __future__ import annotations

import pytest

from qualpipe.privacy.detect import find_personal_data


def kinds(text: str) -> list[tuple[str, str]]:
    return [(e.kind, e.text) for e in find_personal_data(text, institutions=("Solsikken",))]


@pytest.mark.parametrize("cpr", ["030615-1237", "0306151237", "030615 1237", "311299-4321", "010100-0001"])
def test_cpr_numbers_with_and_without_separator(cpr):
    assert ("CPR", cpr) in kinds(f"Hans CPR er {cpr}, skriv det på skemaet.")


@pytest.mark.parametrize("not_cpr", ["320115-1234", "011315-1234", "123456-78901"])
def test_numbers_with_an_impossible_date_are_not_cpr(not_cpr):
    assert not [k for k, _ in kinds(f"Sagsnummer {not_cpr} er oprettet.") if k == "CPR"]


@pytest.mark.parametrize("phone", ["22 33 44 55", "22334455", "+45 22 33 44 55", "2233 4455", "+4522334455"])
def test_danish_phone_numbers(phone):
    assert ("PHONE", phone) in kinds(f"Ring til mor på {phone} i aften.")


def test_email_address_postcode_and_institutions():
    found = kinds("Skriv til familien.hansen@example.dk. De bor på Nørrebrogade 12, 2. th., 2200 København N. "
                  "Hun går i Rådmandsgade Skole og før i børnehaven Solsikken.")
    assert ("EMAIL", "familien.hansen@example.dk") in found
    assert ("ADDRESS", "Nørrebrogade 12, 2. th.") in found
    assert ("POSTCODE_TOWN", "2200 København N") in found
    assert ("INSTITUTION", "Rådmandsgade Skole") in found and ("INSTITUTION", "Solsikken") in found


def test_names_from_the_list_from_cues_and_possessives_but_not_role_words():
    found = kinds("Mor sagde, at Emma og Jonas Pedersen legede. Hendes lillebror hedder Zorblax. Emmas cykel er ny.")
    assert ("PERSON", "Emma") in found and ("PERSON", "Jonas Pedersen") in found
    assert ("PERSON", "Zorblax") in found and ("PERSON", "Emmas") in found
    assert not [t for k, t in found if t in ("Mor", "Hendes")]


def test_names_with_initials_are_one_span():
    assert ("PERSON", "H. C. Andersen") in kinds("Vi læste H. C. Andersen i aften.")


def test_speaker_letters_are_labels_not_names_but_named_speakers_are_names():
    found = kinds("I: Hvordan gik det?\nR: Godt. Bo: Ja, Emma var glad.\nA) første punkt")
    assert [t for k, t in found if k == "PERSON"] == ["Bo", "Emma"]


def test_a_configured_spacy_pipeline_with_person_entities_adds_its_names(tmp_path):
    """Any installed spaCy pipeline with PER entities is used; here one built and saved with an entity ruler."""
    import spacy

    nlp = spacy.blank("da")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "PER", "pattern": "kvist"}])
    nlp.to_disk(tmp_path / "ner")
    text = "Vi mødte kvist ved søen."  # a name written in lower case: no rule would call it one
    assert not find_personal_data(text)
    found = find_personal_data(text, ner_pipeline=str(tmp_path / "ner"))
    assert [(e.kind, e.text) for e in found] == [("PERSON", "kvist")]


def test_names_typed_in_lower_case_are_names_but_a_name_that_is_also_a_word_needs_naming_or_a_surname():
    found = kinds(
        "i dag var emma og jonas her emmas mor hentede. vi købte en line og gik en tur i august. "
        "hans søster hedder line og mads hansen kom med. noah frisk igen"
    )
    assert [t for k, t in found if k == "PERSON"] == ["emma", "jonas", "emmas", "line", "mads hansen", "noah"]


def test_a_social_media_handle_is_a_name_and_an_email_address_stays_one():
    found = kinds("Hun skrev til @emma_2012 på Instagram, mor skriver fra emma.mor@example.dk")
    assert ("PERSON", "@emma_2012") in found and ("EMAIL", "emma.mor@example.dk") in found
