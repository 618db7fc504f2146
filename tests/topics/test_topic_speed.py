"""The fast path of a topic fit: exact neighbours for UMAP, segments analysed once, UMAP's numba code cached."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
from sklearn.neighbors import NearestNeighbors

from qualpipe.project import Project
from qualpipe.topics import neighbours
from qualpipe.topics.model import DanishAnalyzer


def _texts(project: Project, n: int) -> list[str]:
    return [s.norm_text for s in project.store.segments()][:n]


def test_exact_neighbours_are_scikit_learns_brute_force_neighbours_with_each_segment_first(topic_corpus):
    texts = _texts(topic_corpus, 300)
    X = topic_corpus.cached_embedder().encode(texts)
    X = np.vstack([X, X[:1]])  # a repeated text: each copy is still its own nearest
    indices, distances = neighbours.exact_neighbours(X, 15)
    expected_distances, expected = NearestNeighbors(n_neighbors=15, metric="cosine", algorithm="brute").fit(
        X).kneighbors(X)
    assert indices.shape == (len(X), 15) and list(indices[:, 0]) == list(range(len(X)))
    assert np.allclose(distances, expected_distances, atol=1e-5)
    same = [set(a[:-1]) == set(b[:-1]) for a, b in zip(indices, expected)]  # the last place may be a tie
    assert np.mean(same) > 0.98 and indices[0, 1] == len(X) - 1 and indices[-1, 1] == 0


def test_a_learnt_analyzer_gives_a_joined_text_its_segments_words_and_still_drops_names():
    parts = ["Vi hentede Oliver i Mælkebøtten og byggede en hule.", "Børnene legede med hundene.",
             "Mor var glad.", "Hun sad ved hans side og så en film."]
    fresh = DanishAnalyzer(institutions=("Mælkebøtten",))
    learnt = DanishAnalyzer(institutions=("Mælkebøtten",))
    learnt.learn(parts)
    joined = " ".join(parts)
    assert learnt(joined) == [w for part in parts for w in fresh(part)]
    assert "oliver" not in learnt(joined) and "mælkebøtten" not in learnt(joined)
    assert learnt(" ".join(parts[1:3])) == fresh(parts[1]) + fresh(parts[2])
    assert learnt("Vi spillede fodbold med Oliver.") == fresh("Vi spillede fodbold med Oliver.") == ["spille",
                                                                                                      "fodbold"]


def test_with_exact_neighbours_a_refit_gives_the_same_topics_and_new_text_is_assigned(topic_corpus, tmp_path,
                                                                                      monkeypatch):
    root = tmp_path / "copy"
    shutil.copytree(topic_corpus.root, root)
    monkeypatch.setattr(neighbours, "APPROXIMATE_FROM", 0)  # the sample corpus is below 4,096 segments
    with Project(root) as project:
        heard: list[str] = []
        first = project.fit_topics(refit=True, stage=heard.append)
        second = project.fit_topics(refit=True)
        assert any(message.startswith("neighbours: exact") for message in heard)

        def table(run: int) -> list[tuple]:
            return [tuple(r) for r in project.store.query(
                "SELECT s.segment_id, s.topic, s.raw_topic, t.words FROM segment_topics s JOIN topics t"
                " ON t.run_id = s.run_id AND t.topic = s.topic WHERE s.run_id = ? ORDER BY s.segment_id", (run,))]

        assert first != second and table(first) == table(second) and len({r[1] for r in table(first)}) >= 3
        texts, expected = [], []
        for row in project.store.query("SELECT topic, representative FROM topics WHERE run_id = ? AND topic >= 0",
                                       (second,)):
            for segment_id in json.loads(row["representative"]):
                texts.append(project.store.query("SELECT norm_text FROM segments WHERE id = ?", (segment_id,))[0][0])
                expected.append(row["topic"])
        assigned = project.assign_topics(second, texts)
    assert sum(a.topic == e for a, e in zip(assigned, expected)) / len(expected) >= 0.8


def test_umaps_compiled_code_is_kept_in_the_numba_cache_folder(tmp_path):
    script = (
        "import numpy as np\n"
        "from qualpipe.topics.stages import staged_umap\n"
        "X = np.random.default_rng(0).normal(size=(200, 16)).astype(np.float32)\n"
        "staged_umap(print, n_neighbors=10, n_components=2, random_state=1).fit_transform(X)\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    cached = {p.name.split(".")[0] for p in (tmp_path / "numba").rglob("*.nbi")}
    assert {"layouts", "umap_"} <= cached, cached
