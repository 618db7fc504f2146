"""BERTopic runs: fit on the store's cached embeddings, store the run and assignments, assign new segments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from qualpipe.errors import UserError
from qualpipe.store import utc_now

@lru_cache(maxsize=1)
def domain_stop_words() -> frozenset[str]:
    from spacy.lang.da.stop_words import STOP_WORDS

    text = resources.files("qualpipe.data").joinpath("stopwords.domain.da.txt").read_text(encoding="utf-8")
    return frozenset(STOP_WORDS) | {w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")}


class DanishAnalyzer:
    """CountVectorizer analyzer: spaCy lemmas of Danish words, without stop words and short tokens."""

    def __init__(self, pipeline: str = ""):
        self.pipeline = pipeline

    def __call__(self, text: str) -> list[str]:
        from qualpipe.text.nlp import load_nlp

        stop = domain_stop_words()
        return [t.lemma_.lower() for t in load_nlp(self.pipeline)(text)
                if t.is_alpha and len(t.text) > 2 and t.lower_ not in stop and t.lemma_.lower() not in stop]


def _backend(embedder):
    from bertopic.backend import BaseEmbedder

    class QualpipeBackend(BaseEmbedder):
        """BERTopic's embedding backend over any qualpipe Embedder (used for keyword embeddings)."""

        def embed(self, documents, verbose=False):
            return embedder.encode(list(documents))

    return QualpipeBackend()


@dataclass(frozen=True)
class TopicParams:
    seed: int = 42
    min_topic_size: int = 6
    n_neighbors: int = 15
    n_components: int = 5
    mmr_diversity: float = 0.3


def build_model(embedder, params: TopicParams, pipeline: str = ""):
    from bertopic import BERTopic
    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    return BERTopic(
        embedding_model=_backend(embedder),
        umap_model=UMAP(n_neighbors=params.n_neighbors, n_components=params.n_components, min_dist=0.0,
                        metric="cosine", random_state=params.seed),
        hdbscan_model=HDBSCAN(min_cluster_size=params.min_topic_size, metric="euclidean", prediction_data=True),
        vectorizer_model=CountVectorizer(analyzer=DanishAnalyzer(pipeline)),
        representation_model={"Main": KeyBERTInspired(), "MMR": MaximalMarginalRelevance(diversity=params.mmr_diversity)},
    )


def fit_topics(project, params: TopicParams = TopicParams()) -> int:
    """Fit on the current non-interviewer segments (embeddings from the cache); returns the run id."""
    store = project.store
    segments = [s for s in project.segments() if s.role != "interviewer"]
    if len(segments) < 3 * params.min_topic_size:
        raise UserError(f"only {len(segments)} segment(s): too few for topics; ingest more text first")
    embedder = project.cached_embedder()
    X = embedder.encode([s.norm_text for s in segments])
    model = build_model(embedder, params, project.config.pipeline)
    topics, _ = model.fit_transform([s.norm_text for s in segments], X)
    info = model.get_topic_info()
    with store.transaction() as conn:
        run_id = conn.execute(
            "INSERT INTO topic_runs (created_at, model_id, params, n_segments, n_topics, model_path) VALUES (?,?,?,?,?,?)",
            (utc_now(), embedder.model_id, json.dumps(params.__dict__), len(segments),
             int((info.Topic >= 0).sum()), "")).lastrowid
        path = project.root / "topic-models" / f"run-{run_id}"
        conn.execute("UPDATE topic_runs SET model_path = ? WHERE id = ?", (str(path), run_id))
        for row in info.itertuples():
            words = [w for w, _ in (model.get_topic(row.Topic) or [])][:10]
            conn.execute("INSERT INTO topics (run_id, topic, size, label, words) VALUES (?,?,?,?,?)",
                         (run_id, int(row.Topic), int(row.Count), row.Name, json.dumps(words, ensure_ascii=False)))
        conn.executemany("INSERT INTO segment_topics (run_id, segment_id, topic) VALUES (?,?,?)",
                         [(run_id, s.id, int(t)) for s, t in zip(segments, topics)])
    model.save(str(path), serialization="safetensors", save_ctfidf=True, save_embedding_model=False)
    return run_id


def assign_topics(project, run_id: int, texts: list[str]) -> list[int]:
    """Label new texts with a stored run's topics, without refitting."""
    from bertopic import BERTopic

    rows = project.store.query("SELECT model_path FROM topic_runs WHERE id = ?", (run_id,))
    if not rows or not Path(rows[0][0]).is_dir():
        raise UserError(f"topic run {run_id}: not found; see 'qualpipe topics list'")
    embedder = project.cached_embedder()
    model = BERTopic.load(rows[0][0], embedding_model=_backend(embedder))
    topics, _ = model.transform(texts, np.asarray(embedder.encode(texts)))
    return [int(t) for t in topics]
