"""Accounts on the store: the web tables (schema 11), argon2 hashes, the `qualpipe users` commands."""

from __future__ import annotations

import sqlite3

import pytest

from qualpipe.errors import UserError
from qualpipe.store import SCHEMA_VERSION, Store
from qualpipe.web import accounts


def test_a_store_from_before_the_web_app_gets_its_account_tables_when_opened(tmp_path):
    path = tmp_path / "old.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    # what schema 10 had: no account tables, and no alert scores (schema 12)
    conn.executescript("DROP TABLE identity_views; DROP TABLE login_failures; DROP TABLE sessions; DROP TABLE users; "
                       "ALTER TABLE alerts DROP COLUMN score; PRAGMA user_version = 10;")
    conn.close()
    store = Store(path)
    try:
        assert store.query("PRAGMA user_version")[0][0] == SCHEMA_VERSION
        tables = {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"users", "sessions", "login_failures", "identity_views"} <= tables
        assert "-- Web app accounts" in store.query("SELECT sql FROM sqlite_master WHERE name = 'users'")[0][0]
    finally:
        store.close()


def test_passwords_are_stored_as_argon2id_hashes_and_checked(project):
    user = accounts.add_user(project.store, "Lene", "et-langt-kodeord", "coordinator", cases=("M01", "M02"))
    stored = project.store.query("SELECT password_hash FROM users")[0][0]
    assert stored.startswith("$argon2id$") and "et-langt-kodeord" not in stored
    assert accounts.authenticate(project.store, "Lene", "et-langt-kodeord") == user
    with pytest.raises(accounts.LoginRefused):
        accounts.authenticate(project.store, "Lene", "forkert-kodeord")
    with pytest.raises(accounts.LoginRefused):
        accounts.authenticate(project.store, "Ukendt", "et-langt-kodeord")
    assert user.may_see("M01") and not user.may_see("M03")
    with pytest.raises(UserError, match="at least 10"):
        accounts.add_user(project.store, "Kort", "kort", "evaluator")
    with pytest.raises(UserError, match="--role"):
        accounts.add_user(project.store, "Bo", "et-langt-kodeord", "boss")


def test_sessions_store_only_a_hash_of_the_token_and_end_with_a_new_password(project):
    user = accounts.add_user(project.store, "Eva", "evaluator-kodeord", "evaluator")
    token, session = accounts.create_session(project.store, user)
    assert accounts.session_for(project.store, token).user == user
    assert not project.store.query("SELECT 1 FROM sessions WHERE token_hash = ?", (token,))
    accounts.set_password(project.store, "Eva", "nyt-evaluator-kodeord")
    assert accounts.session_for(project.store, token) is None
    expired_token, _ = accounts.create_session(project.store, user, hours=-1)
    assert accounts.session_for(project.store, expired_token) is None


def test_users_commands_add_list_grant_passwd_and_remove(tmp_path):
    from typer.testing import CliRunner

    from qualpipe.cli import app

    project_dir = tmp_path / "project"

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(app, ["--project", str(project_dir), *args], input=input, catch_exceptions=False)

    invoke("init", str(project_dir))
    added = invoke("users", "add", "Lene", "--role", "coordinator", "--cases", "M01,M02", "--password-stdin",
                   input="lene-koordinator-1\n")
    assert added.exit_code == 0 and "user Lene added (coordinator; cases: M01, M02)" in added.output
    assert invoke("users", "add", "Lene", "--role", "admin", "--password-stdin", input="x" * 12 + "\n").exit_code == 2
    listed = invoke("users", "list", "--format", "csv")
    assert "Lene,coordinator,\"M01,M02\",no," in listed.output
    granted = invoke("users", "grant", "Lene", "--show-identities", "--cases", "")
    assert "identities allowed; cases: all" in granted.output
    assert invoke("users", "passwd", "Lene", "--password-stdin", input="nyt-kodeord-123\n").exit_code == 0
    assert invoke("users", "remove", "Lene").exit_code == 0
    assert "Lene" not in invoke("users", "list", "--format", "csv").output
