"""Accounts on the store: schema 10's tables, argon2 hashes, the `qualpipe users` commands."""

from __future__ import annotations

import sqlite3

import pytest

from qualpipe.errors import UserError
from qualpipe.store import SCHEMA, SCHEMA_VERSION, Store
from qualpipe.web import accounts
from qualpipe.web.migration import WEB_ACCOUNTS_SQL, m010_web_accounts


def test_the_store_schema_holds_the_web_tables_exactly_as_the_migration_makes_them():
    assert SCHEMA_VERSION == 10
    assert WEB_ACCOUNTS_SQL.strip() in SCHEMA


def test_m010_adds_the_web_tables_to_a_schema_9_store_inside_a_transaction(tmp_path):
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    conn.execute("PRAGMA user_version = 9")
    conn.execute("BEGIN IMMEDIATE")
    m010_web_accounts(conn)
    m010_web_accounts(conn)  # twice is harmless
    conn.execute("ROLLBACK")  # the migration did not commit behind the caller's back
    assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'users'").fetchall()
    m010_web_accounts(conn)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"users", "sessions", "login_failures", "identity_views"} <= tables
    conn.close()
    store = Store(tmp_path / "old.db")  # a schema-9 store opened by this qualpipe is upgraded to 10
    assert store.query("PRAGMA user_version")[0][0] == 10
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
