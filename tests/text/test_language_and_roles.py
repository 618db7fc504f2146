"""Language per segment and speaker roles, as a user sees them in `qualpipe segments`."""

from __future__ import annotations

from qualpipe.text.language import detect_language, detect_languages
from qualpipe.text.roles import RoleResolver

CODES = ("da", "en", "sv", "nb", "de")


def test_english_and_danish_sentences_are_told_apart():
    assert detect_language("We went to the park and she played with the other children.", CODES, "da") == "en"
    assert detect_language("Vi gik en tur i skoven, og hun legede med de andre børn.", CODES, "da") == "da"


def test_short_or_ambiguous_scandinavian_sentences_keep_the_document_language():
    assert detect_language("Ja.", CODES, "da") == "da"
    assert detect_language("Han turde hoppe fra vippen for første gang.", CODES, "da") == "da"


def test_a_batch_of_texts_gets_the_languages_each_text_gets_alone():
    texts = [
        "We went to the park and she played with the other children.",
        "Vi gik en tur i skoven, og hun legede med de andre børn.",
        "Vi gikk en tur i skogen, og hun lekte med de andre barna hele dagen.",
        "Vi gick en promenad i skogen och hon lekte med de andra barnen.",
        "Wir sind in den Park gegangen und sie hat mit den anderen Kindern gespielt.",
        "Ja.",
        "Han turde hoppe fra vippen for første gang.",
    ]
    for fallback in ("da", "nb", "en"):
        alone = [detect_language(t, CODES, fallback) for t in texts]
        assert detect_languages(texts, CODES, [fallback] * len(texts)) == alone
    assert alone[0] == "en" and alone[4] == "de" and alone[5] == "en"  # the fallback holds where evidence is thin
    mixed = ["da", "nb", "sv", "de", "en", "sv", "nb"]
    assert detect_languages(texts, CODES, mixed) == [detect_language(t, CODES, f) for t, f in zip(texts, mixed)]


def test_role_words_in_labels():
    roles = RoleResolver({"R": "parent"})
    assert roles.role_of("I2") == "interviewer"
    assert roles.role_of("Barn (10 år)") == "child"
    assert roles.role_of("Frivillig mor") == "volunteer"
    assert roles.role_of("Lone (frivillig)") == "volunteer"
    assert roles.role_of("Sagsbehandler") == "professional"
    assert roles.role_of("r") == "parent"
    assert roles.role_of("Karen") == "unknown"
