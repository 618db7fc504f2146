"""Topic runs: fit on the store's cached embeddings, store the run, its quality and assignments; assign new text."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from qualpipe.errors import UserError
from qualpipe.private_files import make_private, private_dir, private_file
from qualpipe.store import utc_now
from qualpipe.topics.model import DanishAnalyzer, TopicParams, _backend, build_model, quiet_bertopic, resolved
from qualpipe.topics.quality import npmi_coherence, topic_diversity

N_REPRESENTATIVE = 3
WINDOW_SENTENCES = 5


@dataclass(frozen=True)
class TopicAssignment:
    topic: int
    probability: float


def topic_segments(segments) -> list:
    """What topics are fitted on: current segments, without the interviewer's questions."""
    return [s for s in segments if s.role != "interviewer"]


def _fingerprint(model_id: str, params: TopicParams, segment_ids: list[int], texts: list[str]) -> str:
    digest = hashlib.sha256(json.dumps([model_id, asdict(params), segment_ids], sort_keys=True).encode())
    for text in texts:
        digest.update(text.encode("utf-8") + b"\x1f")
    return digest.hexdigest()


def cooccurrence_windows(segments, size: int = WINDOW_SENTENCES) -> list[str]:
    """Texts for coherence: runs of up to `size` consecutive sentences of one document (a logbook entry is
    usually one run). Single sentences are too short for word pairs to co-occur."""
    windows, current, document = [], [], None
    for s in segments:
        if s.document_id != document or len(current) == size:
            if current:
                windows.append(" ".join(current))
            current, document = [], s.document_id
        current.append(s.norm_text)
    if current:
        windows.append(" ".join(current))
    return windows


def nearest_topics(topics: list[int], X: np.ndarray, centroids: np.ndarray, threshold: float) -> list[int]:
    """Outliers (-1) take the topic whose centroid is most similar, when that cosine reaches `threshold`."""
    outliers = [i for i, t in enumerate(topics) if t == -1]
    if not outliers or not len(centroids):
        return list(topics)
    sims = X[outliers] @ centroids.T
    best = sims.argmax(axis=1)
    result = list(topics)
    for i, b, s in zip(outliers, best, sims[np.arange(len(outliers)), best]):
        if s >= threshold:
            result[i] = int(b)
    return result


def _centroids(X: np.ndarray, topics: np.ndarray, n_topics: int) -> np.ndarray:
    centroids = np.zeros((n_topics, X.shape[1]), dtype=np.float32)
    for t in range(n_topics):
        members = X[topics == t]
        if len(members):
            c = members.mean(axis=0)
            centroids[t] = c / (np.linalg.norm(c) or 1.0)
    return centroids


def _topic_embeddings(X: np.ndarray, topics: np.ndarray) -> np.ndarray:
    """What a saved model assigns new text by: each final topic's mean segment vector, in BERTopic's order (the
    outliers' row first while some remain). BERTopic's update_topics keeps the outlier row after outliers are
    reduced (it compares the new topics with themselves), which shifted every assignment by one topic."""
    return np.vstack([X[topics == t].mean(axis=0) for t in sorted(set(topics.tolist()))])


def topic_words(model, topic: int, n: int) -> list[str]:
    """The topic's words as its representation gives them; where that comes back empty (KeyBERT found no
    candidate close enough), its highest c-TF-IDF words, so no topic is shown without words."""
    words = [w for w, _ in (model.get_topic(topic) or []) if w][:n]
    if words:
        return words
    row = model.c_tf_idf_[topic + model._outliers].toarray().ravel()
    vocabulary = model.vectorizer_model.get_feature_names_out()
    return [str(vocabulary[i]) for i in np.argsort(-row, kind="stable")[:n] if row[i] > 0]


def _representatives(segments, X: np.ndarray, members: np.ndarray, centroid: np.ndarray) -> list[int]:
    """Ids of the member segments nearest the topic's centroid, skipping repeated texts."""
    chosen, seen = [], set()
    for i in np.argsort(-(X[members] @ centroid), kind="stable"):
        segment = segments[members[i]]
        if segment.norm_text.lower() not in seen:
            seen.add(segment.norm_text.lower())
            chosen.append(segment.id)
            if len(chosen) == N_REPRESENTATIVE:
                break
    return chosen


def _finite(value: float) -> float | None:
    return round(value, 4) if np.isfinite(value) else None


def _themes(engine, texts: list[str], topics: np.ndarray, n_topics: int, min_share: float) -> dict[int, tuple]:
    """Zero-shot: the codebook theme most of a topic's segments are coded with, if its share reaches `min_share`."""
    coded = engine.sentence_scores(texts) >= engine.threshold
    themes = {}
    for t in range(n_topics):
        members = topics == t
        if members.any():
            shares = coded[members].mean(axis=0)
            best = int(shares.argmax())
            if shares[best] >= min_share:
                themes[t] = (engine.codebook.ids[best], round(float(shares[best]), 4))
    return themes


class TopicRuns:
    """A project's stored topic runs: their rows in the store and their saved models under `folder` (the
    project folder; a run's model path is stored relative to it, so the project can move)."""

    def __init__(self, store, folder: Path):
        self.store = store
        self.folder = Path(folder)

    def model_dir(self, stored: str) -> Path:
        """A run's saved model folder: stored relative to the project (older stores: as an absolute path)."""
        return self.folder.resolve() / stored

    def rows(self) -> list[dict]:
        """Every stored run with its parameters, model id, coherence and diversity."""
        return [dict(r) for r in self.store.query("SELECT * FROM topic_runs ORDER BY id")]

    def any(self) -> bool:
        return bool(self.store.query("SELECT 1 FROM topic_runs LIMIT 1"))

    def info(self, run_id: int) -> dict:
        rows = self.store.query("SELECT * FROM topic_runs WHERE id = ?", (run_id,))
        if not rows or not self.model_dir(rows[0]["model_path"]).is_dir():
            raise UserError(f"topic run {run_id}: not found; see 'qualpipe topics list'")
        return {**dict(rows[0]), "model_path": str(self.model_dir(rows[0]["model_path"]))}

    def latest(self) -> int:
        rows = self.store.query("SELECT MAX(id) FROM topic_runs")
        if rows[0][0] is None:
            raise UserError("no topic run yet; run 'qualpipe topics' first")
        return int(rows[0][0])

    def resolve(self, run_id: int | None) -> int:
        """The given run id, checked, or the latest run's when none is given."""
        if run_id is None:
            return self.latest()
        self.info(run_id)
        return run_id

    def load_model(self, run_id: int, embedder):
        """The saved BERTopic model of a run, with qualpipe's embedder plugged in."""
        from bertopic import BERTopic

        model = BERTopic.load(self.info(run_id)["model_path"], embedding_model=_backend(embedder))
        quiet_bertopic()
        return model

    def assign(self, run_id: int, texts: list[str], embedder) -> list[TopicAssignment]:
        """Label new texts with a stored run's topics, without refitting; outliers are reduced as in the run."""
        info = self.info(run_id)
        params = TopicParams(**json.loads(info["params"]))
        model = self.load_model(run_id, embedder)
        X = np.asarray(embedder.encode(texts))
        topics, probabilities = model.transform(texts, X)
        topics = [int(t) for t in topics]
        if params.reduce_outliers:
            topics = nearest_topics(topics, X, np.load(Path(info["model_path"]) / "centroids.npy"),
                                    params.outlier_threshold)
        return [TopicAssignment(t, round(float(p), 4)) for t, p in zip(topics, np.ravel(probabilities))]

    def fit(self, segments, embedder, coding_engine, analyzer: DanishAnalyzer, params: TopicParams = TopicParams(),
            *, refit: bool = False, stage: Callable[[str], None] = lambda message: None) -> int:
        """Fit on the non-interviewer `segments` (embedded with `embedder`, the store's cache) and store the run;
        returns its id. `coding_engine` names each topic's codebook theme; `analyzer` makes its words.

        The same parameters on the same segments give the same topics, so an identical earlier run is
        returned instead of stored again, unless `refit`. `stage` hears each step as it starts (the
        command prints them: a fit of thousands of segments takes minutes)."""
        store = self.store
        segments = topic_segments(segments)
        params = resolved(params, len(segments))
        if len(segments) < 3 * params.min_topic_size:
            raise UserError(f"only {len(segments)} segment(s): too few for topics; ingest more text first")
        texts = [s.norm_text for s in segments]
        fingerprint = _fingerprint(embedder.model_id, params, [s.id for s in segments], texts)
        if not refit:
            earlier = store.query(
                "SELECT id, model_path FROM topic_runs WHERE fingerprint = ? ORDER BY id DESC LIMIT 1", (fingerprint,)
            )
            if earlier and self.model_dir(earlier[0]["model_path"]).is_dir():
                return int(earlier[0]["id"])
        stage(f"loading {len(texts)} segments' vectors (cached ones are read, not embedded)")
        X = embedder.encode(texts)
        stage(f"words of {len(texts)} segments (lemmas without stop words and personal data)")
        analyzer.learn(texts)
        codebook = coding_engine.codebook
        seeds = [list(code.cues) for code in codebook.codes if code.cues] if params.guided else None
        stage("loading BERTopic, UMAP and HDBSCAN")
        model = build_model(embedder, params, analyzer, seed_topic_list=seeds, stage=stage)
        raw_topics, probabilities = model.fit_transform(texts, X)
        quiet_bertopic()
        raw_topics = [int(t) for t in raw_topics]
        n_topics = max(raw_topics) + 1
        topics = raw_topics
        if params.reduce_outliers and -1 in raw_topics and n_topics > 0:
            topics = nearest_topics(
                raw_topics, X, _centroids(X, np.asarray(raw_topics), n_topics), params.outlier_threshold
            )
            if topics != raw_topics:
                stage("topic words again, outliers given their nearest topic")
                model.update_topics(
                    texts,
                    topics=topics,
                    top_n_words=params.top_n_words,
                    vectorizer_model=model.vectorizer_model,
                    ctfidf_model=model.ctfidf_model,
                    representation_model=model.representation_model,
                )
        topic_array = np.asarray(topics)
        model.topic_embeddings_ = _topic_embeddings(X, topic_array)
        words = {t: topic_words(model, t, params.top_n_words) for t in range(n_topics)}
        stage("quality (NPMI coherence, diversity) and codebook themes")
        npmi = npmi_coherence(list(words.values()), cooccurrence_windows(segments), analyzer)
        diversity = topic_diversity(list(words.values()))
        themes = _themes(coding_engine, texts, topic_array, n_topics, params.theme_share)
        centroids = _centroids(X, topic_array, n_topics)
        labels = model.get_topic_info().set_index("Topic")["Name"].to_dict()
        stage("saving the run")
        with store.transaction() as conn:
            run_id = conn.execute(
                "INSERT INTO topic_runs (created_at, model_id, params, n_segments, n_topics, model_path, npmi, "
                "diversity,"
                " fingerprint) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    utc_now(),
                    embedder.model_id,
                    json.dumps(asdict(params)),
                    len(segments),
                    n_topics,
                    "",
                    _finite(npmi),
                    _finite(diversity),
                    fingerprint,
                ),
            ).lastrowid
            relative = Path("topic-models") / f"run-{run_id}"  # relative to the project, wherever it is run from
            path = self.model_dir(str(relative))
            conn.execute("UPDATE topic_runs SET model_path = ? WHERE id = ?", (str(relative), run_id))
            for t in sorted(set(topics)):
                members = np.flatnonzero(topic_array == t)
                representative = _representatives(segments, X, members, centroids[t]) if t >= 0 else []
                theme, share = themes.get(t, (None, None))
                conn.execute(
                    "INSERT INTO topics (run_id, topic, size, label, words, theme, theme_score, representative)"
                    " VALUES (?,?,?,?,?,?,?,?)",
                    (
                        run_id,
                        t,
                        len(members),
                        labels.get(t, str(t)),
                        json.dumps(words.get(t, []), ensure_ascii=False),
                        theme,
                        share,
                        json.dumps(representative),
                    ),
                )
            conn.executemany(
                "INSERT INTO segment_topics (run_id, segment_id, topic, probability, raw_topic) VALUES (?,?,?,?,?)",
                [
                    (run_id, s.id, t, round(float(p), 4), r)
                    for s, t, r, p in zip(segments, topics, raw_topics, np.ravel(probabilities))
                ],
            )
        # topic words and sizes come from the case files: the model's folder is its owner's only, like the store
        private_dir(path.parent)
        model.save(str(path), serialization="safetensors", save_ctfidf=True, save_embedding_model=False)
        with private_file(path / "centroids.npy", "wb") as handle:
            np.save(handle, centroids)
        make_private(path)
        return run_id
