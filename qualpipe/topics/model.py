"""The parts of qualpipe's BERTopic pipeline: Danish lemma analyser, embedding backend, parameters, the model."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import lru_cache


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
    tables and reports show words, and those are not pseudonymised one by one."""

    def __init__(self, pipeline: str = "", institutions: tuple[str, ...] = ()):
        self.pipeline = pipeline
        self.institutions = institutions

    def __call__(self, text: str) -> list[str]:
        from qualpipe.privacy.detect import find_personal_data
        from qualpipe.text.nlp import load_nlp

        stop = domain_stop_words()
        private = find_personal_data(text, institutions=self.institutions)
        return [t.lemma_.lower() for t in load_nlp(self.pipeline)(text)
                if t.is_alpha and len(t.text) > 2 and t.lower_ not in stop and t.lemma_.lower() not in stop
                and not any(e.start < t.idx + len(t.text) and t.idx < e.end for e in private)]


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
    embedder, params: TopicParams, analyzer: DanishAnalyzer, seed_topic_list: list[list[str]] | None = None
):
    from bertopic import BERTopic
    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    model = BERTopic(
        embedding_model=_backend(embedder),
        umap_model=UMAP(
            n_neighbors=params.n_neighbors,
            n_components=params.n_components,
            min_dist=0.0,
            metric="cosine",
            random_state=params.seed,
        ),
        hdbscan_model=HDBSCAN(min_cluster_size=params.min_topic_size, metric="euclidean", prediction_data=True),
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
