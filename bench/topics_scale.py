"""Topics at scale: time and peak memory to fit on 20k cached segments and to assign 100k more.

Usage: .venv/bin/python bench/topics_scale.py [--fit 20000] [--assign 100000]

The corpus is a synthetic scale-up of the sample corpora: each synthetic segment joins two real
sample sentences into one ("A, og b"), so texts are unique and Danish. Its embedding is the
normalised sum of the two sentences' real embeddings (default model) plus a little noise, written into the
store's embedding cache beforehand: the figures are for qualpipe's topic stages on cached
embeddings (ingest, UMAP, HDBSCAN, c-TF-IDF, KeyBERT-inspired words, NPMI, themes, store writes;
assigning: cosine to each topic's embedding in the saved model, outlier reduction), not for embedding 120k texts,
which bench/pipeline.py measures. Each phase runs in its own process so its peak RSS is its own.

The fit runs twice, each in a fresh process: first with an empty numba cache (what the first fit on a
machine costs: UMAP's numba code is compiled and kept), then again with that cache warm (every later fit).
Both print their time per stage, as `qualpipe topics` announces them, and the CPU time of the fit (user and
system, all threads: on a shared machine the wall time also holds the waiting); the warm fit is the figure for issue #21
(under 30 s on 20k segments). The two fits must give the same topics (same seed), which the bench checks.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from sample_corpus import new_project, sample_sentences, write_jsonl

from qualpipe.engines import Engines

SEED = 7


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def joined(texts: list[str], vectors: np.ndarray, n: int, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """n unique synthetic segments and their vectors."""
    seen, out_texts, out_vectors = set(), [], []
    while len(out_texts) < n:
        a, b = (int(i) for i in rng.integers(0, len(texts), 2))
        if a == b or (a, b) in seen:
            continue
        seen.add((a, b))
        first, second = texts[a].rstrip(".!?"), texts[b]
        out_texts.append(f"{first}, og {second[0].lower()}{second[1:]}")
        v = vectors[a] + vectors[b] + rng.normal(0, 0.02, vectors.shape[1])
        out_vectors.append(v / np.linalg.norm(v))
    return out_texts, np.asarray(out_vectors, dtype=np.float32)


def prefill_cache(project, texts: list[str], vectors: np.ndarray) -> None:
    from qualpipe.embed.cache import store_vectors

    store_vectors(project.store, project.cached_embedder().model_id, texts, vectors)


def fit_phase(root: str, numba_cache: str, queue) -> None:
    import os

    import umap  # noqa: F401  pynndescent's own cache=True code loads from where pip installed it, as for a user

    os.environ["NUMBA_CACHE_DIR"] = numba_cache  # read by qualpipe when it turns on caching for UMAP's code
    from qualpipe.project import Project

    stages: list[tuple[str, float]] = []
    with Project(root) as project:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_before = usage.ru_utime + usage.ru_stime
        start = time.perf_counter()
        run_id = project.fit_topics(refit=True, stage=lambda message: stages.append((message, time.perf_counter())))
        end = time.perf_counter()
        run = dict(project.store.query("SELECT n_segments, n_topics, npmi, diversity FROM topic_runs WHERE id = ?",
                                       (run_id,))[0])
        assigned = [tuple(r) for r in project.store.query(
            "SELECT segment_id, topic FROM segment_topics WHERE run_id = ? ORDER BY segment_id", (run_id,))]
    # each stage lasts until the next one starts; the time before the first is opening the store and the engines
    times = [("start", end - start if not stages else stages[0][1] - start)]
    times += [(message, (stages[i + 1][1] if i + 1 < len(stages) else end) - at)
              for i, (message, at) in enumerate(stages)]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    queue.put({"run_id": run_id, "seconds": end - start, "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_before,
               "peak_mb": _peak_mb(), "stages": times,
               "assigned": assigned, **run})


def print_fit(label: str, fit: dict) -> None:
    print(f"fit ({label}) {fit['n_segments']:>7} segments: {fit['seconds']:7.1f} s (CPU {fit['cpu_seconds']:.1f} s), "
          f"peak RSS {fit['peak_mb']:7.0f} MB, "
          f"{fit['n_topics']} topics, NPMI {fit['npmi']}, diversity {fit['diversity']}")
    for message, seconds in fit["stages"]:
        print(f"    {seconds:6.1f} s  {message}")


def assign_phase(root: str, texts_path: str, queue) -> None:
    from qualpipe.project import Project

    texts = json.loads(Path(texts_path).read_text(encoding="utf-8"))
    with Project(root) as project:
        run_id = int(project.store.query("SELECT MAX(id) FROM topic_runs")[0][0])
        start = time.perf_counter()
        assigned = project.assign_topics(run_id, texts)
        seconds = time.perf_counter() - start
    queue.put({"seconds": seconds, "peak_mb": _peak_mb(), "n": len(assigned),
               "outliers": sum(a.topic < 0 for a in assigned)})


def in_process(target, *args) -> dict:
    queue = mp.get_context("spawn").Queue()
    process = mp.get_context("spawn").Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", type=int, default=20_000)
    parser.add_argument("--assign", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    workdir = Path(tempfile.mkdtemp(prefix="qualpipe-topics-scale-"))
    try:
        texts = sample_sentences(15)
        vectors = Engines().raw_embedder().encode(texts)
        fit_texts, fit_vectors = joined(texts, vectors, args.fit + args.assign, rng)
        new_texts, new_vectors = fit_texts[args.fit:], fit_vectors[args.fit:]
        fit_texts, fit_vectors = fit_texts[:args.fit], fit_vectors[:args.fit]
        days = rng.integers(0, 365, len(fit_texts))
        source = write_jsonl([{"entry_id": f"s{i}", "case_id": f"S{i % 400:03d}",
                               "date": (np.datetime64("2024-01-01") + int(day)).astype(str), "text": text}
                              for i, (text, day) in enumerate(zip(fit_texts, days))], workdir / "entries.jsonl")
        root = workdir / "scaled"
        with new_project(root) as project:
            start = time.perf_counter()
            project.ingest([source], "logbook")
            ingest_seconds = time.perf_counter() - start
            stored = [s.norm_text for s in project.segments()]
            vector_of = dict(zip(fit_texts, fit_vectors))
            missing = [t for t in stored if t not in vector_of]
            prefill_cache(project, fit_texts, fit_vectors)
            prefill_cache(project, new_texts, new_vectors)
            if missing:
                project.cached_embedder().encode(missing)
        print(f"synthetic corpus: {len(stored)} segments in {len(fit_texts)} entries of 400 cases "
              f"(ingest {ingest_seconds:.0f} s; {len(missing)} segments embedded for real)")
        numba_cache = str(workdir / "numba-cache")
        cold = in_process(fit_phase, str(root), numba_cache)
        print_fit("empty numba cache", cold)
        warm = in_process(fit_phase, str(root), numba_cache)
        print_fit("warm numba cache", warm)
        print(f"warm/cold time: {warm['seconds'] / cold['seconds']:.2f}; same topics for the same seed: "
              f"{cold['assigned'] == warm['assigned']}")
        texts_path = workdir / "new.json"
        texts_path.write_text(json.dumps(new_texts, ensure_ascii=False), encoding="utf-8")
        assign = in_process(assign_phase, str(root), str(texts_path))
        print(f"assign {assign['n']:>7} segments: {assign['seconds']:7.1f} s, peak RSS {assign['peak_mb']:7.0f} MB, "
              f"{assign['n'] / assign['seconds']:.0f} segments/s, {assign['outliers']} left as outliers")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
