"""Theme coding measured on writers and speakers the coders never saw: zero-shot, the trained default and
few-shot learning from an evaluator's codes, side by side in one run.

Usage: .venv/bin/python bench/eval_themes.py [--model qualpipe/data/theme_model.npz] [--seed 13]

Units are the guide's: one respondent turn (corpora/interviews_dev) or one logbook entry (corpora/dev),
test split only (writers nobody trained or calibrated on). Zero-shot and the trained coder run through
`CodingEngine.unit_scores`/`assigned`, as `qualpipe code --input` does (an interview turn with the
interviewer's question before it as its `question`, as the annotators saw it). Few-shot: the test units are
halved by case; from the first half an evaluator codes 10 (or 30) units per code (each unit fully
coded, as a reviewed segment is), a learned head is fitted on them (`LearnedCoder`, the regression
`code --learn` fits, here over the unit vector and the trained coder's scores; `code --learn` itself fits
it per segment over the segment's vector, cue hits and zero-shot z-scores, which this bench does not
measure), and every coder is scored on the second half. The corpus's
human-human kappa (before adjudication) is the ceiling. Last, how often a code is right among the
(unit, code) pairs the trained coder scores in each band (its calibration on writers it never saw).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from qualpipe.coding.codebook import load_codebook
from qualpipe.coding.engine import CodingEngine
from qualpipe.coding.learn import LearnedCoder
from qualpipe.coding.metrics import agreement, macro_f1
from qualpipe.coding.trained import TrainedCoder, shipped_theme_model
from qualpipe.coding.training import load_units, unit_sentences
from qualpipe.engines import Engines
from qualpipe.learning.head import LinearHead, unit_means
from qualpipe.text.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]


def row(name: str, gold: np.ndarray, predicted: np.ndarray, codes: list[str]) -> dict:
    rows = agreement(gold, predicted, codes)
    return {
        "coder": name,
        "macro_f1": round(macro_f1(rows), 3),
        "min_precision": round(
            min(r.precision for r in rows if r.predicted) if any(r.predicted for r in rows) else 0, 3
        ),
        "codes": {r.code: [round(r.precision, 2), round(r.recall, 2), round(r.f1, 2), r.support] for r in rows},
    }


def show(title: str, results: list[dict], codes: list[str]) -> None:
    print(f"\n## {title}")
    print(f"{'code':26}" + "".join(f"{r['coder']:>22}" for r in results))
    for code in codes:
        cells = "".join(f"{'%.2f/%.2f/%.2f' % tuple(r['codes'][code][:3]):>22}" for r in results)
        print(f"{code:26}{cells}   (n={results[0]['codes'][code][3]})")
    print(f"{'macro-F1':26}" + "".join(f"{r['macro_f1']:>22.3f}" for r in results))
    print(f"{'lowest precision':26}" + "".join(f"{r['min_precision']:>22.2f}" for r in results))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    codebook = load_codebook(None)
    codes = codebook.ids
    nlp = load_nlp("")
    embedder = Engines().raw_embedder()
    head = LinearHead.load(args.model) if args.model else shipped_theme_model()
    zero = CodingEngine(codebook, embedder, nlp)
    trained = CodingEngine(codebook, embedder, nlp, trained=TrainedCoder(head))
    units = [u for u in load_units(ROOT / "corpora" / "dev", ROOT / "corpora" / "interviews_dev") if u.split == "test"]
    print(
        f"test split: {sum(u.source == 'interview' for u in units)} interview turns, "
        f"{sum(u.source == 'logbook' for u in units)} logbook entries; writers "
        f"{', '.join(sorted({u.writer for u in units}))}"
    )
    gold = np.array([[c in u.themes for c in codes] for u in units], dtype=bool)
    split = unit_sentences(nlp, [u.text for u in units])
    Z = zero.unit_scores(split) >= zero.thresholds
    asked = unit_sentences(nlp, [u.question for u in units])
    questions = [q if u.question.strip() else [] for q, u in zip(asked, units)]
    T_scores = trained.unit_scores(split, questions=questions)
    T = T_scores >= trained.thresholds
    for source in ("interview", "logbook"):
        rows = [i for i, u in enumerate(units) if u.source == source]
        show(
            f"test split, {source} ({len(rows)} units)",
            [row("zero-shot", gold[rows], Z[rows], codes), row("trained", gold[rows], T[rows], codes)],
            codes,
        )
    # calibration: among (unit, code) pairs the trained coder scores in a band, how often the code is right
    print("\n## calibration of the trained coder's scores on the test split (all codes, both kinds of text)")
    for low, high in ((0.0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01)):
        band = (T_scores >= low) & (T_scores < high)
        if band.any():
            print(
                f"score {low:.1f}-{min(high, 1.0):.1f}: {int(band.sum()):5d} pairs, right {gold[band].mean():.2f} "
                f"(mean score {T_scores[band].mean():.2f})"
            )

    # few-shot on the interviews: an evaluator codes k units per code in half of the test cases
    rng = random.Random(args.seed)
    interview = [i for i, u in enumerate(units) if u.source == "interview"]
    cases = sorted({units[i].unit_id.rsplit("-", 1)[0][:-1] for i in interview})
    rng.shuffle(cases)
    first = set(cases[: len(cases) // 2])
    pool = [i for i in interview if units[i].unit_id.rsplit("-", 1)[0][:-1] in first]
    held = [i for i in interview if i not in set(pool)]
    flat = [s for i in range(len(units)) for s in split[i]]
    vectors = embedder.encode(flat, kind="passage")
    means = unit_means(vectors, [len(unit) for unit in split])
    features = np.hstack([means, np.log(np.clip(T_scores, 1e-4, 1 - 1e-4) / np.clip(1 - T_scores, 1e-4, 1))])
    results = [row("zero-shot", gold[held], Z[held], codes), row("trained", gold[held], T[held], codes)]
    for k in (10, 30):
        chosen: set[int] = set()
        for j in range(len(codes)):
            positives = [i for i in pool if gold[i, j]]
            chosen.update(rng.sample(positives, min(k, len(positives))))
        negatives = [i for i in pool if i not in chosen]
        chosen.update(rng.sample(negatives, min(len(chosen), len(negatives))))
        ids = sorted(chosen)
        coder = LearnedCoder(codes).fit(features[ids], gold[ids])
        results.append(row(f"few-shot {k}/code ({len(ids)})", gold[held], coder.predict(features[held]), codes))
    show(
        f"few-shot: coded in {len(pool)} turns of {len(first)} cases, scored on {len(held)} turns of the other cases",
        results,
        codes,
    )
    agreement_file = ROOT / "corpora" / "interviews_dev" / "agreement.json"
    if agreement_file.is_file():
        print("\nhuman-human kappa (interviews, before adjudication):", json.loads(agreement_file.read_text())["kappa"])
    logbook = json.loads((ROOT / "corpora" / "dev" / "agreement.json").read_text())
    print("human-human kappa (logbooks):", logbook["per_theme"])


if __name__ == "__main__":
    main()
