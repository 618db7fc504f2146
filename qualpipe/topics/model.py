"""The parts of qualpipe's BERTopic pipeline: Danish lemma analyser, embedding backend, parameters, the model."""

from __future__ import annotations

import logging
from bisect import bisect_right
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable


@lru_cache(maxsize=1)
def domain_stop_words() -> frozenset[str]:
    """Danish stop words, the domain's own, and English and Swedish function words (interviews and
    logbooks mix them in: "the", "and", "och", "jag"), except those that are Danish words in their own
    right ("is", "far", "by", "under")."""
    from spacy.lang.da.stop_words import STOP_WORDS
    from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH
    from spacy.lang.sv.stop_words import STOP_WORDS as SWEDISH

    from qualpipe.data import read_lines
    from qualpipe.text.nlp import danish_lemma_table

    danish = danish_lemma_table()
    foreign = {w for w in ENGLISH | SWEDISH if w not in danish}
    return frozenset(STOP_WORDS) | foreign | set(read_lines("stopwords.domain.da.txt"))


class DanishAnalyzer:
    """CountVectorizer analyzer: spaCy lemmas of Danish words, without stop words, short tokens and personal data.

    Words inside detected personal data (names, addresses, institutions) never become topic words: topic
    tables and reports show words, and those are not pseudonymised one by one.

    A fit analyses the same segments many times over: BERTopic's c-TF-IDF joins each topic's segments with
    spaces into one text, its KeyBERT-inspired words sample them again, coherence joins them into windows.
    `learn(texts)` analyses the segments once, in one spaCy batch; afterwards a learnt text, or learnt texts
    joined by single spaces, is a look-up (a joined text gets its segments' words, personal data detected
    per segment as everywhere else). Any other text is analysed as it comes."""

    HEAD = 64  # characters a learnt text is looked up by where a joined text is taken apart (shared openings)

    def __init__(self, pipeline: str = "", institutions: tuple[str, ...] = ()):
        self.pipeline = pipeline
        self.institutions = institutions
        self._learnt: dict[str, list[str]] = {}
        self._by_head: dict[str, list[str]] = {}

    def learn(self, texts: list[str]) -> None:
        """Analyse `texts` once, so that they and joins of them are look-ups from now on."""
        from qualpipe.text.nlp import load_nlp

        new = [t for t in dict.fromkeys(texts) if t not in self._learnt and t and t == t.strip()]
        for text, doc in zip(new, load_nlp(self.pipeline).pipe(new, batch_size=256)):
            self._learnt[text] = self._words(text, doc)
            self._by_head.setdefault(text[: self.HEAD], []).append(text)
        for candidates in self._by_head.values():
            candidates.sort(key=len, reverse=True)

    def __call__(self, text: str) -> list[str]:
        known = self._learnt.get(text)
        if known is None and self._learnt:
            known = self._joined(text)
        if known is None:
            from qualpipe.text.nlp import load_nlp

            known = self._words(text, load_nlp(self.pipeline)(text))
        return list(known)

    def _joined(self, text: str) -> list[str] | None:
        """The words of `text` if it is learnt texts joined by single spaces (longest match first), else None."""
        words: list[str] = []
        at = 0
        while at < len(text):
            part = self._part_at(text, at)
            if part is None:
                return None
            words += self._learnt[part]
            at += len(part) + 1
        return words

    def _part_at(self, text: str, at: int) -> str | None:
        def ends_here(candidate: str) -> bool:
            end = at + len(candidate)
            return text.startswith(candidate, at) and (end == len(text) or text[end] == " ")

        for candidate in self._by_head.get(text[at: at + self.HEAD], ()):
            if ends_here(candidate):
                return candidate
        # texts shorter than HEAD are their own head: try each space within reach, longest first
        limit = min(len(text), at + self.HEAD - 1)
        for end in sorted({limit} | {i for i in range(at + 1, limit) if text[i] == " "}, reverse=True):
            if text[at:end] in self._learnt and (end == len(text) or text[end] == " "):
                return text[at:end]
        return None

    def _words(self, text: str, doc) -> list[str]:
        from qualpipe.privacy.detect import find_personal_data

        stop = domain_stop_words()
        # non-overlapping and sorted, so their ends are sorted too: a token overlaps personal data when the
        # first entity ending after the token's start begins before its end (a bisection, not a scan of every
        # entity per token, which made long texts quadratic)
        private = find_personal_data(text, institutions=self.institutions)
        starts, ends = [e.start for e in private], [e.end for e in private]

        def is_private(token) -> bool:
            i = bisect_right(ends, token.idx)
            return i < len(starts) and starts[i] < token.idx + len(token.text)

        return [t.lemma_.lower() for t in doc
                if t.is_alpha and len(t.text) > 2 and t.lower_ not in stop and t.lemma_.lower() not in stop
                and not is_private(t)]


def _backend(embedder):
    from bertopic.backend import BaseEmbedder

    class QualpipeBackend(BaseEmbedder):
        """BERTopic's embedding backend over any qualpipe Embedder (used for keyword embeddings)."""

        def embed(self, documents, verbose=False):
            return embedder.encode(list(documents))

    return QualpipeBackend()


@dataclass(frozen=True)
class TopicParams:
    """Everything that decides a run's topics; stored with the run.

    min_topic_size: the smallest cluster that becomes a topic; None: 6, or one segment in 400 on larger corpora,
    so that 20k segments give tens of topics rather than a thousand.
    reduce_outliers: give each HDBSCAN outlier the topic whose centroid is nearest (cosine at least
    outlier_threshold), keeping the raw cluster beside it. guided: seed topics with the codebook's cues.
    theme_share: a topic takes a codebook theme when at least this share of its segments are coded with it.
    """

    seed: int = 42
    min_topic_size: int | None = None
    n_neighbors: int = 15
    n_components: int = 5
    mmr_diversity: float = 0.3
    top_n_words: int = 10
    reduce_outliers: bool = True
    outlier_threshold: float = 0.0
    guided: bool = False
    theme_share: float = 0.3


def resolved(params: TopicParams, n_segments: int) -> TopicParams:
    """The parameters with the automatic minimum topic size worked out for `n_segments`."""
    if params.min_topic_size is not None:
        return params
    return replace(params, min_topic_size=max(6, n_segments // 400))


def build_model(
    embedder, params: TopicParams, analyzer: DanishAnalyzer, seed_topic_list: list[list[str]] | None = None,
    stage: Callable[[str], None] = lambda message: None,
):
    """The BERTopic model for `params`; `stage` hears each step of its fit as it starts."""
    from bertopic import BERTopic
    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance
    from sklearn.feature_extraction.text import CountVectorizer

    from qualpipe.topics.stages import staged_hdbscan, staged_umap

    model = BERTopic(
        embedding_model=_backend(embedder),
        umap_model=staged_umap(
            stage,
            n_neighbors=params.n_neighbors,
            n_components=params.n_components,
            min_dist=0.0,
            metric="cosine",
            random_state=params.seed,
        ),
        hdbscan_model=staged_hdbscan(
            stage, min_cluster_size=params.min_topic_size, metric="euclidean", prediction_data=True,
            core_dist_n_jobs=1,  # the same clusters; joblib starting worker processes cost ~8 s of a 9 s clustering
        ),
        vectorizer_model=CountVectorizer(analyzer=analyzer),
        representation_model={
            "Main": KeyBERTInspired(),
            "MMR": MaximalMarginalRelevance(diversity=params.mmr_diversity),
        },
        top_n_words=params.top_n_words,
        seed_topic_list=seed_topic_list,
    )
    quiet_bertopic()
    return model


def quiet_bertopic() -> None:
    """BERTopic warns on steps qualpipe takes on purpose (custom assignments, no saved embedding model)."""
    logging.getLogger("BERTopic").setLevel(logging.ERROR)
