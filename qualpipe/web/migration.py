"""Schema 10, the web app's accounts: users, sessions, failed logins and the audit log of identity views.

`m010_web_accounts` is the named migration that adds them to a store of schema 9. Until the store's list of
named migrations exists, `qualpipe.store.SCHEMA` holds the same statements (a test keeps the two identical),
so every store opened by this qualpipe has the tables. A migration is frozen once released: later changes to
these tables are new migrations, not edits here.
"""

from __future__ import annotations

import sqlite3

WEB_ACCOUNTS_SQL = """
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
"""


# --- named migration: schema 9 -> 10 -------------------------------------------------------------------------
def m010_web_accounts(conn: sqlite3.Connection) -> None:
    """Create the web app's tables (users, sessions, login_failures, identity_views); running it twice is harmless."""
    # one statement at a time: executescript would commit the caller's transaction first
    for statement in WEB_ACCOUNTS_SQL.split(";\n"):
        if statement.strip():
            conn.execute(statement)
