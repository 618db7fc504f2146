"""Sentence segmentation and lemmatisation measured against UD Danish-DDT gold.

Usage: .venv/bin/python bench/eval_ud_ddt.py [--ud ../shared/data/external/ud_danish_ddt] [--pipeline NAME]

Sentences: the `test-N` block of the test file is running text (PAROLE excerpts in order), so
its sentences are joined with a space and split again by qualpipe's own segmentation path;
boundary precision/recall/F1 are computed on sentence end offsets. Lemmas: qualpipe's
lemmatizer on the gold tokens, accuracy against the gold lemma (dev was used to choose the
overrides in qualpipe/data/lemma_fixes.da.tsv; test is the held-out figure).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spacy.tokens import Doc

from qualpipe.ingest.transcripts import Turn
from qualpipe.text.nlp import load_nlp
from qualpipe.text.segment import Cleaning, segment_turns

DEFAULT_UD = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "ud_danish_ddt"


def read_conllu(path: Path) -> list[dict]:
    sentences, current = [], {"tokens": []}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# sent_id"):
            current["id"] = line.split("=", 1)[1].strip()
        elif line.startswith("# text"):
            current["text"] = line.split("=", 1)[1].strip()
        elif line and not line.startswith("#"):
            cols = line.split("\t")
            if "-" in cols[0] or "." in cols[0]:
                continue
            current["tokens"].append(
                {"form": cols[1], "lemma": cols[2], "upos": cols[3], "space": "SpaceAfter=No" not in cols[9]}
            )
        elif not line and current["tokens"]:
            sentences.append(current)
            current = {"tokens": []}
    if current["tokens"]:
        sentences.append(current)
    return sentences


def boundary_scores(sentences: list[dict], nlp) -> dict[str, float]:
    text, gold_ends = "", set()
    for sentence in sentences:
        if text:
            text += " "
        text += sentence["text"]
        gold_ends.add(len(text))
    drafts = segment_turns(text, [Turn(None, "unknown", 0, len(text))], nlp, Cleaning(remove_timestamps=False))
    predicted = {d.end for d in drafts}
    # The end of the text is a boundary by construction: leave it out of both sides.
    gold_ends.discard(len(text))
    predicted.discard(len(text))
    tp = len(gold_ends & predicted)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(gold_ends) if gold_ends else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"sentences": len(sentences), "precision": precision, "recall": recall, "f1": f1}


def lemma_scores(sentences: list[dict], nlp) -> dict[str, float]:
    lemmatizer = nlp.get_pipe("qualpipe_lemmatizer") if "qualpipe_lemmatizer" in nlp.pipe_names else None
    total = correct = correct_ci = content = content_correct = 0
    for sentence in sentences:
        words = [t["form"] for t in sentence["tokens"]]
        doc = Doc(nlp.vocab, words=words, spaces=[t["space"] for t in sentence["tokens"]])
        if lemmatizer is not None:
            doc = lemmatizer(doc)
        else:
            for _, component in nlp.pipeline:
                doc = component(doc)
        for token, gold in zip(doc, sentence["tokens"]):
            total += 1
            correct += token.lemma_ == gold["lemma"]
            correct_ci += token.lemma_.lower() == gold["lemma"].lower()
            if gold["upos"] not in ("PUNCT", "NUM", "SYM", "X"):
                content += 1
                content_correct += token.lemma_.lower() == gold["lemma"].lower()
    return {
        "tokens": total,
        "accuracy": correct / total,
        "accuracy_ignoring_case": correct_ci / total,
        "accuracy_words_ignoring_case": content_correct / content,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ud", type=Path, default=DEFAULT_UD)
    parser.add_argument("--pipeline", default="", help="a trained spaCy pipeline instead of the default")
    args = parser.parse_args(argv)
    test = read_conllu(args.ud / "da_ddt-ud-test.conllu")
    dev = read_conllu(args.ud / "da_ddt-ud-dev.conllu")
    nlp = load_nlp(args.pipeline)
    running = [s for s in test if s["id"].startswith("test-")]
    print(f"pipeline: {args.pipeline or 'blank da + sentencizer + qualpipe lookup lemmatizer'}")
    print("sentence boundaries, test-N block as running text:", _fmt(boundary_scores(running, nlp)))
    print("sentence boundaries, all dev+test sentences joined:", _fmt(boundary_scores(dev + test, nlp)))
    print("lemmas, dev (tuning):", _fmt(lemma_scores(dev, nlp)))
    print("lemmas, test (held out):", _fmt(lemma_scores(test, nlp)))
    return 0


def _fmt(scores: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in scores.items())


if __name__ == "__main__":
    sys.exit(main())
