"""Named schema migrations: one function per schema version, bringing a store made by an older qualpipe up to date."""

from __future__ import annotations

import re
import sqlite3
from typing import Callable

Migration = Callable[[sqlite3.Connection], None]

# version -> the step that brings a store at version - 1 to it; the store records the last step in user_version.
MIGRATIONS: dict[int, Migration] = {}


def migration(step: Migration) -> Migration:
    """Register `step` for the version its name starts with (m005_… is version 5); steps come in order."""
    version = int(re.fullmatch(r"m(\d{3})_\w+", step.__name__).group(1))
    if version != max(MIGRATIONS, default=1) + 1:
        raise ValueError(f"{step.__name__}: migrations must be registered in order, one per version")
    MIGRATIONS[version] = step
    return step


def execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Run the statements of `script` one by one inside the caller's transaction.

    `executescript` would commit that transaction first, so a step interrupted half-way would be half stored."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement at the end of a script: {statement.strip()[:60]}")


def add_columns(conn: sqlite3.Connection, table: str, columns: list[str]) -> None:
    # No comments here: SQLite copies an added column's text into the stored CREATE TABLE, and a trailing
    # `--` comment would swallow the closing parenthesis it appends.
    for column in columns:
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


# Each step creates what its version added, in that version's own words: later steps alter the tables
# further, so a step must not create a table in its final shape. Version 1 has no step: a store without
# a version is new and is created from store.SCHEMA at once.


@migration
def m002_embeddings_and_codings(conn: sqlite3.Connection) -> None:
    execute_script(conn, """
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
""")


@migration
def m003_alerts_and_digests(conn: sqlite3.Connection) -> None:
    execute_script(conn, """
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
    UNIQUE (document_id, category)
);
CREATE INDEX IF NOT EXISTS alerts_week ON alerts (week);
CREATE TABLE IF NOT EXISTS flagged_documents (
    -- Logbook entries the flagger has read, so that each entry is flagged once.
    document_id INTEGER PRIMARY KEY REFERENCES documents(id),
    flagged_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS digests (
    -- The weekly digests built, by ISO week.
    week     TEXT PRIMARY KEY,
    built_at TEXT NOT NULL
);
""")


@migration
def m004_topic_runs(conn: sqlite3.Connection) -> None:
    execute_script(conn, """
CREATE TABLE IF NOT EXISTS topic_runs (
    -- Topic runs (BERTopic), with their topics in topics and each segment's in segment_topics;
    -- the fitted model is saved at model_path.
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    params      TEXT NOT NULL,
    n_segments  INTEGER NOT NULL,
    n_topics    INTEGER NOT NULL,
    model_path  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS topics (
    -- The topics of a run: label and words (a JSON list) as the run's representation gave them.
    run_id  INTEGER NOT NULL REFERENCES topic_runs(id),
    topic   INTEGER NOT NULL,
    size    INTEGER NOT NULL,
    label   TEXT NOT NULL,
    words   TEXT NOT NULL,
    PRIMARY KEY (run_id, topic)
);
CREATE TABLE IF NOT EXISTS segment_topics (
    -- Each segment's topic in a run.
    run_id     INTEGER NOT NULL REFERENCES topic_runs(id),
    segment_id INTEGER NOT NULL REFERENCES segments(id),
    topic      INTEGER NOT NULL,
    PRIMARY KEY (run_id, segment_id)
);
""")


@migration
def m005_topic_quality_and_themes(conn: sqlite3.Connection) -> None:
    add_columns(conn, "topic_runs", ["npmi REAL", "diversity REAL", "fingerprint TEXT"])
    add_columns(conn, "topics", ["theme TEXT", "theme_score REAL", "representative TEXT"])
    add_columns(conn, "segment_topics", ["probability REAL", "raw_topic INTEGER"])


@migration
def m006_case_pseudonyms(conn: sqlite3.Connection) -> None:
    # Schema 9 took this table out of the store again: Project moves its rows into the pseudonym key file
    # (privacy.outputs.move_key_out_of_store) and drops it, as only the project's configuration knows
    # where that file is. Until then it holds the only copy of which pseudonym stands for which name.
    execute_script(conn, """
CREATE TABLE IF NOT EXISTS case_pseudonyms (
    -- Pseudonyms per case, kept so that outputs stay consistent and only new documents are processed:
    -- labels/originals as in a pseudonym key (scope "case:ID"); documents: JSON list of document ids already in it.
    case_id   TEXT PRIMARY KEY,
    labels    TEXT NOT NULL,
    originals TEXT NOT NULL,
    documents TEXT NOT NULL
);
""")


@migration
def m007_case_indexes(conn: sqlite3.Connection) -> None:
    execute_script(conn, """
CREATE INDEX IF NOT EXISTS documents_case ON documents (
    -- a case's documents and alerts (case rules, cancellations and pseudonyms look them up per case)
    case_id, kind);
CREATE INDEX IF NOT EXISTS alerts_case ON alerts (case_id, category);
""")


@migration
def m008_alert_handling_digest_snapshots_and_failures(conn: sqlite3.Connection) -> None:
    # Alerts stored before keep handled_as NULL, which the digest shows as 'ack', and digests built before
    # keep snapshot 0: a rebuild of such a week shows the alerts as they are now, as schema 8 did.
    add_columns(conn, "alerts", ["band TEXT NOT NULL DEFAULT 'alert'", "reason TEXT NOT NULL DEFAULT ''",
                                 "handled_as TEXT", "ack_note TEXT", "undated INTEGER NOT NULL DEFAULT 0"])
    add_columns(conn, "digests", ["snapshot INTEGER NOT NULL DEFAULT 0", "sent_at TEXT", "sent_to TEXT"])
    execute_script(conn, """
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
""")


PSEUDONYMISED_TEXT = """
CREATE TABLE IF NOT EXISTS pseudonymised_documents (
    -- Each document's text pseudonymised as outputs show it ([NAVN-1] for a person, the same in every
    -- document of the case): what a user browses (the view documents_pseudonymised). Which pseudonym
    -- stands for which name is not in the store: it is the key file ([privacy] key in qualpipe.toml).
    document_id INTEGER PRIMARY KEY REFERENCES documents(id),
    text        TEXT NOT NULL
);
CREATE VIEW IF NOT EXISTS documents_pseudonymised AS
    -- The documents as a user may browse them: names replaced by pseudonyms, filled as outputs are made.
    SELECT d.id, d.kind, d.case_id, d.date, d.version, d.superseded_at, p.text
    FROM documents d JOIN pseudonymised_documents p ON p.document_id = d.id;
"""


@migration
def m009_code_decisions_and_pseudonymised_text(conn: sqlite3.Connection) -> None:
    # The case pseudonyms (case_pseudonyms) leave the store in this version too, but not here: see m006.
    execute_script(conn, """
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
""")
    execute_script(conn, PSEUDONYMISED_TEXT)


@migration
def m010_pseudonymised_text_in_every_version_9_store(conn: sqlite3.Connection) -> None:
    # Stores made by the first commits of version 9 (3530467, before the pseudonym key left the store) were
    # marked 9 without the pseudonymised text; digests then failed with "no such table". A store that has it
    # is left as it is.
    execute_script(conn, PSEUDONYMISED_TEXT)


WEB_ACCOUNTS = """
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
"""


@migration
def m011_web_accounts(conn: sqlite3.Connection) -> None:
    # The web app (qualpipe serve): users, sessions, failed logins and the audit log of identity views.
    execute_script(conn, WEB_ACCOUNTS)


@migration
def m012_alert_scores(conn: sqlite3.Connection) -> None:
    # The detector's score of each alert, so the digest can put the likeliest of the check band first. Alerts
    # stored before keep NULL: their entries are flagged already and are not scored again, and the digest lists
    # them after the scored ones.
    add_columns(conn, "alerts", ["score REAL"])
