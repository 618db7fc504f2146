"""The Python API: a qualpipe project on disk, its store, and the operations the CLI exposes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from qualpipe.config import CONFIG_NAME, Config, load_config, template_for
from qualpipe.errors import UserError
from qualpipe.store import Store
from qualpipe.text.torchless import spacy_without_torch


@dataclass(frozen=True)
class Segment:
    id: int
    document_id: int
    doc_key: str
    kind: str
    case_id: str | None
    date: str | None
    speaker: str | None
    role: str
    language: str | None
    start: int
    end: int
    text: str
    norm_text: str
    turn_id: int | None = None  # the transcript turn (or None: a logbook entry is one unit)


@dataclass(frozen=True)
class Status:
    cases: int
    documents: dict[str, int]
    superseded_versions: int
    segments_by_role: dict[str, int]
    segments_by_language: dict[str, int]
    segments_by_kind: dict[str, int]

    @property
    def segments(self) -> int:
        return sum(self.segments_by_kind.values())


class Project:
    """A project folder holding `qualpipe.toml` and (by default) the SQLite store.

    >>> project = Project.init("my-evaluation")            # doctest: +SKIP
    >>> project.ingest(["interviews/"], kind="interview")  # doctest: +SKIP
    """

    def __init__(self, root: str | Path = "."):
        self.root = Path(root)
        self.config: Config = load_config(self.root)
        spacy_without_torch((self.config.pipeline, self.config.ner_pipeline))
        self._store: Store | None = None
        self._codebook = None

    @classmethod
    def init(cls, root: str | Path = ".") -> "Project":
        """Create the project folder, a commented `qualpipe.toml` (kept if present) and the store."""
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise UserError(f"{root}: exists and is not a folder; choose another project folder")
        root.mkdir(parents=True, exist_ok=True)
        config_path = root / CONFIG_NAME
        if not config_path.exists():
            config_path.write_text(template_for(root), encoding="utf-8")
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

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

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

    def status(self) -> Status:
        q = self.store.query
        documents = {r["kind"]: r["n"] for r in q(
            "SELECT kind, COUNT(*) AS n FROM documents WHERE superseded_at IS NULL GROUP BY kind")}
        return Status(
            cases=q("SELECT COUNT(*) FROM cases")[0][0],
            documents=documents,
            superseded_versions=q("SELECT COUNT(*) FROM documents WHERE superseded_at IS NOT NULL")[0][0],
            segments_by_role=_counts(q("SELECT role AS k, COUNT(*) AS n FROM current_segments GROUP BY role ORDER BY n DESC")),
            segments_by_language=_counts(q(
                "SELECT COALESCE(language, '?') AS k, COUNT(*) AS n FROM current_segments GROUP BY k ORDER BY n DESC")),
            segments_by_kind=_counts(q("SELECT kind AS k, COUNT(*) AS n FROM current_segments GROUP BY kind")),
        )

    def segments(self, *, case_id: str | None = None, kind: str | None = None, include_superseded: bool = False) -> list[Segment]:
        """Segments of current document versions (or all versions), in document and sentence order."""
        table = "current_segments" if not include_superseded else (
            "(SELECT s.*, d.kind, d.doc_key, d.version, d.source_path FROM segments s "
            "JOIN documents d ON d.id = s.document_id)")
        where, params = [], []
        if case_id:
            where.append("case_id = ?")
            params.append(case_id)
        if kind:
            where.append("kind = ?")
            params.append(kind)
        sql = f"SELECT * FROM {table}" + (f" WHERE {' AND '.join(where)}" if where else "")
        sql += " ORDER BY case_id, date, document_id, idx"
        return [
            Segment(r["id"], r["document_id"], r["doc_key"], r["kind"], r["case_id"], r["date"], r["speaker"],
                    r["role"], r["language"], r["start"], r["end"], r["text"], r["norm_text"], r["turn_id"])
            for r in self.store.query(sql, tuple(params))
        ]

    # -- embeddings and coding -------------------------------------------------------------

    def model_registry(self):
        from qualpipe.embed.registry import load_registry

        files = [self.config.model_registry] if self.config.model_registry else []
        return load_registry(files)

    def embedder(self, model: str | None = None):
        from qualpipe.embed import load_embedder

        return load_embedder(self._model_entry(model))

    def start_loading_embedder(self, model: str | None = None) -> None:
        """Start loading the embedder in the background, for a command that will need it after other work."""
        from qualpipe.embed import start_loading

        start_loading(self._model_entry(model))

    def _model_entry(self, model: str | None):
        from qualpipe.embed.registry import resolve_model

        return resolve_model(model or self.config.embedding_model, self.model_registry())

    def codebook(self):
        """The project's codebook, read once per Project (reports ask for it per case)."""
        from qualpipe.coding.codebook import load_codebook

        if self._codebook is None:
            self._codebook = load_codebook(self.config.codebook)
        return self._codebook

    def cached_embedder(self, model: str | None = None):
        from qualpipe.embed.cache import CachedEmbedder

        return CachedEmbedder(self.store, self.embedder(model), self.config.embedding_batch_size)

    def coding_engine(self, model: str | None = None):
        self.start_loading_embedder(model)  # it loads while spaCy is imported
        from qualpipe.coding.engine import CodingEngine
        from qualpipe.text.nlp import load_nlp

        trained = None
        if self.config.coder == "trained":
            from qualpipe.coding.trained import TrainedCoder, shipped_theme_model

            head = shipped_theme_model()
            # trained on this embedder's vectors: another model gets zero-shot
            trained = TrainedCoder(head) if (model or self.config.embedding_model) == head.embedder else None
        return CodingEngine(self.codebook(), self.cached_embedder(model), load_nlp(self.config.pipeline),
                            threshold=self.config.coding_threshold, trained=trained)

    def concern_model_path(self) -> Path:
        """Where this project's own concern model goes (`flag train --with-feedback`)."""
        return self.root / "models" / "concern_model.npz"

    def flagger(self):
        """The configured concern flagger: the learned detector (this project's own model when
        `flag train --with-feedback` made one, else the shipped one), or the lexicon detector."""
        from qualpipe.flagging.model import load_concern_model

        head = None
        if self.config.detector == "learned":
            own = self.concern_model_path()
            head = load_concern_model(own if own.is_file() else None)
        model = head.embedder if head is not None else None
        self.start_loading_embedder(model)  # it loads while spaCy is imported
        from qualpipe.flagging.flagger import ConcernFlagger
        from qualpipe.text.nlp import load_nlp

        return ConcernFlagger(load_nlp(self.config.pipeline), self.cached_embedder(model), model=head)

    def flag_new_entries(self):
        """Flag logbook entries not flagged before (incremental); returns a FlagReport."""
        from qualpipe.flagging.alerts import flag_new_entries

        return flag_new_entries(self.store, self.flagger)

    def pseudonyms(self, show_identities: bool = False):
        """Pseudonymised views of documents for outputs; None when identities are to be shown."""
        from qualpipe.privacy.outputs import CasePseudonyms

        return None if show_identities else CasePseudonyms(self)

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
            from qualpipe.flagging.alerts import pending_entries

            unscreened = len(pending_entries(self.store))
            # Our own errors say what to do and hold no entry text; another library's message might quote
            # an entry, so only its kind is shown and logged.
            error = str(exc) if isinstance(exc, UserError) else type(exc).__name__
            logging.getLogger(__name__).error("flagging new entries failed (%s); the digest says so", error)
        labels = {c.id: c.label for c in load_lexicon().categories.values()}
        digest = weekly_digest(self, week, labels, self.pseudonyms(show_identities), unresolved_failures(self.store),
                               provisional=bool(error))
        digest.screening_error, digest.unscreened = error, unscreened
        return digest

    def mark_digest_sent(self, week: str, recipients: list[str]) -> None:
        from qualpipe.flagging.alerts import mark_digest_sent

        mark_digest_sent(self.store, week, recipients)

    # -- topics, tables and reports ---------------------------------------------------------

    def fit_topics(self, params=None, *, refit: bool = False) -> int:
        """Fit (or reuse an identical) topic run on the current segments; returns the run id."""
        from qualpipe.topics.model import TopicParams
        from qualpipe.topics.runs import fit_topics

        return fit_topics(self, params or TopicParams(), refit=refit)

    def assign_topics(self, run_id: int, texts: list[str]):
        """A stored run's topic (and probability) for each new text, without refitting."""
        from qualpipe.topics.runs import assign_topics

        return assign_topics(self, run_id, texts)

    def codes_by(self, by: str, case_id: str | None = None):
        """DataFrame: codes per case, role, kind, week or month (see views.tables.codes_by)."""
        from qualpipe.views.tables import codes_by

        return codes_by(self, by, case_id)

    def topics_by(self, by: str, run_id: int | None = None, case_id: str | None = None):
        """DataFrame: a run's topics (default: the latest) per case, role, kind, week or month."""
        from qualpipe.topics.runs import resolve_run
        from qualpipe.views.tables import topics_by

        return topics_by(self, by, resolve_run(self, run_id), case_id)

    def topic_table(self, run_id: int | None = None, *, show_identities: bool = False):
        """DataFrame: one row per topic with representative segments (pseudonymised unless show_identities)."""
        from qualpipe.topics.runs import resolve_run
        from qualpipe.views.tables import topic_table

        return topic_table(self, resolve_run(self, run_id), self.pseudonyms(show_identities))

    def report(self, run_id: int | None = None, *, show_identities: bool = False) -> str:
        """The self-contained HTML report across cases (with topics of `run_id`, if given)."""
        from qualpipe.views.report import build_report

        return build_report(self, run_id, show_identities=show_identities)

    def case_report(self, case_id: str, run_id: int | None = None, *, show_identities: bool = False) -> str:
        """The self-contained HTML report of one case."""
        from qualpipe.views.report import build_case_report

        return build_case_report(self, case_id, run_id, show_identities=show_identities)

    def document_text(self, document_id: int) -> str:
        rows = self.store.query("SELECT text FROM documents WHERE id = ?", (document_id,))
        if not rows:
            raise UserError(f"document {document_id}: not in the store")
        return rows[0]["text"]


def _counts(rows) -> dict[str, int]:
    return {r["k"]: r["n"] for r in rows}
