"""The project store: one plain SQLite file a user can open in any tool."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from qualpipe.private_files import create_private_file
from qualpipe.records import Segment, Status

SCHEMA_VERSION = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    case_id     TEXT PRIMARY KEY,
    first_seen  TEXT NOT NULL
);
-- Files whose every part was ingested; an unchanged file (same path, same hash) is skipped.
CREATE TABLE IF NOT EXISTS files (
    path        TEXT PRIMARY KEY,
    sha256      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
-- One row per version of a document: an interview transcript or a logbook entry.
-- A changed source becomes a new version; the old one is kept with superseded_at set.
CREATE TABLE IF NOT EXISTS documents (
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
    text          TEXT NOT NULL,
    language      TEXT,
    ingested_at   TEXT NOT NULL,
    superseded_at TEXT,
    UNIQUE (doc_key, version)
);
CREATE INDEX IF NOT EXISTS documents_current ON documents (doc_key) WHERE superseded_at IS NULL;
CREATE INDEX IF NOT EXISTS documents_hash ON documents (content_hash);
-- a case's documents and alerts (case rules, cancellations and pseudonyms look them up per case)
CREATE INDEX IF NOT EXISTS documents_case ON documents (case_id, kind);
CREATE TABLE IF NOT EXISTS turns (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    idx         INTEGER NOT NULL,
    speaker     TEXT,
    role        TEXT NOT NULL,
    start       INTEGER NOT NULL,
    end         INTEGER NOT NULL,
    UNIQUE (document_id, idx)
);
-- Sentences. documents.text[start:end] == text; norm_text is the cleaned form used downstream.
CREATE TABLE IF NOT EXISTS segments (
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
-- Embeddings by (hash of kind + normalised text, model id): each text is embedded once per model.
CREATE TABLE IF NOT EXISTS embeddings (
    text_hash   TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    dim         INTEGER NOT NULL,
    vector      BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (text_hash, model_id)
);
-- Codes on segments. Machine codings (coder 'qualpipe') carry a score and the method and model behind it;
-- human codings (imported) carry the coder's name.
-- start/end: the evidence in documents.text (the segment, or the human selection).
CREATE TABLE IF NOT EXISTS codings (
    id          INTEGER PRIMARY KEY,
    segment_id  INTEGER NOT NULL REFERENCES segments(id),
    code        TEXT NOT NULL,
    score       REAL,
    source      TEXT NOT NULL CHECK (source IN ('machine', 'human')),
    coder       TEXT NOT NULL,
    method      TEXT,
    start       INTEGER NOT NULL,
    end         INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (segment_id, code, source, coder)
);
CREATE INDEX IF NOT EXISTS codings_segment ON codings (segment_id);
-- Segments a human has reviewed: a reviewed segment without a human code for X is a "no" for X.
CREATE TABLE IF NOT EXISTS reviews (
    segment_id  INTEGER NOT NULL REFERENCES segments(id),
    coder       TEXT NOT NULL,
    reviewed_at TEXT NOT NULL,
    PRIMARY KEY (segment_id, coder)
);
-- An evaluator's explicit decision on one code for one segment ('qualpipe review'): 'yes' (accepted or
-- added; the code is also a human coding) or 'no' (rejected). Only a 'no' here, or a segment reviewed as a
-- whole in a QDA program, is a human "no" for learning; a machine code left untouched is not.
CREATE TABLE IF NOT EXISTS code_decisions (
    segment_id  INTEGER NOT NULL REFERENCES segments(id),
    code        TEXT NOT NULL,
    coder       TEXT NOT NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('yes', 'no')),
    decided_at  TEXT NOT NULL,
    PRIMARY KEY (segment_id, code, coder)
);
-- Concern alerts on logbook entries; severity may be raised by case rules from base_severity.
-- first_digest: the ISO week of the first digest that showed it (late entries show once).
-- band: 'alert', or 'check' where the detector is unsure (the digest's "Tjek disse"); reason: why, in Danish.
-- handled_as: 'ack' (handled), 'dismissed' (a false alarm) or 'added' (a coordinator's own), with ack_note.
CREATE TABLE IF NOT EXISTS alerts (
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
    first_digest  TEXT,
    acked_at      TEXT,
    acked_by      TEXT,
    band          TEXT NOT NULL DEFAULT 'alert',
    reason        TEXT NOT NULL DEFAULT '',
    handled_as    TEXT,
    ack_note      TEXT,
    undated       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (document_id, category)
);
CREATE INDEX IF NOT EXISTS alerts_week ON alerts (week);
CREATE INDEX IF NOT EXISTS alerts_case ON alerts (case_id, category);
-- What a coordinator decided about an entry and a concern category: present (with severity) or absent.
-- The learned detector trains on these with `qualpipe flag train --with-feedback`.
CREATE TABLE IF NOT EXISTS concern_labels (
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
    document_id INTEGER PRIMARY KEY REFERENCES documents(id),
    flagged_at  TEXT NOT NULL
);
-- snapshot = 1: the alerts the digest showed are kept in digest_items, so a rebuild shows the same
CREATE TABLE IF NOT EXISTS digests (
    week     TEXT PRIMARY KEY,
    built_at TEXT NOT NULL,
    snapshot INTEGER NOT NULL DEFAULT 0,
    sent_at  TEXT,
    sent_to  TEXT
);
-- still_open = 1: shown again because it was urgent or high and not yet handled
CREATE TABLE IF NOT EXISTS digest_items (
    week       TEXT NOT NULL,
    alert_id   INTEGER NOT NULL REFERENCES alerts(id),
    still_open INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (week, alert_id)
);
-- Input files (or rows) that could not be read: shown at the top of every digest until a later ingest of
-- the same file succeeds (resolved_at).
CREATE TABLE IF NOT EXISTS ingest_failures (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    source_path TEXT NOT NULL,
    message     TEXT NOT NULL,
    failed_at   TEXT NOT NULL,
    resolved_at TEXT,
    UNIQUE (source_path, message)
);
-- Topic runs (BERTopic), their topics, and each segment's topic; the fitted model is saved at model_path.
-- npmi/diversity: the run's coherence and diversity; fingerprint: model, parameters and segments (a re-run reuses it); theme: the codebook theme a topic matches (zero-shot);
-- representative: JSON list of segment ids; raw_topic: the cluster before outlier reduction (-1 = outlier),
-- probability: the clustering's membership strength of the segment in raw_topic.
CREATE TABLE IF NOT EXISTS topic_runs (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    params      TEXT NOT NULL,
    n_segments  INTEGER NOT NULL,
    n_topics    INTEGER NOT NULL,
    model_path  TEXT NOT NULL,
    npmi        REAL,
    diversity   REAL,
    fingerprint TEXT
);
CREATE TABLE IF NOT EXISTS topics (
    run_id  INTEGER NOT NULL REFERENCES topic_runs(id),
    topic   INTEGER NOT NULL,
    size    INTEGER NOT NULL,
    label   TEXT NOT NULL,
    words   TEXT NOT NULL,
    theme   TEXT,
    theme_score REAL,
    representative TEXT,
    PRIMARY KEY (run_id, topic)
);
CREATE TABLE IF NOT EXISTS segment_topics (
    run_id     INTEGER NOT NULL REFERENCES topic_runs(id),
    segment_id INTEGER NOT NULL REFERENCES segments(id),
    topic      INTEGER NOT NULL,
    probability REAL,
    raw_topic  INTEGER,
    PRIMARY KEY (run_id, segment_id)
);
-- Each document's text pseudonymised as outputs show it ([NAVN-1] for a person, the same in every
-- document of the case): what a user browses (the view documents_pseudonymised). Which pseudonym
-- stands for which name is not in the store: it is the key file ([privacy] key in qualpipe.toml).
CREATE TABLE IF NOT EXISTS pseudonymised_documents (
    document_id INTEGER PRIMARY KEY REFERENCES documents(id),
    text        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    -- Web app accounts (qualpipe users add, schema 10). password_hash: argon2id, role: coordinator, evaluator or admin,
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
    -- A logged-in browser (schema 10): the SHA-256 of its cookie token (the token itself is never stored), the
    -- CSRF token of its forms, when it expires. identities = 1 while a user granted show_identities shows them.
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    identities  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS login_failures (
    -- Failed logins per user name (schema 10): from the fifth within 15 minutes the next attempt must wait.
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_name ON login_failures (name, failed_at);
CREATE TABLE IF NOT EXISTS identity_views (
    -- Audit log (schema 10): every web page shown with identities (names not pseudonymised): who, when, which
    -- page and which case (one row per case shown).
    id        INTEGER PRIMARY KEY,
    user_name TEXT NOT NULL,
    viewed_at TEXT NOT NULL,
    page      TEXT NOT NULL,
    case_id   TEXT
);
CREATE VIEW IF NOT EXISTS documents_pseudonymised AS
    SELECT d.id, d.kind, d.case_id, d.date, d.version, d.superseded_at, p.text
    FROM documents d JOIN pseudonymised_documents p ON p.document_id = d.id;
CREATE VIEW IF NOT EXISTS current_segments AS
    SELECT s.*, d.kind AS kind, d.doc_key AS doc_key, d.version AS version, d.source_path AS source_path
    FROM segments s JOIN documents d ON d.id = s.document_id
    WHERE d.superseded_at IS NULL;
"""


# Columns added to existing tables, by the schema version that added them: ALTERed into older stores.
ADDED_COLUMNS = {
    5: [("topic_runs", "npmi REAL"), ("topic_runs", "diversity REAL"), ("topic_runs", "fingerprint TEXT"), ("topics", "theme TEXT"),
        ("topics", "theme_score REAL"), ("topics", "representative TEXT"),
        ("segment_topics", "probability REAL"), ("segment_topics", "raw_topic INTEGER")],
    8: [("alerts", "band TEXT NOT NULL DEFAULT 'alert'"), ("alerts", "reason TEXT NOT NULL DEFAULT ''"),
        ("alerts", "handled_as TEXT"), ("alerts", "ack_note TEXT"), ("alerts", "undated INTEGER NOT NULL DEFAULT 0"),
        ("digests", "snapshot INTEGER NOT NULL DEFAULT 0"), ("digests", "sent_at TEXT"), ("digests", "sent_to TEXT")],
}

CODING_COLUMNS = ("segment_id", "code", "score", "source", "coder", "method", "start", "end", "created_at")


def insert_codings(conn: sqlite3.Connection, rows: list[tuple]) -> int:
    """Insert codings (tuples in CODING_COLUMNS order), skipping ones already stored; returns how many were new."""
    before = conn.total_changes
    conn.executemany(
        f"INSERT OR IGNORE INTO codings ({', '.join(CODING_COLUMNS)}) VALUES ({', '.join('?' * len(CODING_COLUMNS))})", rows)
    return conn.total_changes - before


def utc_now() -> str:
    """UTC time as ISO text with a fixed width, so stored times compare correctly as strings."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


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
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            from qualpipe.errors import UserError

            raise UserError(f"{self.path}: made by a newer qualpipe (schema {version}); upgrade qualpipe")
        if version < SCHEMA_VERSION:
            alters = []
            for table, column in (c for columns in ADDED_COLUMNS.values() for c in columns):
                present = {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}
                if present and column.split()[0] not in present:
                    alters.append(f"ALTER TABLE {table} ADD COLUMN {column};")
            self.conn.executescript(
                f"BEGIN IMMEDIATE;{''.join(alters)}{SCHEMA}PRAGMA user_version = {SCHEMA_VERSION};COMMIT;")

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
        return self.conn.execute(
            "SELECT 1 FROM documents WHERE content_hash = ? AND kind = ? AND superseded_at IS NULL LIMIT 1",
            (content_hash, kind),
        ).fetchone() is not None

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def document_text(self, document_id: int) -> str:
        row = self.conn.execute("SELECT text FROM documents WHERE id = ?", (document_id,)).fetchone()
        if row is None:
            from qualpipe.errors import UserError

            raise UserError(f"document {document_id}: not in the store")
        return row[0]

    def segments(self, *, case_id: str | None = None, kind: str | None = None,
                 include_superseded: bool = False) -> list[Segment]:
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
            for r in self.query(sql, tuple(params))
        ]

    def status(self) -> Status:
        """Counts of cases, documents (per kind) and current segments (per role, language and kind)."""
        q = self.query

        def counts(sql: str) -> dict[str, int]:
            return {r["k"]: r["n"] for r in q(sql)}

        return Status(
            cases=q("SELECT COUNT(*) FROM cases")[0][0],
            documents=counts("SELECT kind AS k, COUNT(*) AS n FROM documents WHERE superseded_at IS NULL GROUP BY kind"),
            superseded_versions=q("SELECT COUNT(*) FROM documents WHERE superseded_at IS NOT NULL")[0][0],
            segments_by_role=counts("SELECT role AS k, COUNT(*) AS n FROM current_segments GROUP BY role ORDER BY n DESC"),
            segments_by_language=counts(
                "SELECT COALESCE(language, '?') AS k, COUNT(*) AS n FROM current_segments GROUP BY k ORDER BY n DESC"),
            segments_by_kind=counts("SELECT kind AS k, COUNT(*) AS n FROM current_segments GROUP BY kind"),
        )
