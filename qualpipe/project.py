"""The Python API: a qualpipe project on disk, its store, and the operations the CLI exposes.

`Project` is the one place that reads the configuration and wires the parts: it builds the engines once
(`qualpipe.engines`), opens the store, and hands each module below it exactly what it needs (a store, an
engine, a codebook, pseudonyms). No module below this one sees a `Project`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Sequence

from qualpipe.config import CONFIG_NAME, Config, load_config, template_for
from qualpipe.engines import EngineSettings, Engines, project_concern_model
from qualpipe.errors import UserError
from qualpipe.private_files import private_dir, write_private
from qualpipe.records import Segment, Status
from qualpipe.store import Store
from qualpipe.text.torchless import spacy_without_torch

__all__ = ["Project", "Segment", "Status"]


class Project:
    """A project folder holding `qualpipe.toml` and (by default) the SQLite store.

    >>> project = Project.init("my-evaluation")            # doctest: +SKIP
    >>> project.ingest(["interviews/"], kind="interview")  # doctest: +SKIP
    """

    def __init__(self, root: str | Path = ".", *, pseudonymised_documents: dict | None = None):
        """`pseudonymised_documents`: a cache of pseudonymised documents shared by the Projects of one process
        (the web app opens one per request); None keeps them for this Project only."""
        self.root = Path(root)
        self._pseudonymised = pseudonymised_documents
        self.config: Config = load_config(self.root)
        spacy_without_torch((self.config.pipeline, self.config.ner_pipeline))
        self._store: Store | None = None
        self._engines: Engines | None = None

    @classmethod
    def init(cls, root: str | Path = ".") -> "Project":
        """Create the project folder, a commented `qualpipe.toml` (kept if present) and the store."""
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise UserError(f"{root}: exists and is not a folder; choose another project folder")
        private_dir(root)  # it will hold the store and every output: its owner's only, when qualpipe makes it
        config_path = root / CONFIG_NAME
        if not config_path.exists():
            write_private(config_path, template_for(root))
        project = cls(root)
        project.store  # creates the store file (0600) and its schema
        return project

    @property
    def store(self) -> Store:
        if self._store is None:
            from qualpipe.privacy.outputs import move_key_out_of_store

            self._store = Store(self.config.store_path)
            move_key_out_of_store(self._store, self.config.key_path)
        return self._store

    @property
    def engines(self) -> Engines:
        """The project's embedder, theme coder and concern flagger, each built once, on the store's cache."""
        if self._engines is None:
            self._engines = Engines(EngineSettings.from_config(self.config), self.store)
        return self._engines

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
            self._engines = None

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- ingest and what is stored -------------------------------------------------------------

    def ingest(
        self,
        paths: Sequence[str | Path],
        kind: str,
        *,
        case_id: str | None = None,
        columns: dict[str, str] | None = None,
        speakers: dict[str, str] | None = None,
        filename_pattern: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ):
        """Ingest files and folders; returns an IngestReport. Bad files are reported, not raised."""
        from qualpipe.ingest.run import KINDS, Ingester

        if kind not in KINDS:
            raise UserError(f"--kind {kind}: unknown kind; use one of {', '.join(KINDS)}")
        config = self.config.with_overrides(columns=columns, speakers=speakers, filename_pattern=filename_pattern)
        ingester = Ingester(self.store, config, kind, case_id=case_id)
        return ingester.ingest([Path(p) for p in paths], progress=progress)

    def reparse(self, progress: Callable[[int, int], None] | None = None):
        """Derive turns, speakers, roles and segments of the stored documents again with the current settings."""
        from qualpipe.ingest.run import reparse

        return reparse(self.store, self.config, progress=progress)

    def status(self) -> Status:
        return self.store.status()

    def segments(self, *, case_id: str | None = None, kind: str | None = None,
                 include_superseded: bool = False, show_identities: bool = True) -> list[Segment]:
        """Segments of current document versions (or all versions), in document and sentence order; their text
        and speaker pseudonymised unless `show_identities` (the default here: the API reads what is stored)."""
        rows = self.store.segments(case_id=case_id, kind=kind, include_superseded=include_superseded)
        pseudonyms = self.pseudonyms(show_identities)
        return rows if pseudonyms is None else [pseudonyms.segment(r) for r in rows]

    def document_text(self, document_id: int) -> str:
        return self.store.document_text(document_id)

    def pseudonyms(self, show_identities: bool = False):
        """Pseudonymised views of documents for outputs; None when identities are to be shown."""
        if show_identities:
            return None
        from qualpipe.privacy.outputs import CasePseudonyms
        from qualpipe.privacy.pseudonymise import Pseudonymiser

        pseudonymiser = Pseudonymiser(style=self.config.pseudonym_style, institutions=self.config.institutions,
                                      ner_pipeline=self.config.ner_pipeline)
        return CasePseudonyms(self.store, self.config.key_path, pseudonymiser, self._pseudonymised)

    # -- embeddings and coding -------------------------------------------------------------

    def embedder(self, model: str | None = None):
        """The embedding model itself (`[embedding] model`, or `model`), without the store's cache."""
        return self.engines.raw_embedder(model)

    def cached_embedder(self, model: str | None = None):
        return self.engines.embedder(model)

    def start_loading_flagger(self) -> None:
        """Start loading the concern flagger's models in the background, for a command that ingests first."""
        self.engines.start_loading_flagger()

    def codebook(self):
        return self.engines.codebook()

    def coding_engine(self, model: str | None = None):
        return self.engines.coding_engine(model)

    def embed(self, model: str | None = None, progress: Callable[[int, int], None] | None = None):
        """Embed every current segment not embedded with the model yet; returns (segments, newly embedded, model id)."""
        from qualpipe.embed.cache import cached_encode

        embedder = self.embedder(model)
        texts = [s.norm_text for s in self.store.segments()]
        _, new = cached_encode(self.store, embedder, texts, batch_size=self.config.embedding_batch_size,
                               progress=progress)
        return len(texts), new, embedder.model_id

    def codable_segments(self) -> list[Segment]:
        from qualpipe.coding.run import codable_segments

        return codable_segments(self.store, self.config.code_interviewer)

    def code(self, *, learn: bool = False, progress: Callable[[int, int], None] | None = None):
        """Code every codable segment (replacing earlier machine codes); returns a CodingReport."""
        from qualpipe.coding.run import code_segments

        return code_segments(self.store, self.coding_engine(), self.codable_segments(), learn=learn, progress=progress)

    def review_queue(self, limit: int = 20, *, show_identities: bool = False):
        """Segments no human has looked at, the most uncertain first (their text pseudonymised by default)."""
        from dataclasses import replace

        from qualpipe.coding.run import review_queue

        items = review_queue(self.store, self.coding_engine(), self.codable_segments(), limit)
        pseudonyms = self.pseudonyms(show_identities)
        if pseudonyms is None:
            return items
        where = {s.id: s for s in self.store.segments()}
        return [replace(i, text=pseudonyms.span_text(where[i.segment_id].document_id, where[i.segment_id].start,
                                                     where[i.segment_id].end)) for i in items]

    def decide(self, segment_id: int, code: str, decision: str, coder: str) -> None:
        """An evaluator's 'yes' or 'no' to one code on one segment (see coding.run.decide)."""
        from qualpipe.coding.run import decide

        decide(self.store, self.codebook(), segment_id, code, decision, coder)

    def segment_context(self, segment_id: int, *, show_identities: bool = False):
        """A segment in its document's context, with its machine codes (coding.review.SegmentContext)."""
        from qualpipe.coding.review import segment_context

        return segment_context(self.store, segment_id, self.pseudonyms(show_identities))

    def decisions(self, coder: str, *, limit: int = 50, show_identities: bool = False):
        """An evaluator's latest review decisions, newest first (coding.review.Decision)."""
        from qualpipe.coding.review import decisions_of

        return decisions_of(self.store, coder, self.pseudonyms(show_identities), limit)

    def decided_segments(self, coder: str) -> int:
        from qualpipe.coding.review import decided_segments

        return decided_segments(self.store, coder)

    def evaluate_coders(self, names: list[str] | None = None):
        from qualpipe.coding.run import evaluate_coders

        return evaluate_coders(self.store, self.codebook(), self.codable_segments(), names)

    def evaluate_gold(self, path: Path):
        """The machine's codes against a gold file of human codes: (agreement rows, segments, errors)."""
        from qualpipe.coding.run import evaluate_against
        from qualpipe.exchange.human_codes import read_gold

        gold, errors = read_gold(path)
        return evaluate_against(self.store, self.codebook(), gold), len(gold), errors

    # -- exchange ---------------------------------------------------------------------------

    def export(self, fmt: str, path: Path | None = None, *, kind: str | None = None, show_identities: bool = False,
               logbook_entries: bool = False):
        """Export codings as `fmt` (see exchange.EXPORT_FORMATS) to `path` (default: export.FMT in the project)."""
        from qualpipe.exchange import export

        path = path or self.root / f"export.{fmt}"
        return path, export(fmt, self.store, self.codebook(), path, name=self.root.resolve().name, kind=kind,
                            pseudonyms=self.pseudonyms(show_identities), logbooks_per_case=not logbook_entries)

    def import_qdpx(self, path: Path):
        from qualpipe.exchange.qdpx import import_qdpx

        return import_qdpx(self.store, self.codebook(), path, pseudonyms=self.pseudonyms,
                           max_unzipped_mb=self.config.max_unzipped_mb)

    def import_human_codes(self, path: Path, coder: str = "evaluator"):
        from qualpipe.exchange.human_codes import import_human_codes

        return import_human_codes(self.store, self.codebook(), path, coder)

    # -- concerns and the weekly digest --------------------------------------------------------

    def concern_model_path(self) -> Path:
        """Where this project's own concern model goes (`flag train --with-feedback`)."""
        return project_concern_model(self.root)

    def flagger(self):
        """The configured concern flagger: the learned detector (this project's own model when
        `flag train --with-feedback` made one, else the shipped one), or the lexicon detector."""
        return self.engines.flagger()

    def flag_new_entries(self):
        """Flag logbook entries not flagged before (incremental); returns a FlagReport."""
        from qualpipe.flagging.alerts import flag_new_entries

        return flag_new_entries(self.store, self.flagger)

    def weekly_digest(self, week: str | None = None, *, show_identities: bool = False):
        """Flag new entries, then build the digest of `week` (default: the last complete ISO week).

        Logbook files that could not be read (and not fixed since) open the digest. The digest's text
        is pseudonymised unless `show_identities`."""
        from qualpipe.flagging.alerts import last_complete_week, parse_week, unresolved_failures, weekly_digest
        from qualpipe.flagging.lexicon import load_lexicon

        week = parse_week(week) if week else last_complete_week()
        error, unscreened = "", 0
        try:
            self.flag_new_entries()
        except Exception as exc:  # noqa: BLE001 - the digest must still go out, saying that screening failed
            unscreened = len(self.store.unflagged_entries())
            # Our own errors say what to do and hold no entry text; another library's message might quote
            # an entry, so only its kind is shown and logged.
            error = str(exc) if isinstance(exc, UserError) else type(exc).__name__
            logging.getLogger(__name__).error("flagging new entries failed (%s); the digest says so", error)
        labels = load_lexicon().labels
        digest = weekly_digest(self.store, week, labels, self.pseudonyms(show_identities),
                               unresolved_failures(self.store), provisional=bool(error))
        digest.screening_error, digest.unscreened = error, unscreened
        return digest

    def send_digest(self, digest, recipients: list[str], sender: str) -> None:
        """E-mail the digest over the configured SMTP server and record it as sent; a UserError if it was not."""
        from qualpipe.flagging import render
        from qualpipe.flagging.alerts import mark_digest_sent
        from qualpipe.flagging.mail import send_message

        send_message(self.config, render.to_eml(digest, to=recipients, sender=sender), recipients)
        mark_digest_sent(self.store, digest.week, recipients)

    def acknowledge(self, ids: list[int], *, by: str, note: str, case_id: str | None = None):
        """Alerts handled (by whom, what was done); returns (acknowledged ids, ids handled before)."""
        from qualpipe.flagging.alerts import acknowledge

        return acknowledge(self.store, ids, by=by, note=note, case_id=case_id)

    def dismiss(self, alert_id: int, *, reason: str, by: str, if_open: bool = False) -> bool:
        """A false alarm, kept as a label for `flag train --with-feedback`; with `if_open`, only an alert nobody
        has handled yet (returns whether it was dismissed now)."""
        from qualpipe.flagging.alerts import dismiss

        return dismiss(self.store, alert_id, reason=reason, by=by, if_open=if_open)

    def alert(self, alert_id: int):
        """An alert's case and how, by whom and when it was handled (flagging.alerts.AlertRecord), or None."""
        from qualpipe.flagging.alerts import alert_record

        return alert_record(self.store, alert_id)

    def add_concern(self, entry_id: str, *, category: str, severity: str, by: str, note: str = "") -> int:
        """A concern the detector missed, stored as handled by `by`; returns its alert id."""
        from qualpipe.flagging.alerts import add_concern

        return add_concern(self.store, entry_id, category=category, severity=severity, by=by, note=note)

    def logbook_weeks(self) -> list[str]:
        """ISO weeks with logbook entries or alerts, newest first."""
        from qualpipe.views.timeline import logbook_weeks

        return logbook_weeks(self.store)

    def entry_case(self, entry_id: str) -> str | None:
        """The case of a current logbook entry, by its id in the logbook file."""
        from qualpipe.views.timeline import entry_case

        return entry_case(self.store, entry_id)

    def has_unflagged_entries(self) -> bool:
        """Whether any current logbook entry is not screened for concerns yet."""
        return bool(self.store.query(
            "SELECT 1 FROM documents d WHERE d.kind = 'logbook' AND d.superseded_at IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM flagged_documents f WHERE f.document_id = d.id) LIMIT 1"))

    def case_ids(self) -> list[str]:
        from qualpipe.views.timeline import case_ids

        return case_ids(self.store)

    def case_timeline(self, case_id: str, *, show_identities: bool = False):
        """A case week by week: entries with their alerts and who handled them, concerns and themes per week."""
        from qualpipe.flagging.lexicon import load_lexicon
        from qualpipe.views.timeline import case_timeline

        labels = load_lexicon().labels
        themes = {c.id: c.label_da for c in self.codebook().codes}
        return case_timeline(self.store, case_id, labels, themes, self.pseudonyms(show_identities))

    def mark_digest_sent(self, week: str, recipients: list[str]) -> None:
        from qualpipe.flagging.alerts import mark_digest_sent

        mark_digest_sent(self.store, week, recipients)

    # -- all stages at once ---------------------------------------------------------------------

    def run_stages(self, executor, stages: Sequence[str] | None = None, partition_size: int = 2000):
        """Embed, code and flag what is new, in this process or on Dask (see distributed.run_stages)."""
        from qualpipe.distributed import STAGES, run_stages

        return run_stages(self.store, self.engines, executor, stages or STAGES, partition_size,
                          include_interviewer=self.config.code_interviewer)

    # -- topics, tables and reports ---------------------------------------------------------

    @property
    def topic_runs(self):
        """The project's stored topic runs (topics.runs.TopicRuns)."""
        from qualpipe.topics.runs import TopicRuns

        return TopicRuns(self.store, self.root)

    def topic_analyzer(self):
        from qualpipe.topics.model import DanishAnalyzer

        return DanishAnalyzer(self.config.pipeline, tuple(self.config.institutions))

    def fit_topics(self, params=None, *, refit: bool = False,
                   stage: Callable[[str], None] = lambda message: None) -> int:
        """Fit (or reuse an identical) topic run on the current segments; returns the run id."""
        from qualpipe.topics.model import TopicParams

        return self.topic_runs.fit(
            self.store.segments(),
            self.cached_embedder(),
            self.coding_engine(),
            self.topic_analyzer(),
            params or TopicParams(),
            refit=refit,
            stage=stage,
        )

    def assign_topics(self, run_id: int, texts: list[str]):
        """A stored run's topic (and probability) for each new text, without refitting."""
        return self.topic_runs.assign(run_id, texts, self.cached_embedder())

    def write_topic_figures(self, run_id: int | None, out_dir: Path) -> list[Path]:
        """A run's figures (HTML and PNG) in `out_dir`; returns the files written."""
        from qualpipe.views.figures import write_topic_figures

        runs = self.topic_runs
        return write_topic_figures(
            self.store, runs, self.cached_embedder(), self.topic_analyzer(), runs.resolve(run_id), out_dir
        )

    def codes_by(self, by: str, case_id: str | None = None):
        """DataFrame: codes per case, role, kind, week or month (see views.tables.codes_by)."""
        from qualpipe.views.tables import codes_by

        return codes_by(self.store, self.codebook(), by, case_id, include_interviewer=self.config.code_interviewer)

    def topics_by(self, by: str, run_id: int | None = None, case_id: str | None = None):
        """DataFrame: a run's topics (default: the latest) per case, role, kind, week or month."""
        from qualpipe.views.tables import topics_by

        return topics_by(self.store, by, self.topic_runs.resolve(run_id), case_id)

    def topic_table(self, run_id: int | None = None, *, show_identities: bool = False):
        """DataFrame: one row per topic with representative segments (pseudonymised unless show_identities)."""
        from qualpipe.views.tables import topic_table

        return topic_table(self.store, self.topic_runs.resolve(run_id), self.pseudonyms(show_identities))

    def _report_sources(self, show_identities: bool):
        from qualpipe.views.report import ReportSources

        return ReportSources(
            self.store,
            self.codebook(),
            self.topic_runs,
            self.pseudonyms(show_identities),
            include_interviewer=self.config.code_interviewer,
        )

    def report_run(self, run_id: int | None = None, *, no_topics: bool = False) -> int | None:
        """The topic run a report shows: `run_id`, else the latest, else none (no run yet, or `no_topics`)."""
        if no_topics or (run_id is None and not self.topic_runs.any()):
            return None
        return self.topic_runs.resolve(run_id)

    def report(self, run_id: int | None = None, *, show_identities: bool = False) -> str:
        """The self-contained HTML report across cases (with topics of `run_id`, if given)."""
        from qualpipe.views.report import build_report

        return build_report(self._report_sources(show_identities), run_id)

    def case_report(self, case_id: str, run_id: int | None = None, *, show_identities: bool = False) -> str:
        """The self-contained HTML report of one case."""
        from qualpipe.views.report import build_case_report

        return build_case_report(self._report_sources(show_identities), case_id, run_id)

    def machine_code_counts(self) -> dict[str, dict[str, int]]:
        """Machine codes per code and kind of text ({code: {"interview": n, "logbook": n}})."""
        from qualpipe.coding.run import machine_code_counts

        return machine_code_counts(self.store)
