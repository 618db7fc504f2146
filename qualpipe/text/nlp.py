"""The spaCy pipeline: blank Danish with sentencizer and lookup lemmas, or a trained one when configured."""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language

from qualpipe.errors import UserError

# Closed-class words whose entries in the lookup table are wrong for running text ("med" -> "mede").
_LEMMA_FIXES = "lemma_fixes.da.tsv"


@lru_cache(maxsize=1)
def danish_lemma_table():
    """spaCy's Danish lemma lookup table (spacy-lookups-data, 553k forms), opened once per process.

    Kept as an SQLite file in the cache folder (text/lemma_table.py): as a dict it held about 125 MB in every
    command. spaCy's own Table re-hashes every key into a Bloom filter, which took four times as long as the
    dict (2.2 s against 0.5 s)."""
    from qualpipe.private_files import cache_dir
    from qualpipe.text.lemma_table import LemmaTable, source_table, table_file

    source = source_table()
    if source is None:
        raise UserError("spaCy's Danish lemma table is missing; install it with: pip install spacy-lookups-data")
    return LemmaTable(table_file(source, cache_dir()))


@lru_cache(maxsize=4)
def load_nlp(pipeline: str = "") -> Language:
    """Load the configured pipeline once per process."""
    if pipeline:
        try:
            return spacy.load(pipeline, exclude=["ner"])
        except OSError:
            raise UserError(
                f"qualpipe.toml: spaCy pipeline '{pipeline}' is not installed; "
                f"install it (e.g. pip install {pipeline}) or set [nlp] pipeline = \"\""
            ) from None
    nlp = spacy.blank("da")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("qualpipe_opening_punct")
    nlp.add_pipe("qualpipe_line_breaks")
    nlp.add_pipe("qualpipe_unpunctuated")
    nlp.add_pipe("qualpipe_lemmatizer")
    return nlp


# Quotation marks, brackets and dialogue dashes that open the next sentence.
OPENERS = frozenset('"“„«»([–—-')


@Language.component("qualpipe_opening_punct")
def move_opening_punct(doc):
    """The sentencizer gives `. "Vi` and `? - Hvad` the opening mark to the sentence before.

    An opening mark preceded by a space and standing right before the next sentence's
    first word starts that sentence instead.
    """
    for token in doc[1:-1]:
        nxt = doc[token.i + 1]
        if token.text in OPENERS and nxt.is_sent_start and not token.is_sent_start and doc[token.i - 1].whitespace_:
            token.is_sent_start = True
            nxt.is_sent_start = False
    return doc


@Language.component("qualpipe_line_breaks")
def split_at_line_breaks(doc):
    """A line break starts a sentence: bullet lists, form fields and one-line notes carry no full stops, and
    the sentencizer has only those to go by. Interview turns reach spaCy with their whitespace collapsed, so
    this concerns logbook entries, which the concern detector reads as written.

    Tried and not kept: cutting long stretches without punctuation into clauses before "og", "men", "da"...
    On the dev entries typed in lower case without punctuation the detector, retrained on clauses, raised 63
    false urgent alerts instead of 18: a clause read without its sentence ("hun slog oliver 5 gange i træk")
    loses what made it harmless. Sentences in text without full stops come from a learned model instead
    (`qualpipe_unpunctuated`, after this component)."""
    for token in doc[:-1]:
        if token.is_space and "\n" in token.text and token.i > 0 and not token.is_sent_start:
            doc[token.i + 1].is_sent_start = True
    return doc


@Language.component("qualpipe_unpunctuated")
def split_unpunctuated_stretches(doc):
    """Long stretches typed without full stops are cut where the learned boundary model finds sentences."""
    from qualpipe.text.boundaries import split_unpunctuated

    return split_unpunctuated(doc)


@Language.factory("qualpipe_lemmatizer")
def _make_lemmatizer(nlp: Language, name: str) -> "LookupLemmatizer":
    return LookupLemmatizer()


class LookupLemmatizer:
    """spaCy's Danish lookup table, asked for the lower-cased form when the written form is absent.

    The table is case-sensitive: a sentence-initial "Børnene" would otherwise stay unlemmatised.
    """

    def __init__(self) -> None:
        from qualpipe.data import read_lines

        self.table = danish_lemma_table()
        self.fixes = dict(line.split("\t", 1) for line in read_lines(_LEMMA_FIXES))

    def lemma(self, form: str) -> str:
        lower = form.lower()
        if lower in self.fixes:
            return self.fixes[lower]
        found = self.table.get(form)
        if found is None and lower != form:
            found = self.table.get(lower)
        return lower if found is None else found

    def __call__(self, doc):
        for token in doc:
            token.lemma_ = self.lemma(token.text)
        return doc
