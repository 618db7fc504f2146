"""Schema migrations: a store made by any earlier qualpipe opens, upgrades in place and keeps its data."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from qualpipe.errors import UserError
from qualpipe.migrations import MIGRATIONS
from qualpipe.privacy.outputs import move_key_out_of_store
from qualpipe.store import SCHEMA_VERSION, Store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stores"
OLD_VERSIONS = range(1, SCHEMA_VERSION)

# Tables each fixture has rows in, by the version that added them (tests/fixtures/stores/make_fixtures.py
# fills them), so that an upgrade that loses rows cannot pass by comparing empty with empty.
FILLED_SINCE = {"cases": 1, "files": 1, "documents": 1, "turns": 1, "segments": 1, "embeddings": 2, "codings": 2,
                "reviews": 2, "alerts": 3, "flagged_documents": 3, "digests": 3, "topic_runs": 4, "topics": 4,
                "segment_topics": 4, "case_pseudonyms": 6, "concern_labels": 8, "digest_items": 8, "ingest_failures": 8,
                "pseudonymised_documents": 10, "users": 11, "sessions": 11, "login_failures": 11, "identity_views": 11}
# Tables a later version no longer has (the case pseudonyms moved to the key file after 3530467, version 9).
FILLED_UNTIL = {"case_pseudonyms": 9}


def copy_of(version: int, tmp_path: Path) -> Path:
    path = tmp_path / f"v{version}" / "qualpipe.db"
    path.parent.mkdir()
    shutil.copyfile(FIXTURES / f"v{version}.sqlite", path)
    return path


def schema_of(conn: sqlite3.Connection) -> dict:
    """What an upgraded store must share with a new one: its tables, views and indexes, each table's and
    view's columns (name, type, NOT NULL, default, key), indexes (columns, unique, partial) and foreign keys."""
    schema = {}
    for kind, name in conn.execute(
            "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view', 'index', 'trigger') "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"):
        schema[name] = {"type": kind}
        if kind in ("table", "view"):
            schema[name]["columns"] = [tuple(r) for r in conn.execute(f"PRAGMA table_info({name})")]
        if kind == "table":
            schema[name]["indexes"] = sorted(
                (tuple(r)[2:], [c[2] for c in conn.execute(f"PRAGMA index_info('{r[1]}')")])
                for r in conn.execute(f"PRAGMA index_list({name})"))
            foreign_keys = conn.execute(f"PRAGMA foreign_key_list({name})")
            schema[name]["foreign_keys"] = sorted(tuple(r)[2:] for r in foreign_keys)
    return schema


def tables_of(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def contents(conn: sqlite3.Connection, columns_of: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """Every row of every table, in the columns given for it (a table's columns before the upgrade)."""
    return {table: [tuple(r) for r in conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid")]
            for table, columns in columns_of.items()}


def fresh_schema(tmp_path: Path) -> dict:
    store = Store(tmp_path / "fresh" / "qualpipe.db")
    try:
        return schema_of(store.conn)
    finally:
        store.close()


@pytest.mark.parametrize("version", OLD_VERSIONS)
def test_a_store_of_every_earlier_version_upgrades_to_the_current_schema_with_its_data_intact(version, tmp_path):
    path = copy_of(version, tmp_path)
    with sqlite3.connect(path) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == version
        columns_of = {t: [r[1] for r in old.execute(f"PRAGMA table_info({t})")] for t in tables_of(old)}
        before = contents(old, columns_of)
    old.close()
    filled = {t for t, since in FILLED_SINCE.items() if since <= version <= FILLED_UNTIL.get(t, SCHEMA_VERSION)}
    assert filled <= {t for t, rows in before.items() if rows}

    store = Store(path)
    try:
        conn = store.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        # Data intact: every row of every table the old store had, column for column, texts and offsets too.
        kept = {t: c for t, c in columns_of.items() if t != "case_pseudonyms"}
        assert contents(conn, kept) == {t: rows for t, rows in before.items() if t in kept}
        segments = conn.execute(
            "SELECT d.text, s.start, s.end, s.text FROM segments s JOIN documents d ON d.id = s.document_id").fetchall()
        assert len(segments) > 50 and all(doc[start:end] == text for doc, start, end, text in segments)
        if "alerts" in columns_of and "band" not in columns_of["alerts"]:  # alerts from before 8 get the defaults
            assert {tuple(r) for r in conn.execute("SELECT band, reason, undated FROM alerts")} == {("alert", "", 0)}
        if "alerts" in columns_of and "score" not in columns_of["alerts"]:  # stored before 12: no score, not made up
            assert conn.execute("SELECT COUNT(*) FROM alerts WHERE score IS NOT NULL").fetchone()[0] == 0

        # The case pseudonyms leave the store for the key file when the project opens it (they need its path).
        key = tmp_path / "keys" / "key.json"
        moved = move_key_out_of_store(store, key)
        if "case_pseudonyms" in columns_of:
            assert moved == len(before["case_pseudonyms"]) > 0
            labels = json.loads(key.read_text(encoding="utf-8"))["labels"]
            assert {f"case:{r[0]}" for r in before["case_pseudonyms"]} <= set(labels)

        assert schema_of(conn) == fresh_schema(tmp_path)
    finally:
        store.close()


@pytest.mark.parametrize("version", OLD_VERSIONS)
def test_opening_an_upgraded_store_again_changes_nothing(version, tmp_path):
    path = copy_of(version, tmp_path)
    Store(path).close()

    def state():
        with sqlite3.connect(path) as conn:
            found = (conn.execute("PRAGMA user_version").fetchone()[0],
                     conn.execute("PRAGMA schema_version").fetchone()[0],  # changes with any CREATE or ALTER
                     conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall(),
                     contents(conn, {t: ["*"] for t in tables_of(conn)}))
        conn.close()
        return found

    first = state()
    Store(path).close()
    assert state() == first


def test_an_upgrade_interrupted_by_a_failing_step_keeps_the_steps_before_it_and_resumes(tmp_path):
    path = copy_of(5, tmp_path)
    with sqlite3.connect(path) as conn:  # step 8 will fail half-way, at its third ALTER of digests
        conn.execute("ALTER TABLE digests ADD COLUMN sent_to TEXT")
    conn.close()
    with pytest.raises(sqlite3.OperationalError, match="duplicate column name: sent_to"):
        Store(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 7
        assert "case_pseudonyms" in tables_of(conn) and "concern_labels" not in tables_of(conn)
        assert "band" not in [r[1] for r in conn.execute("PRAGMA table_info(alerts)")]  # step 8 left nothing
        conn.execute("ALTER TABLE digests DROP COLUMN sent_to")
    conn.close()

    store = Store(path)
    try:
        move_key_out_of_store(store, tmp_path / "keys" / "key.json")
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert schema_of(store.conn) == fresh_schema(tmp_path)
    finally:
        store.close()


def test_a_later_version_9_store_that_has_the_pseudonymised_text_keeps_it_through_version_10(tmp_path):
    path = tmp_path / "late9" / "qualpipe.db"
    store = Store(path)
    with store.transaction() as conn:
        conn.execute("INSERT INTO cases (case_id, first_seen) VALUES ('K1', '2024-01-01')")
        conn.execute("INSERT INTO documents (id, doc_key, version, kind, case_id, source_path, source_format, "
                     "content_hash, text, ingested_at) VALUES (1, 'k', 1, 'logbook', 'K1', 'x', 'jsonl', 'h', "
                     "'Sara bagte.', '2024-01-01')")
        conn.execute("INSERT INTO pseudonymised_documents (document_id, text) VALUES (1, '[NAVN-1] bagte.')")
        conn.execute("ALTER TABLE alerts DROP COLUMN score")  # added by version 12
        conn.execute("PRAGMA user_version = 9")
    store.close()
    store = Store(path)
    try:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        shown = [tuple(r) for r in store.query("SELECT id, text FROM documents_pseudonymised")]
        assert shown == [(1, "[NAVN-1] bagte.")]
    finally:
        store.close()


def test_the_schema_comparison_notices_a_forgotten_column(tmp_path):
    path = tmp_path / "forgot" / "qualpipe.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE digests DROP COLUMN sent_to")
        assert schema_of(conn) != fresh_schema(tmp_path)
    conn.close()


def test_a_store_made_by_a_newer_qualpipe_is_refused_in_one_line_naming_the_file(tmp_path):
    path = tmp_path / "newer" / "qualpipe.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        before = conn.execute("SELECT sql FROM sqlite_master").fetchall()
    conn.close()
    with pytest.raises(UserError) as refused:
        Store(path)
    message = str(refused.value)
    assert "\n" not in message and str(path) in message and "upgrade qualpipe" in message
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert conn.execute("SELECT sql FROM sqlite_master").fetchall() == before
    conn.close()


def test_every_version_after_the_first_has_one_named_migration_up_to_the_current_one():
    assert list(MIGRATIONS) == list(range(2, SCHEMA_VERSION + 1))
    assert all(step.__name__.startswith(f"m{version:03d}_") for version, step in MIGRATIONS.items())


def test_a_new_store_keeps_the_explanation_of_each_table_and_view_inside_its_stored_schema(tmp_path):
    store = Store(tmp_path / "new" / "qualpipe.db")
    try:
        stored = {
            r["name"]: r["sql"]
            for r in store.query(
                "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
            )
        }
    finally:
        store.close()
    assert len(stored) > 20
    assert [name for name, sql in stored.items() if "\n    -- " not in sql] == []
    assert "-- Sentences. documents.text[start:end] == text" in stored["segments"]
    assert "-- 'ack' (handled), 'dismissed' (a false alarm)" in stored["alerts"]
