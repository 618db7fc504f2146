"""Topics against gold labels: qualpipe's BERTopic beside scikit-learn LDA and NMF on SIB-200 Danish.

Usage: .venv/bin/python bench/eval_topics_sib200.py [--data ../shared/data/external/sib200_dan]

All 1,004 sentences (train+dev+test pooled; 7 topic classes), embedded once with qualpipe's default
model. Each method's clusters are compared with the gold classes by NMI and ARI (outliers, where a
method keeps them, count as one more cluster). LDA and NMF get the true number of classes (7) and the
same Danish lemma analyser; BERTopic finds its own number of topics, and is also reduced to 7.
NPMI (documents as windows) and topic diversity are printed for each method's top-10 words.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import NMF, LatentDirichletAllocation
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from qualpipe.engines import Engines
from qualpipe.topics.model import DanishAnalyzer, TopicParams, build_model
from qualpipe.topics.quality import npmi_coherence, topic_diversity
from qualpipe.topics.runs import nearest_topics

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "sib200_dan"
SEED = 42


def load(folder: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for split in ("train", "dev", "test"):
        with (folder / f"{split}.tsv").open(encoding="utf-8") as stream:
            for row in csv.DictReader(stream, delimiter="\t"):
                texts.append(row["text"])
                labels.append(row["category"])
    return texts, labels


def top_words(components: np.ndarray, vocabulary: np.ndarray, n: int = 10) -> list[list[str]]:
    return [list(vocabulary[np.argsort(-row)[:n]]) for row in components]


def report(name: str, labels: list[str], predicted, words, texts, analyzer, seconds: float) -> None:
    predicted = np.asarray(predicted)
    print(
        f"{name:<34} topics {len(set(predicted[predicted >= 0])):>3}  outliers {int((predicted < 0).sum()):>4}  "
        f"NMI {normalized_mutual_info_score(labels, predicted):.3f}  ARI {adjusted_rand_score(labels, predicted):.3f}  "
        f"NPMI {npmi_coherence(words, texts, analyzer):+.3f}  diversity {topic_diversity(words):.3f}  {seconds:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    texts, labels = load(args.data)
    print(f"SIB-200 Danish: {len(texts)} sentences, {len(set(labels))} classes")
    analyzer = DanishAnalyzer()
    embedder = Engines().raw_embedder()
    start = time.perf_counter()
    X = embedder.encode(texts, kind="passage")
    print(f"embedded with {embedder.model_id} in {time.perf_counter() - start:.1f} s")

    for params, reduce_to in ((TopicParams(min_topic_size=10), None), (TopicParams(min_topic_size=10), 7)):
        start = time.perf_counter()
        model = build_model(embedder, params, analyzer)
        model.nr_topics = reduce_to
        raw, _ = model.fit_transform(texts, X)
        raw = [int(t) for t in raw]
        n = max(raw) + 1
        words = [[w for w, _ in model.get_topic(t)][:10] for t in range(n)]
        name = "BERTopic" + (f" (reduced to {reduce_to})" if reduce_to else "")
        report(name + ", outliers kept", labels, raw, words, texts, analyzer, time.perf_counter() - start)
        centroids = np.stack([X[np.asarray(raw) == t].mean(axis=0) for t in range(n)])
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        report(
            name + ", outliers reduced",
            labels,
            nearest_topics(raw, X, centroids, 0.0),
            words,
            texts,
            analyzer,
            time.perf_counter() - start,
        )

    counts = CountVectorizer(analyzer=analyzer, min_df=2)
    bow = counts.fit_transform(texts)
    vocabulary = counts.get_feature_names_out()
    start = time.perf_counter()
    lda = LatentDirichletAllocation(n_components=7, random_state=SEED, learning_method="batch", max_iter=50)
    doc_topics = lda.fit_transform(bow)
    report(
        "LDA (k=7)",
        labels,
        doc_topics.argmax(axis=1),
        top_words(lda.components_, vocabulary),
        texts,
        analyzer,
        time.perf_counter() - start,
    )
    start = time.perf_counter()
    nmf = NMF(n_components=7, random_state=SEED, init="nndsvda", max_iter=500)
    doc_topics = nmf.fit_transform(TfidfTransformer().fit_transform(bow))
    report(
        "NMF (k=7, tf-idf)",
        labels,
        doc_topics.argmax(axis=1),
        top_words(nmf.components_, vocabulary),
        texts,
        analyzer,
        time.perf_counter() - start,
    )


if __name__ == "__main__":
    main()
