"""`qualpipe code --input` with the trained coder (the default) against zero-shot, on the same 1,500 texts,
taking turns, in one run: what the trained coder costs on top of embedding and splitting.

Usage: .venv/bin/python bench/code_batch_speed.py [--runs 3]

Texts: the first 1,500 respondent turns of corpora/interviews_dev (1 to 276 words). Zero-shot is forced by
passing the built-in codebook as a file with its ids renamed (a codebook whose codes the trained head does
not know is coded zero-shot). Each figure is the
whole command's wall time (process start, model loads, splitting, embedding, scoring, writing).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qualpipe.data import read_yaml

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    turns = [
        json.loads(line)
        for line in (ROOT / "corpora" / "interviews_dev" / "turns.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    texts = [t for t in turns if not t["interviewer"]][:1500]
    qualpipe = str(Path(sys.executable).with_name("qualpipe"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "in.jsonl"
        source.write_text(
            "".join(json.dumps({"id": t["turn_id"], "text": t["text"]}, ensure_ascii=False) + "\n" for t in texts),
            encoding="utf-8",
        )
        codebook = tmp / "codebook.yaml"
        import yaml

        book = read_yaml("codebook.da.yaml")
        for code in book["codes"]:
            code["id"] = f"{code['id']}_eget"
        codebook.write_text(yaml.safe_dump(book, allow_unicode=True), encoding="utf-8")
        variants = {"trained": [], "zero-shot": ["--codebook", str(codebook)]}
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.runs):
            for name, extra in variants.items():
                start = time.perf_counter()
                subprocess.run(
                    [qualpipe, "code", "--input", str(source), "--output", str(tmp / f"{name}.jsonl"), *extra],
                    check=True,
                    capture_output=True,
                    cwd=tmp,
                )
                times[name].append(time.perf_counter() - start)
        coded = {
            name: sum(bool(json.loads(line)["codes"]) for line in (tmp / f"{name}.jsonl").read_text().splitlines())
            for name in variants
        }
    for name, values in times.items():
        print(
            f"{name:10} median {statistics.median(values):6.1f} s  runs {', '.join(f'{v:.1f}' for v in values)}  "
            f"texts with a code: {coded[name]}/{len(texts)}"
        )
    print(f"trained / zero-shot: {statistics.median(times['trained']) / statistics.median(times['zero-shot']):.2f}")


if __name__ == "__main__":
    main()
