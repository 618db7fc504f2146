"""The project store: one plain SQLite file a user can open in any tool."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from qualpipe.migrations import MIGRATIONS, execute_script
from qualpipe.private_files import create_private_file
from qualpipe.records import Segment, Status

# A change to SCHEMA also needs a step in qualpipe/migrations.py that makes it in older stores, numbered with
# the version this is raised to: a fresh store gets SCHEMA, an older one only the steps.
SCHEMA_VERSION = 12

SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    -- One row per case, by the id the input files (or their names) give it; first_seen: when it was first ingested.
    case_id     TEXT PRIMARY KEY,
    first_seen  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    -- Files whose every part was ingested; an unchanged file (same path, same hash) is skipped.
    path        TEXT PRIMARY KEY,
    sha256      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    -- One row per version of a document: an interview transcript or a logbook entry.
    -- A changed source becomes a new version; the old one is kept with superseded_at set.
    id            INTEGER PRIMARY KEY,
    doc_key       TEXT NOT NULL,
    version       INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('interview', 'logbook')),
    case_id       TEXT REFERENCES cases(case_id),
    date          TEXT,
    author        TEXT,
    source_path   TEXT NOT NULL,
    source_format TEXT NOT NULL,
    encoding      TEXT,
    content_hash  TEXT NOT NULL,
    text          TEXT NOT NULL,  -- every start/end in the store is an offset into this text
    language      TEXT,
    ingested_at   TEXT NOT NULL,
    superseded_at TEXT,
    UNIQUE (doc_key, version)
);
CREATE INDEX IF NOT EXISTS documents_current ON documents (doc_key) WHERE superseded_at IS NULL;
CREATE INDEX IF NOT EXISTS documents_hash ON documents (content_hash);
CREATE INDEX IF NOT EXISTS documents_case ON documents (
    -- a case's documents and alerts (case rules, cancellations and pseudonyms look them up per case)
    case_id, kind);
CREATE TABLE IF NOT EXISTS turns (
    -- Speaker turns of a document (a logbook entry is one turn); start/end: where it lies in documents.text.
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    idx         INTEGER NOT NULL,
    speaker     TEXT,
    role        TEXT NOT NULL,
    start       INTEGER NOT NULL,
    end         INTEGER NOT NULL,
    UNIQUE (document_id, idx)
);
CREATE TABLE IF NOT EXISTS segments (
    -- Sentences. documents.text[start:end] == text; norm_text is the cleaned form used downstream.
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    turn_id     INTEGER NOT NULL REFERENCES turns(id),
    idx         INTEGER NOT NULL,
    start       INTEGER NOT NULL,
    end         INTEGER NOT NULL,
    text        TEXT NOT NULL,
    norm_text   TEXT NOT NULL,
    speaker     TEXT,
    role        TEXT NOT NULL,
    case_id     TEXT,
    date        TEXT,
    language    TEXT,
    UNIQUE (document_id, idx)
);
CREATE INDEX IF NOT EXISTS segments_case ON segments (case_id);
CREATE TABLE IF NOT EXISTS embeddings (
    -- Embeddings by (hash of kind + normalised text, model id): each text is embedded once per model.
    text_hash   TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    dim         INTEGER NOT NULL,
    vector      BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (text_hash, model_id)
);
CREATE TABLE IF NOT EXISTS codings (
    -- Codes on segments. Machine codings (coder 'qualpipe') carry a score and the method and model behind it;
    -- human codings (imported) carry the coder's name.
    id          INTEGER PRIMARY KEY,
    segment_id  INTEGER NOT NULL REFERENCES segments(id),
    code        TEXT NOT NULL,
    score       REAL,
    source      TEXT NOT NULL CHECK (source IN ('machine', 'human')),
    coder       TEXT NOT NULL,
    method      TEXT,
    start       INTEGER NOT NULL,  -- start/end: the evidence in documents.text (the segment, or the human selection)
    end         INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (segment_id, code, source, coder)
);
CREATE INDEX IF NOT EXISTS codings_segment ON codings (segment_id);
CREATE TABLE IF NOT EXISTS reviews (
    -- Segments a human has reviewed: a reviewed segment without a human code for X is a "no" for X.
    segment_id  INTEGER NOT NULL REFERENCES segments(id),
    coder       TEXT NOT NULL,
    reviewed_at TEXT NOT NULL,
    PRIMARY KEY (segment_id, coder)
);
CREATE TABLE IF NOT EXISTS code_decisions (
    -- An evaluator's explicit decision on one code for one segment ('qualpipe review'): 'yes' (accepted or
    -- added; the code is also a human coding) or 'no' (rejected). Only a 'no' here, or a segment reviewed as a
    -- whole in a QDA program, is a human "no" for learning; a machine code left untouched is not.
    segment_id  INTEGER NOT NULL REFERENCES segments(id),
    code        TEXT NOT NULL,
    coder       TEXT NOT NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('yes', 'no')),
    decided_at  TEXT NOT NULL,
    PRIMARY KEY (segment_id, code, coder)
);
CREATE TABLE IF NOT EXISTS alerts (
    -- Concern alerts on logbook entries; severity may be raised by case rules from base_severity.
    id            INTEGER PRIMARY KEY,
    document_id   INTEGER NOT NULL REFERENCES documents(id),
    case_id       TEXT,
    entry_date    TEXT,
    week          TEXT NOT NULL,
    category      TEXT NOT NULL,
    base_severity TEXT NOT NULL,
    severity      TEXT NOT NULL,
    evidence      TEXT NOT NULL,
    start         INTEGER NOT NULL,
    end           INTEGER NOT NULL,
    fired_by      TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    first_digest  TEXT,  -- the ISO week of the first digest that showed it (late entries show once)
    acked_at      TEXT,
    acked_by      TEXT,
    band          TEXT NOT NULL DEFAULT 'alert',  -- or 'check' where the detector is unsure (the digest's "Tjek disse")
    reason        TEXT NOT NULL DEFAULT '',  -- why, in Danish
    handled_as    TEXT,  -- 'ack' (handled), 'dismissed' (a false alarm) or 'added' (a coordinator's own), with ack_note
    ack_note      TEXT,
    undated       INTEGER NOT NULL DEFAULT 0,  -- 1: the entry had no date; entry_date and week are its ingest date's
    score         REAL,  -- the detector's score in [0, 1], ranking the check band; NULL: none or stored before 12
    UNIQUE (document_id, category)
);
CREATE INDEX IF NOT EXISTS alerts_week ON alerts (week);
CREATE INDEX IF NOT EXISTS alerts_case ON alerts (case_id, category);
CREATE TABLE IF NOT EXISTS concern_labels (
    -- What a coordinator decided about an entry and a concern category: present (with severity) or absent.
    -- The learned detector trains on these with `qualpipe flag train --with-feedback`.
    document_id INTEGER NOT NULL REFERENCES documents(id),
    category    TEXT NOT NULL,
    present     INTEGER NOT NULL,
    severity    TEXT,
    note        TEXT,
    labelled_by TEXT NOT NULL,
    labelled_at TEXT NOT NULL,
    PRIMARY KEY (document_id, category)
);
CREATE TABLE IF NOT EXISTS flagged_documents (
    -- Logbook entries the flagger has read, so that each entry is flagged once.
    document_id INTEGER PRIMARY KEY REFERENCES documents(id),
    flagged_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS digests (
    -- The weekly digests built, by ISO week.
    week     TEXT PRIMARY KEY,
    built_at TEXT NOT NULL,
    snapshot INTEGER NOT NULL DEFAULT 0,  -- 1: the alerts it showed are in digest_items, so a rebuild shows the same
    sent_at  TEXT,
    sent_to  TEXT
);
CREATE TABLE IF NOT EXISTS digest_items (
    -- The alerts a digest showed (digests.snapshot = 1), so that a rebuild of the week shows the same.
    week       TEXT NOT NULL,
    alert_id   INTEGER NOT NULL REFERENCES alerts(id),
    still_open INTEGER NOT NULL DEFAULT 0,  -- 1: shown again because it was urgent or high and not yet handled
    PRIMARY KEY (week, alert_id)
);
CREATE TABLE IF NOT EXISTS ingest_failures (
    -- Input files (or rows) that could not be read: shown at the top of every digest until a later ingest of
    -- the same file succeeds (resolved_at).
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    source_path TEXT NOT NULL,
    message     TEXT NOT NULL,
    failed_at   TEXT NOT NULL,
    resolved_at TEXT,
    UNIQUE (source_path, message)
);
CREATE TABLE IF NOT EXISTS topic_runs (
    -- Topic runs (BERTopic), with their topics in topics and each segment's in segment_topics;
    -- the fitted model is saved at model_path.
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    params      TEXT NOT NULL,
    n_segments  INTEGER NOT NULL,
    n_topics    INTEGER NOT NULL,
    model_path  TEXT NOT NULL,
    npmi        REAL,  -- npmi/diversity: the run's coherence and diversity
    diversity   REAL,
    fingerprint TEXT  -- model, parameters and segments: a re-run with the same fingerprint reuses this run
);
CREATE TABLE IF NOT EXISTS topics (
    -- The topics of a run: label and words (a JSON list) as the run's representation gave them.
    run_id  INTEGER NOT NULL REFERENCES topic_runs(id),
    topic   INTEGER NOT NULL,
    size    INTEGER NOT NULL,
    label   TEXT NOT NULL,
    words   TEXT NOT NULL,
    theme   TEXT,  -- the codebook theme the topic matches (zero-shot), with theme_score
    theme_score REAL,
    representative TEXT,  -- JSON list of segment ids
    PRIMARY KEY (run_id, topic)
);
CREATE TABLE IF NOT EXISTS segment_topics (
    -- Each segment's topic in a run.
    run_id     INTEGER NOT NULL REFERENCES topic_runs(id),
    segment_id INTEGER NOT NULL REFERENCES segments(id),
    topic      INTEGER NOT NULL,
    probability REAL,  -- the clustering's membership strength of the segment in raw_topic
    raw_topic  INTEGER,  -- the cluster before outlier reduction (-1 = outlier)
    PRIMARY KEY (run_id, segment_id)
);
CREATE TABLE IF NOT EXISTS pseudonymised_documents (
    -- Each document's text pseudonymised as outputs show it ([NAVN-1] for a person, the same in every
    -- document of the case): what a user browses (the view documents_pseudonymised). Which pseudonym
    -- stands for which name is not in the store: it is the key file ([privacy] key in qualpipe.toml).
    document_id INTEGER PRIMARY KEY REFERENCES documents(id),
    text        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    -- Web app accounts (qualpipe users add, schema 11). password_hash: argon2id, role: coordinator, evaluator or admin,
    -- cases: comma-separated case ids a user is limited to ('' = every case), show_identities: granted by an admin.
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('coordinator', 'evaluator', 'admin')),
    cases               TEXT NOT NULL DEFAULT '',
    show_identities     INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    -- A logged-in browser (schema 11): the SHA-256 of its cookie token (the token itself is never stored), the
    -- CSRF token of its forms, when it expires. identities = 1 while a user granted show_identities shows them.
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    identities  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS login_failures (
    -- Failed logins per user name (schema 11): from the fifth within 15 minutes the next attempt must wait.
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_name ON login_failures (name, failed_at);
CREATE TABLE IF NOT EXISTS identity_views (
    -- Audit log (schema 11): every web page shown with identities (names not pseudonymised): who, when, which
    -- page and which case (one row per case shown).
    id        INTEGER PRIMARY KEY,
    user_name TEXT NOT NULL,
    viewed_at TEXT NOT NULL,
    page      TEXT NOT NULL,
    case_id   TEXT
);
CREATE VIEW IF NOT EXISTS documents_pseudonymised AS
    -- The documents as a user may browse them: names replaced by pseudonyms, filled as outputs are made.
    SELECT d.id, d.kind, d.case_id, d.date, d.version, d.superseded_at, p.text
    FROM documents d JOIN pseudonymised_documents p ON p.document_id = d.id;
CREATE VIEW IF NOT EXISTS current_segments AS
    -- Segments of the current version of each document (superseded versions left out), for tables and reports.
    SELECT s.*, d.kind AS kind, d.doc_key AS doc_key, d.version AS version, d.source_path AS source_path
    FROM segments s JOIN documents d ON d.id = s.document_id
    WHERE d.superseded_at IS NULL;
"""


CODING_COLUMNS = ("segment_id", "code", "score", "source", "coder", "method", "start", "end", "created_at")


def insert_codings(conn: sqlite3.Connection, rows: list[tuple]) -> int:
    """Insert codings (tuples in CODING_COLUMNS order), skipping ones already stored; returns how many were new."""
    before = conn.total_changes
    conn.executemany(
        f"INSERT OR IGNORE INTO codings ({', '.join(CODING_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(CODING_COLUMNS))})",
        rows,
    )
    return conn.total_changes - before


def utc_now() -> str:
    """UTC time as ISO text with a fixed width, so stored times compare correctly as strings."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


_UNFLAGGED = ("FROM documents d LEFT JOIN flagged_documents f ON f.document_id = d.id "
              "WHERE d.kind = 'logbook' AND d.superseded_at IS NULL AND f.document_id IS NULL")


class Store:
    """Connection to the SQLite store; SQLite gives journal files the database file's mode."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.exists():
            create_private_file(self.path)
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA foreign_keys = ON")
        # WAL: a reader (Datasette, a report, the web app) never blocks a writer's commit, and a writer waits
        # up to a minute for another writer instead of failing with "database is locked".
        self.conn.execute("PRAGMA busy_timeout = 60000")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self._migrate()

    def _migrate(self) -> None:
        """Create a new store from SCHEMA, or bring an older one up to SCHEMA_VERSION one named step at a time.

        Each step commits with the version it reached, so an interrupted upgrade resumes where it stopped; the
        version is read again inside each step's transaction, as another process may have upgraded meanwhile."""
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            from qualpipe.errors import UserError

            self.conn.close()
            raise UserError(f"{self.path}: made by a newer qualpipe (schema {version}); upgrade qualpipe")
        if version == 0:
            with self.transaction() as conn:
                if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                    execute_script(conn, SCHEMA)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            return
        for step_version, step in MIGRATIONS.items():
            if step_version <= version:
                continue
            with self.transaction() as conn:
                if conn.execute("PRAGMA user_version").fetchone()[0] < step_version:
                    step(conn)
                    conn.execute(f"PRAGMA user_version = {step_version}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: everything in it is stored, or (on any error, Ctrl-C too) nothing."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    # -- reads -------------------------------------------------------------------------------

    def file_hash(self, path: str) -> str | None:
        row = self.conn.execute("SELECT sha256 FROM files WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def current_document(self, doc_key: str) -> sqlite3.Row | None:
        return self.conn.execute(
            "SELECT id, version, content_hash FROM documents WHERE doc_key = ? AND superseded_at IS NULL",
            (doc_key,),
        ).fetchone()

    def has_current_content(self, content_hash: str, kind: str) -> bool:
        return (
            self.conn.execute(
                "SELECT 1 FROM documents WHERE content_hash = ? AND kind = ? AND superseded_at IS NULL LIMIT 1",
                (content_hash, kind),
            ).fetchone()
            is not None
        )

    def unflagged_entries(self) -> list[sqlite3.Row]:
        """Current logbook entries not flagged yet, by case and date."""
        return self.query(f"SELECT d.id, d.case_id, d.date, d.text, d.ingested_at {_UNFLAGGED} "
                          "ORDER BY d.case_id, d.date, d.id")

    def has_unflagged_entries(self) -> bool:
        return bool(self.query(f"SELECT 1 {_UNFLAGGED} LIMIT 1"))

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def document_text(self, document_id: int) -> str:
        row = self.conn.execute("SELECT text FROM documents WHERE id = ?", (document_id,)).fetchone()
        if row is None:
            from qualpipe.errors import UserError

            raise UserError(f"document {document_id}: not in the store")
        return row[0]

    def segments(
        self, *, case_id: str | None = None, kind: str | None = None, role: str | None = None,
        include_superseded: bool = False,
    ) -> list[Segment]:
        """Segments of current document versions (or all versions), in document and sentence order."""
        table = (
            "current_segments"
            if not include_superseded
            else (
                "(SELECT s.*, d.kind, d.doc_key, d.version, d.source_path FROM segments s "
                "JOIN documents d ON d.id = s.document_id)"
            )
        )
        where, params = [], []
        if case_id:
            where.append("case_id = ?")
            params.append(case_id)
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if role:
            where.append("role = ?")
            params.append(role)
        sql = f"SELECT * FROM {table}" + (f" WHERE {' AND '.join(where)}" if where else "")
        sql += " ORDER BY case_id, date, document_id, idx"
        return [
            Segment(
                r["id"],
                r["document_id"],
                r["doc_key"],
                r["kind"],
                r["case_id"],
                r["date"],
                r["speaker"],
                r["role"],
                r["language"],
                r["start"],
                r["end"],
                r["text"],
                r["norm_text"],
                r["turn_id"],
            )
            for r in self.query(sql, tuple(params))
        ]

    def status(self) -> Status:
        """Counts of cases, documents (per kind) and current segments (per role, language and kind)."""
        q = self.query

        def counts(sql: str) -> dict[str, int]:
            return {r["k"]: r["n"] for r in q(sql)}

        return Status(
            cases=q("SELECT COUNT(*) FROM cases")[0][0],
            documents=counts(
                "SELECT kind AS k, COUNT(*) AS n FROM documents WHERE superseded_at IS NULL GROUP BY kind"
            ),
            superseded_versions=q("SELECT COUNT(*) FROM documents WHERE superseded_at IS NOT NULL")[0][0],
            segments_by_role=counts(
                "SELECT role AS k, COUNT(*) AS n FROM current_segments GROUP BY role ORDER BY n DESC"
            ),
            segments_by_language=counts(
                "SELECT COALESCE(language, '?') AS k, COUNT(*) AS n FROM current_segments GROUP BY k ORDER BY n DESC"
            ),
            segments_by_kind=counts("SELECT kind AS k, COUNT(*) AS n FROM current_segments GROUP BY kind"),
        )
