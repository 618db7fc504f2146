"""Lexical cues: codebook phrases matched on lemmas, so inflected forms count ("aflyste" ~ "aflyse")."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from spacy.language import Language
from spacy.matcher import PhraseMatcher

from qualpipe.coding.codebook import Codebook


class CueMatcher:
    """For each text and code: 1.0 when one of the code's cues occurs in the text, else 0.0."""

    def __init__(self, codebook: Codebook, nlp: Language):
        self.codebook = codebook
        self.nlp = nlp
        self.matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        for code in codebook.codes:
            if code.cues:
                self.matcher.add(code.id, list(nlp.pipe(c.lower() for c in code.cues)))

    def hits(self, texts: Sequence[str]) -> np.ndarray:
        index = {code_id: i for i, code_id in enumerate(self.codebook.ids)}
        out = np.zeros((len(texts), len(index)), dtype=np.float32)
        for row, doc in enumerate(self.nlp.pipe(t.lower() for t in texts)):
            for match_id, _start, _end in self.matcher(doc):
                out[row, index[self.nlp.vocab.strings[match_id]]] = 1.0
        return out
