"""Sentences in text typed without full stops: the learned boundary model behind the spaCy pipeline."""

import numpy as np
import pytest

from qualpipe.engines import Engines
from qualpipe.flagging.training import load_corpus
from qualpipe.text.boundaries import MODEL_FILE, BoundaryModel
from qualpipe.text.boundary_training import boundary_scores, stretches, train_and_save_boundaries
from qualpipe.text.nlp import load_nlp

from tests.conftest import CORPUS

# Written for this test (no corpus writer's entry): four sentences, typed in lower case without punctuation.
PLAIN = (
    "vi hentede ham ved skolen og kørte ud til stranden han byggede en stor sandborg med tårne og voldgrav "
    "bagefter spiste vi is på bænken ved havnen han fortalte at hans stedfar slår ham når mor er på arbejde "
    "jeg har ringet til koordinatoren i aften"
)


def sentences(text: str, *, model: bool = True) -> list[str]:
    nlp = load_nlp("")
    if model:
        return [s.text for s in nlp(text).sents]
    with nlp.select_pipes(disable=["qualpipe_unpunctuated"]):
        return [s.text for s in nlp(text).sents]


def test_an_entry_typed_without_punctuation_is_read_as_sentences_not_as_one():
    assert sentences(PLAIN, model=False) == [PLAIN]  # what the sentencizer alone makes of it
    found = sentences(PLAIN)
    assert 3 <= len(found) <= 6
    assert all(len(s.split()) >= 3 for s in found)
    assert " ".join(found) == PLAIN  # the text is untouched: the sentences are spans of it
    assert any(s.startswith("han fortalte at hans stedfar") or s.startswith("bagefter spiste") for s in found)


def test_a_writer_who_punctuates_keeps_the_sentences_as_written():
    text = (
        "Vi har lavet en fast plan hver onsdag hvor vi først drikker saftevand og snakker om ugen og bagefter "
        "spiller vi et spil som han selv vælger og til sidst læser vi en bog sammen i sofaen. Han kan lide det."
    )
    assert sentences(text) == sentences(text, model=False)
    assert len(sentences(text)) == 2


def test_the_flagger_shows_the_sentence_that_says_why_in_text_without_punctuation():
    flags = Engines().flagger().flag_entries([PLAIN])[0]
    violence = [f for f in flags if f.category == "vold_overgreb"]
    assert violence, "a disclosure of violence at home, typed without punctuation, is shown"
    evidence = violence[0].evidence
    assert "stedfar slår ham" in evidence
    assert "sandborg" not in evidence and len(evidence) < len(PLAIN) / 2  # the sentence, not the whole entry
    assert PLAIN[violence[0].start : violence[0].end] == evidence


@pytest.fixture(scope="module")
def retrained(tmp_path_factory):
    path = tmp_path_factory.mktemp("boundaries") / "sentence_boundaries.npz"
    return train_and_save_boundaries(CORPUS / "dev", path, seed=13), BoundaryModel.load(path)


def test_the_boundary_training_command_reproduces_the_shipped_model(retrained):
    result, model = retrained
    shipped = BoundaryModel.load(MODEL_FILE)
    assert model.threshold == shipped.threshold and model.long_words == shipped.long_words
    assert np.allclose(model.coef, shipped.coef, atol=1e-2) and abs(model.intercept - shipped.intercept) < 1e-2
    dev = [e.text for e in load_corpus(CORPUS / "dev") if e.split == "dev"]
    typed = stretches(dev, load_nlp(""), "plain")
    assert abs(boundary_scores(model, typed)["f1"] - boundary_scores(shipped, typed)["f1"]) < 0.01
    assert result.dev["plain"]["f1"] > 0.6  # well above cutting nowhere (F1 0) on the dev writers' entries
