"""The embed, code and flag stages, in one process or on Dask (dask.distributed) when one machine is outgrown.

Workers only compute: partitions of text go out, vectors, scores and flags come back, and this process
writes them to the store, one transaction per partition, with INSERT OR IGNORE and per-segment
replacement, so a retried partition writes nothing twice. Workers need qualpipe and the model installed;
they never open the store. Text does travel to the workers: point it only at a cluster inside the
organisation that may hold the data, with TLS between the machines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from qualpipe.engines import Engines, WorkerSpec
from qualpipe.errors import UserError

STAGES = ("embed", "code", "flag")


@dataclass
class RunReport:
    embedded: int = 0
    coded_segments: int = 0
    codings: int = 0
    flagged_entries: int = 0
    alerts: int = 0
    partitions: int = 0
    engine: str = "local"
    stages: list[str] = field(default_factory=list)


_ENGINES: dict = {}


def _engines(spec: WorkerSpec) -> Engines:
    """Per worker process: the engines of a spec, built once (by the one factory) and reused across partitions."""
    if spec not in _ENGINES:
        _ENGINES[spec] = Engines.for_worker(spec)
    return _ENGINES[spec]


def embed_partition(spec: WorkerSpec, texts: list[str]) -> np.ndarray:
    return _engines(spec).embedder().encode(texts, kind="passage")


def code_partition(spec: WorkerSpec, texts: list[str], X: np.ndarray, units: list[list[int]] | None = None,
                   questions: np.ndarray | None = None):
    """Zero-shot scores per segment; with the trained coder, (unit scores, sentence scores) for whole units,
    each read with its question (`questions`: one vector per unit, or None)."""
    engine = _engines(spec).coding_engine()
    if engine.trained is not None:
        from qualpipe.coding.run import unit_scores_of

        return unit_scores_of(engine, texts, X, units, questions)
    return engine.zero_shot.predict_proba(X, engine.cues.hits(texts))


def flag_partition(spec: WorkerSpec, texts: list[str], cases: list, dates: list[str], earlier: list) -> list:
    """Flags of whole cases' pending entries, read with their cases' history (`alerts.with_case_history`)."""
    return _engines(spec).flagger().flag_case_entries(texts, cases, dates, earlier)


def partitions(items: Sequence, size: int) -> list[Sequence]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def unit_partitions(segments: Sequence, size: int) -> list[list]:
    """Partitions of about `size` segments that never split a unit (a transcript turn, a logbook entry)."""
    from qualpipe.coding.run import coding_units

    chunks, current = [], []
    for unit in coding_units(segments):
        if current and len(current) + len(unit) > size:
            chunks.append(current)
            current = []
        current += [segments[i] for i in unit]
    return chunks + ([current] if current else [])


class LocalExecutor:
    """Runs partitions one after another in this process: the reference the Dask path is compared with."""

    name = "local"

    def map(self, function: Callable, argument_lists: list[tuple]):
        for index, args in enumerate(argument_lists):
            yield index, function(*args)

    def close(self) -> None:
        pass


class DaskExecutor:
    """Partitions as dask.distributed futures; results are yielded as they complete."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int = 2):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - dask is a declared dependency
            raise UserError("--engine dask needs dask[distributed]; pip install 'dask[distributed]'") from exc
        self.cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="10s")
            except OSError as exc:
                raise UserError(f"--scheduler {scheduler}: no Dask scheduler answers there ({exc.__class__.__name__}); "
                                "check the address and that the scheduler is running") from exc
        else:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, host="127.0.0.1")
            self.client = Client(self.cluster)

    def map(self, function: Callable, argument_lists: list[tuple]):
        from dask.distributed import as_completed

        futures = {
            self.client.submit(function, *args, pure=False, retries=2): i for i, args in enumerate(argument_lists)
        }
        for future in as_completed(futures):
            yield futures[future], future.result()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def run_stages(
    store,
    engines: Engines,
    executor,
    stages: Sequence[str] = STAGES,
    partition_size: int = 2000,
    *,
    include_interviewer: bool = False,
) -> RunReport:
    """Embed what is not cached, code every codable segment (as `qualpipe code` does), flag new logbook entries.

    `engines` are the project's (with its store's cache); the workers build the same from its spec."""
    from qualpipe.coding.run import (
        InterviewQuestions, codable_segments, coding_units, store_machine_codes, store_unit_scores,
    )
    from qualpipe.embed.cache import store_vectors, text_key
    from qualpipe.flagging.alerts import store_flags, with_case_history

    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise UserError(f"--stage {unknown[0]}: unknown stage; use {', '.join(STAGES)}")
    spec = engines.worker_spec()
    report = RunReport(engine=executor.name, stages=list(stages))
    cached = engines.embedder()
    if "embed" in stages:
        texts = list(dict.fromkeys(s.norm_text for s in store.segments()))
        known = cached.known_keys([text_key(t, "passage") for t in texts])
        missing = [t for t in texts if text_key(t, "passage") not in known]
        chunks = partitions(missing, partition_size)
        for index, vectors in executor.map(embed_partition, [(spec, list(c)) for c in chunks]):
            report.embedded += store_vectors(store, cached.model_id, list(chunks[index]), vectors)
            report.partitions += 1
    segments = codable_segments(store, include_interviewer) if "code" in stages else []
    if segments:
        engine = engines.coding_engine()
        if engine.trained is not None:
            chunks = unit_partitions(segments, partition_size)  # whole turns and entries: a unit is coded as one
            units = [coding_units(c) for c in chunks]
            questions = InterviewQuestions(store)  # the interviewer segments, read once for every partition
            jobs = [
                (spec, [s.norm_text for s in c], cached.encode([s.norm_text for s in c]), u,
                 questions.vectors(engine, c, u, cached.encode))
                for c, u in zip(chunks, units)
            ]
            for index, (unit_scores, sentence_scores) in executor.map(code_partition, jobs):
                report.codings += store_unit_scores(
                    store, chunks[index], units[index], engine, unit_scores, sentence_scores
                )
                report.coded_segments += len(chunks[index])
                report.partitions += 1
        else:
            chunks = partitions(segments, partition_size)
            jobs = [(spec, [s.norm_text for s in c], cached.encode([s.norm_text for s in c])) for c in chunks]
            method = f"zero-shot:{cached.model_id}"
            for index, scores in executor.map(code_partition, jobs):
                report.codings += store_machine_codes(store, chunks[index], engine, scores, method)
                report.coded_segments += len(chunks[index])
                report.partitions += 1
    if "flag" in stages:
        entries = store.unflagged_entries()
        # Whole cases per partition: case rules read a case's whole history when its partition is stored.
        by_case: dict = {}
        for row in entries:
            by_case.setdefault(row["case_id"], []).append(row)
        chunks, current = [], []
        for rows in by_case.values():
            if current and len(current) + len(rows) > partition_size:
                chunks.append(current)
                current = []
            current += rows
        if current:
            chunks.append(current)
        for index, flags in executor.map(flag_partition, [(spec, *with_case_history(store, c)) for c in chunks]):
            stored = store_flags(store, chunks[index], flags)
            report.flagged_entries += stored.entries
            report.alerts += stored.alerts
            report.partitions += 1
    return report


def make_executor(engine: str, scheduler: str | None = None, workers: int = 2):
    if engine == "local":
        if scheduler:
            raise UserError("--scheduler needs --engine dask")
        return LocalExecutor()
    if engine == "dask":
        return DaskExecutor(scheduler, workers)
    raise UserError(f"--engine {engine}: unknown engine; use local or dask")
