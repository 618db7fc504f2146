"""Codebook coding measured against the sample corpus's gold themes: zero-shot, and learned with 5-fold CV.

Usage: .venv/bin/python bench/eval_coding.py [--model e5-small-fast] [--corpus corpora]

Units: each logbook entry (gold: its `themes`) and each non-interviewer interview segment (gold: the
codes of the gold passages it overlaps; a segment no passage covers is a negative). The corpus is
ingested into a temporary project with the real pipeline, so segments are what users get.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from qualpipe.coding.learn import LearnedCoder, cross_validated_predictions
from qualpipe.coding.metrics import agreement, macro_f1
from qualpipe.embed.registry import DEFAULT_MODEL
from qualpipe.project import Project


def gold_units(project: Project, corpus: Path) -> tuple[list[list[str]], list[set[str]], list[str]]:
    """(sentences per unit, gold codes per unit, unit kind)."""
    entries = {}
    for line in (corpus / "gold" / "logbook_labels.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        entries[f"logbook:{record['entry_id']}"] = set(record["themes"])
    passages = defaultdict(list)
    for line in (corpus / "gold" / "interview_themes.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        passages[record["file"]].append(record)
    by_entry: dict[str, list[str]] = defaultdict(list)
    units, gold, kinds = [], [], []
    for segment in project.segments():
        if segment.kind == "logbook":
            by_entry[segment.doc_key].append(segment.norm_text)
        elif segment.role != "interviewer":
            name = Path(segment.doc_key.split(":", 1)[1]).name
            codes = set()
            for p in passages.get(name, []):
                if p["start"] < segment.end and segment.start < p["end"]:
                    codes.update(p["codes"])
            units.append([segment.norm_text])
            gold.append(codes)
            kinds.append("interview")
    for key, sentences in by_entry.items():
        units.append(sentences)
        gold.append(entries[key])
        kinds.append("logbook")
    return units, gold, kinds


def build_project(corpus: Path, root: Path, model: str) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    config = (corpus / "qualpipe.toml").read_text(encoding="utf-8")
    (root / "qualpipe.toml").write_text(config + f'\n[embedding]\nmodel = "{model}"\n', encoding="utf-8")
    project = Project.init(root)
    project.ingest([corpus / "interviews"], "interview")
    project.ingest([corpus / "logbooks"], "logbook")
    return project


def print_table(title: str, rows, macro: float) -> None:
    print(f"\n{title}")
    print(f"{'code':<26}{'support':>8}{'pred':>6}{'P':>7}{'R':>7}{'F1':>7}{'kappa':>8}")
    for r in rows:
        print(f"{r.code:<26}{r.support:>8}{r.predicted:>6}{r.precision:>7.2f}{r.recall:>7.2f}{r.f1:>7.2f}{r.kappa:>8.2f}")
    print(f"{'macro-F1':<26}{macro:>49.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[1] / "corpora")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="qualpipe-bench-"))
    try:
        project = build_project(args.corpus, workdir / "p", args.model)
        engine = project.coding_engine()
        units, gold, kinds = gold_units(project, args.corpus)
        codes = engine.codebook.ids
        Y = np.array([[c in g for c in codes] for g in gold])
        print(f"model: {engine.embedder.model_id}; units: {len(units)} "
              f"({kinds.count('logbook')} logbook entries, {kinds.count('interview')} interview segments)")
        zero = engine.unit_scores(units) >= engine.threshold
        rows = agreement(Y, zero, codes)
        print_table("zero-shot", rows, macro_f1(rows))
        # Learned: unit features are the mean of its sentences' features.
        features = []
        for unit in units:
            X, cues = engine.features(unit)
            features.append(engine.learning_features(X, cues).mean(axis=0))
        F = np.vstack(features)
        proba = cross_validated_predictions(LearnedCoder(codes), F, Y, folds=5)
        rows = agreement(Y, proba >= 0.5, codes)
        print_table("learned (--learn), 5-fold cross-validation", rows, macro_f1(rows))
        project.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
