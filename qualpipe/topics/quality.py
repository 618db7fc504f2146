"""How good a topic run is, measured on its own corpus: NPMI coherence and topic diversity."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def npmi_coherence(topic_words: Sequence[Sequence[str]], documents: Sequence[str],
                   analyzer: Callable[[str], list[str]]) -> float:
    """Mean normalised PMI over each topic's word pairs, with documents (segments) as the co-occurrence window.

    A pair that never co-occurs scores -1, as in Bouma (2009) and Röder et al. (2015). Written here rather than
    taken from gensim, whose pins on numpy/scipy clash with the rest of qualpipe's stack; it is a few lines.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    vocabulary = sorted({w for words in topic_words for w in words})
    if not vocabulary or not documents:
        return float("nan")
    counts = CountVectorizer(analyzer=analyzer, vocabulary=vocabulary, binary=True).transform(documents)
    counts = counts.astype(np.float64).tocsc()
    n_docs = counts.shape[0]
    together = (counts.T @ counts).toarray() / n_docs
    alone = np.diag(together)
    index = {w: i for i, w in enumerate(vocabulary)}
    scores = []
    for words in topic_words:
        ids = [index[w] for w in words]
        for a in range(len(ids)):
            for b in range(a + 1, len(ids)):
                p_ab, p_a, p_b = together[ids[a], ids[b]], alone[ids[a]], alone[ids[b]]
                if p_ab == 0 or p_a == 0 or p_b == 0:
                    scores.append(-1.0)
                elif p_ab == 1.0:
                    scores.append(1.0)
                else:
                    scores.append(float(np.log(p_ab / (p_a * p_b)) / -np.log(p_ab)))
    return float(np.mean(scores)) if scores else float("nan")


def topic_diversity(topic_words: Sequence[Sequence[str]]) -> float:
    """Share of unique words among all topics' top words (Dieng et al. 2020): 1.0 means no word is shared."""
    words = [w for ws in topic_words for w in ws]
    return len(set(words)) / len(words) if words else float("nan")
