"""The weekly digest from the store: ordering, idempotence, acknowledgement, late entries, formats."""

from __future__ import annotations

import email
import json
import re
import sqlite3
from dataclasses import replace

from typer.testing import CliRunner

from conftest import BROKEN, CHECK_WEEK, CORPUS, new_corpus_project
from qualpipe.cli import app
from qualpipe.flagging import render
from qualpipe.flagging.alerts import store_flags
from qualpipe.project import Project


def logbook_project(tmp_path) -> Project:
    project = new_corpus_project(tmp_path / "p")
    project.ingest([CORPUS / "logbooks"], "logbook")
    return project


def test_digest_orders_cases_by_severity_with_evidence_and_notify_reminder(tmp_path):
    project = logbook_project(tmp_path)
    digest = project.weekly_digest("2024-W06")
    order = [c.severity for c in digest.cases]
    assert order == sorted(order, key=["urgent", "high", "watch"].index)
    assert digest.cases[0].severity == "urgent" and digest.notify_reminder
    m03 = next(c for c in digest.cases if c.case_id == "M03")
    assert m03.severity == "high" and m03.cancellations_8_weeks == 2 and m03.cancellation_trend == "rising"
    for case in digest.cases:
        for alert in case.alerts:
            assert alert.text[alert.start:alert.end] == alert.evidence
    assert "M01" in digest.quiet_cases
    markdown = render.to_markdown(digest)
    assert (
        "Underretningspligt" in markdown
        and "**[NAVN-1] fortalte, at stedfar slår hende, når han er fuld.**" in markdown
    )
    assert "Sara" not in markdown  # pseudonymised by default
    shown = render.to_markdown(project.weekly_digest("2024-W06", show_identities=True))
    assert "**Sara fortalte, at stedfar slår hende, når han er fuld.**" in shown
    project.close()


def test_rerunning_a_week_is_idempotent_and_acknowledged_alerts_leave(tmp_path):
    project = logbook_project(tmp_path)
    first = render.to_json(project.weekly_digest("2024-W06"))
    second = render.to_json(project.weekly_digest("2024-W06"))
    assert first == second
    alerts_before = project.store.query("SELECT COUNT(*) FROM alerts")[0][0]
    target = json.loads(first)["cases"][0]["alerts"][0]["id"]
    result = CliRunner().invoke(
        app,
        [
            "--project",
            str(project.root),
            "alerts",
            "ack",
            str(target),
            "--by",
            "Lene",
            "--note",
            "ringet til sagsbehandler",
        ],
    )
    assert result.exit_code == 0, result.output
    after = project.weekly_digest("2024-W06")
    assert target not in [a.id for c in after.cases for a in c.alerts] and after.acknowledged_hidden == 1
    assert project.store.query("SELECT COUNT(*) FROM alerts")[0][0] == alerts_before
    assert project.store.query("SELECT acked_by FROM alerts WHERE id = ?", (target,))[0][0] == "Lene"
    project.close()


def test_an_entry_ingested_late_appears_once_in_the_next_digest_marked_late(tmp_path):
    project = logbook_project(tmp_path)
    project.weekly_digest("2024-W06")
    late = tmp_path / "late.jsonl"
    late.write_text(
        json.dumps(
            {
                "entry_id": "M04-late",
                "case_id": "M04",
                "date": "2024-02-06",
                "author": "Karsten",
                "text": "Sofie fortalte, at hun ikke har lyst til at leve mere.",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    project.ingest([late], "logbook")
    week7 = project.weekly_digest("2024-W07")
    shown = lambda digest: [*(a for c in digest.cases for a in c.alerts), *digest.check]  # noqa: E731
    lates = [a for a in shown(week7) if a.late]  # an alert, or in the check band: shown either way
    assert [(a.case_id, a.category, a.severity) for a in lates] == [("M04", "selvskade", "urgent")]
    week8 = project.weekly_digest("2024-W08")
    assert not [a for a in shown(week8) if a.late]
    again = project.weekly_digest("2024-W07")
    assert [a.id for a in shown(again) if a.late] == [lates[0].id]
    project.close()


def test_flagging_is_incremental(tmp_path):
    project = logbook_project(tmp_path)
    assert project.store.has_unflagged_entries()  # what starts the models loading early in the weekly run
    first = project.flag_new_entries()
    assert first.entries == 180 and first.alerts > 30
    assert not project.store.has_unflagged_entries()
    assert project.flag_new_entries().entries == 0
    project.close()


def test_a_digest_with_nothing_new_to_flag_does_not_load_the_models(tmp_path):
    from qualpipe.flagging.alerts import flag_new_entries

    project = logbook_project(tmp_path)
    project.flag_new_entries()

    def models_needed():
        raise AssertionError("the flagger was built with nothing to flag")

    assert flag_new_entries(project.store, models_needed).entries == 0
    project.close()


def test_every_format_is_written(tmp_path):
    project = logbook_project(tmp_path)
    runner = CliRunner()
    base = ["--project", str(project.root), "alerts", "--week", "2024-W06"]
    for fmt in ("markdown", "html", "json", "eml"):
        out = tmp_path / f"digest.{fmt}"
        result = runner.invoke(app, [*base, "--format", fmt, "--output", str(out)])
        assert result.exit_code == 0, result.output
    html = (tmp_path / "digest.html").read_text(encoding="utf-8")
    assert (
        html.startswith("<!DOCTYPE html>")
        and "<mark>" in html
        and "<style>" in html
        and "http" not in html.lower().replace("http-equiv", "")
    )
    message = email.message_from_bytes((tmp_path / "digest.eml").read_bytes())
    assert "HASTER" in message["Subject"] and message.is_multipart()
    assert [p.get_content_type() for p in message.walk()][1:] == ["text/plain", "text/html"]
    assert json.loads((tmp_path / "digest.json").read_text(encoding="utf-8"))["week"] == "2024-W06"
    terminal = runner.invoke(app, base)
    assert terminal.exit_code == 0 and "AKUT" in terminal.output and "M11" in terminal.output
    bad = runner.invoke(app, ["--project", str(project.root), "alerts", "--week", "2024-10"])
    assert bad.exit_code == 2 and "ISO week" in bad.output
    project.close()


def test_the_weekly_run_in_one_command_matches_ingest_then_alerts_and_names_a_broken_file(tmp_path):
    runner = CliRunner()
    roots = [tmp_path / "one", tmp_path / "two"]
    for root in roots:
        new_corpus_project(root).close()
    broken = BROKEN / "missing_text_column.csv"
    one = roots[0] / "digest.json"
    result = runner.invoke(
        app,
        [
            "--project",
            str(roots[0]),
            "alerts",
            "--ingest",
            str(CORPUS / "logbooks"),
            "--ingest",
            str(broken),
            "--week",
            "2024-W06",
            "-f",
            "json",
            "-o",
            str(one),
        ],
    )
    # The broken file is named and the run ends in an error, but the digest of everything else is written,
    # and it opens with the failure.
    assert result.exit_code == 1 and "missing_text_column.csv" in result.output
    first = json.loads(one.read_text(encoding="utf-8"))
    assert [name for name, _ in first["failures"]] == ["missing_text_column.csv"]
    two = roots[1] / "digest.json"
    assert (
        runner.invoke(
            app, ["--project", str(roots[1]), "ingest", str(CORPUS / "logbooks"), "--kind", "logbook"]
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            app, ["--project", str(roots[1]), "alerts", "--week", "2024-W06", "-f", "json", "-o", str(two)]
        ).exit_code
        == 0
    )
    assert {**first, "failures": []} == json.loads(two.read_text(encoding="utf-8"))
    # Running the same weekly command again stores nothing twice and gives the same digest; the file that
    # failed is still named (it was not fixed), so the run still ends in an error.
    with Project(roots[0]) as project:
        before = [project.store.query(f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("documents", "segments", "alerts")]
    again = runner.invoke(
        app,
        [
            "--project",
            str(roots[0]),
            "alerts",
            "--ingest",
            str(CORPUS / "logbooks"),
            "--week",
            "2024-W06",
            "-f",
            "json",
            "-o",
            str(one),
        ],
    )
    assert again.exit_code == 1 and json.loads(one.read_text(encoding="utf-8")) == first
    with Project(roots[0]) as project:
        assert [
            project.store.query(f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("documents", "segments", "alerts")
        ] == before


def check_band_ids(text: str, start: str, end: str) -> list[int]:
    """The alert ids of a digest's check band, in the order the coordinator reads them."""
    section = text.split(start, 1)[1].split(end, 1)[0]
    return [int(i) for i in re.findall(r"#(\d+)", section)]


def stored_scores(project) -> dict[int, float | None]:
    return {r[0]: r[1] for r in project.store.query("SELECT id, score FROM alerts WHERE band = 'check'")}


def test_the_check_band_lists_the_likeliest_concern_first_in_every_format(tmp_path):
    project = logbook_project(tmp_path)
    digest = project.weekly_digest(CHECK_WEEK)
    scores = stored_scores(project)
    shown = [a.id for a in digest.check]
    assert len(shown) >= 4 and len({scores[i] for i in shown}) >= 3 and None not in {scores[i] for i in shown}
    assert [scores[i] for i in shown] == sorted((scores[i] for i in shown), reverse=True)

    markdown = render.to_markdown(digest)
    assert check_band_ids(markdown, "## Tjek disse\n", "\n## ") == shown
    assert "De mest sandsynlige står øverst." in markdown
    message = email.message_from_bytes(render.to_eml(digest, to="k@example.org", sender="q@example.org"))
    text_part, html_part = (p.get_payload(decode=True).decode("utf-8") for p in message.get_payload())
    assert check_band_ids(text_part, "\nTjek disse\n", "\nHåndteret\n") == shown
    assert check_band_ids(html_part, "<h2>Tjek disse</h2>", "</section>") == shown
    terminal = CliRunner().invoke(app, ["--project", str(project.root), "alerts", "--week", CHECK_WEEK])
    assert terminal.exit_code == 0, terminal.output
    assert check_band_ids(terminal.output, "Tjek disse – ", "Håndteret:") == shown  # the rebuilt week, same order
    # The score is no calibrated probability: no format shows it.
    section = markdown.split("## Tjek disse", 1)[1]
    assert not [s for s in scores.values() if s is not None and f"{s:.2f}" in section.replace(",", ".")]
    assert "score" not in render.to_json(digest)
    project.close()


def test_check_band_alerts_stored_before_the_upgrade_come_after_the_scored_ones(tmp_path):
    root = tmp_path / "p"
    with new_corpus_project(root) as project:  # cases M01-M08 flagged before the upgrade
        project.ingest([CORPUS / "logbooks" / "logbog_2024_m01-m08.csv"], "logbook")
        project.flag_new_entries()
        store_path = project.config.store_path
    with sqlite3.connect(store_path) as conn:  # what schema 11 had: alerts without a score
        conn.executescript("ALTER TABLE alerts DROP COLUMN score; PRAGMA user_version = 11;")
    conn.close()
    with Project(root) as project:  # upgraded on opening; the other cases' entries are flagged with scores
        older = {r[0] for r in project.store.query("SELECT id FROM alerts WHERE band = 'check'")}
        project.ingest([CORPUS / "logbooks"], "logbook")
        digest = project.weekly_digest(CHECK_WEEK)
        scores = stored_scores(project)
        shown = [a.id for a in digest.check]
        unscored = [i for i in shown if i in older]
        assert unscored and all(scores[i] is None for i in older)
        assert len(shown) - len(unscored) >= 3 and all(scores[i] is not None for i in shown if i not in older)
        assert shown[len(shown) - len(unscored):] == unscored  # last, in case and date order among themselves
        by_case_and_date = {a.id: (a.case_id, a.entry_date, a.id) for a in digest.check}
        assert unscored == sorted(unscored, key=by_case_and_date.get)
        scored = shown[: len(shown) - len(unscored)]
        assert [scores[i] for i in scored] == sorted((scores[i] for i in scored), reverse=True)
        assert check_band_ids(render.to_markdown(digest), "## Tjek disse\n", "\n## ") == shown


def test_flagging_the_same_entries_again_leaves_every_alert_as_it_was_its_score_included(tmp_path):
    project = logbook_project(tmp_path)
    project.flag_new_entries()

    def alerts_table():
        return [tuple(r) for r in project.store.query("SELECT * FROM alerts ORDER BY id")]

    before = alerts_table()
    assert any(row["score"] is not None for row in project.store.query("SELECT score FROM alerts"))
    assert project.flag_new_entries().entries == 0 and alerts_table() == before
    # A retried partition (dask), flagged again by the real flagger: nothing is added or changed, not even when
    # its scores differ in their last digits, as they may on another CPU.
    entries = project.store.query(
        "SELECT id, case_id, date, text, ingested_at FROM documents WHERE kind = 'logbook' AND superseded_at IS NULL "
        "AND case_id IN (SELECT case_id FROM alerts WHERE band = 'check') ORDER BY case_id, date, id"
    )
    flags = project.flagger().flag_entries([r["text"] for r in entries])
    assert store_flags(project.store, entries, flags).alerts == 0 and alerts_table() == before
    nudged = [[replace(f, score=None if f.score is None else f.score + 1e-5) for f in fs] for fs in flags]
    assert store_flags(project.store, entries, nudged).alerts == 0 and alerts_table() == before
    project.close()
