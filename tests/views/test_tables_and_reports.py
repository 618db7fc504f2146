"""Codes and topics linked back to cases, roles, kinds and weeks; figures; the HTML reports."""

from __future__ import annotations

import json
import re
import stat

import pytest
from typer.testing import CliRunner

from conftest import CORPUS
from qualpipe.cli import app
from qualpipe.errors import UserError


def _gold_names() -> set[str]:
    names = set()
    for line in (CORPUS / "gold" / "personal_data.jsonl").read_text(encoding="utf-8").splitlines():
        names.update(s["text"] for s in json.loads(line)["spans"] if s["kind"] == "PERSON")
    return names


def _invoke(project, *args):
    return CliRunner().invoke(app, ["--project", str(project.root), *args])


def test_codes_per_case_count_each_segment_once_with_its_share(topic_corpus):
    frame = topic_corpus.codes_by("case")
    # an interview case and one of its codes (whichever the coder gave most there): the table must count it right
    case, code = topic_corpus.store.query(
        "SELECT s.case_id, c.code FROM codings c JOIN current_segments s ON s.id = c.segment_id "
        "WHERE s.kind = 'interview' GROUP BY 1, 2 ORDER BY COUNT(*) DESC, 1, 2 LIMIT 1")[0]
    row = frame[(frame.group == case) & (frame.code == code)].iloc[0]
    expected = topic_corpus.store.query(
        "SELECT COUNT(DISTINCT c.segment_id) FROM codings c JOIN current_segments s ON s.id = c.segment_id "
        "WHERE s.case_id = ? AND c.code = ? AND s.role != 'interviewer'", (case, code))[0][0]
    total = topic_corpus.store.query(
        "SELECT COUNT(*) FROM current_segments WHERE case_id = ? AND role != 'interviewer'", (case,))[0][0]
    assert row.segments == expected > 0 and row.share == round(expected / total, 4)
    assert row.label == topic_corpus.codebook().get(code).label_da


def test_a_human_code_replaces_the_machines_codes_on_that_segment(topic_corpus, tmp_path):
    import shutil

    from qualpipe.project import Project
    from qualpipe.store import insert_codings, utc_now

    root = tmp_path / "copy"
    shutil.copytree(topic_corpus.root, root)
    with Project(root) as project:
        segment_id, code = project.store.query(
            "SELECT segment_id, code FROM codings WHERE source = 'machine' AND code = 'ressourcefokus' LIMIT 1")[0]
        machine = {r[0] for r in project.store.query(
            "SELECT code FROM codings WHERE source = 'machine' AND segment_id = ?", (segment_id,))}
        before = project.codes_by("role").set_index(["group", "code"]).segments
        with project.store.transaction() as conn:
            insert_codings(conn, [(segment_id, "frirum", None, "human", "evaluator", None, 0, 1, utc_now())])
        after = project.codes_by("role").set_index(["group", "code"]).segments
    change = after.sub(before, fill_value=0)
    change = change[change != 0].droplevel("group").to_dict()
    expected = {c: -1 for c in machine - {"frirum"}}
    if "frirum" not in machine:
        expected["frirum"] = 1
    assert change == expected and change["ressourcefokus"] == -1


def test_weeks_are_iso_weeks_and_topics_per_group_add_up_to_the_run(topic_corpus):
    run_id = topic_corpus.topic_runs.latest()
    weeks = topic_corpus.topics_by("week", run_id)
    assert all(re.fullmatch(r"\d{4}-W\d{2}", w) for w in weeks.group.unique())
    n_segments = topic_corpus.store.query("SELECT n_segments FROM topic_runs WHERE id = ?", (run_id,))[0][0]
    for by in ("case", "role", "kind", "week"):
        frame = topic_corpus.topics_by(by, run_id)
        assert frame.segments.sum() == n_segments
        assert frame.groupby("group").share.sum().round(3).eq(1.0).all()
    kinds = topic_corpus.topics_by("kind", run_id)
    assert set(kinds.group) == {"interview", "logbook"}


def test_an_unknown_grouping_is_a_user_error(topic_corpus):
    with pytest.raises(UserError, match="--by person: unknown grouping"):
        topic_corpus.codes_by("person")
    result = _invoke(topic_corpus, "table", "codes", "--by", "person")
    assert result.exit_code == 2 and result.output.count("\n") == 1


def test_table_commands_offer_csv_and_jsonl(topic_corpus):
    result = _invoke(topic_corpus, "table", "topics", "--by", "role", "--format", "jsonl")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == 0 and {"group", "topic", "label", "theme", "segments", "share"} <= set(rows[0])
    assert {r["group"] for r in rows} >= {"volunteer", "parent"}
    csv = _invoke(topic_corpus, "table", "codes", "--by", "kind", "--format", "csv").output.splitlines()
    assert csv[0].startswith("group,code,label,segments") and len(csv) > 5


def test_the_report_is_self_contained_pseudonymised_private_and_stable(topic_corpus, tmp_path):
    path = tmp_path / "report.html"
    assert _invoke(topic_corpus, "report", "--output", str(path)).exit_code == 0
    html = path.read_text(encoding="utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not re.search(r'(src|href)="(https?:)?//', html), "nothing is fetched when the report is opened"
    assert html.count('src="data:image/png;base64,') >= 3
    assert "Themes × cases" in html and "Topics over time" in html
    cases = {r[0] for r in topic_corpus.store.query("SELECT case_id FROM cases")}
    assert all(f'id="case-{c}"' in html for c in cases)
    assert not [n for n in _gold_names() if re.search(rf"\b{re.escape(n)}\b", html)]
    again = tmp_path / "again.html"
    _invoke(topic_corpus, "report", "--output", str(again))
    assert again.read_bytes() == path.read_bytes()

    shown = tmp_path / "shown.html"
    _invoke(topic_corpus, "report", "--output", str(shown), "--show-identities")
    assert [n for n in _gold_names() if n in shown.read_text(encoding="utf-8")]


def test_a_case_report_shows_its_concerns_cancellations_and_quotes(topic_corpus, tmp_path):
    case_id = topic_corpus.store.query(
        "SELECT case_id FROM alerts WHERE category = 'aflysning' GROUP BY case_id ORDER BY COUNT(*) DESC LIMIT 1")[0][0]
    cancellations = topic_corpus.store.query(
        "SELECT COUNT(*) FROM alerts WHERE case_id = ? AND category = 'aflysning'", (case_id,))[0][0]
    path = tmp_path / "case.html"
    result = _invoke(topic_corpus, "case", case_id, "--output", str(path))
    html = path.read_text(encoding="utf-8")
    assert result.exit_code == 0 and f"Case {case_id}" in html
    assert f"cancellations: {cancellations}" in html and "Concerns timeline" in html
    assert "Representative quotes" in html and "Themes over time" in html and "Topics over time" in html
    assert 'id="case-' in html and html.count("<section") == 1

    missing = _invoke(topic_corpus, "case", "NOPE", "--output", str(tmp_path / "x.html"))
    assert missing.exit_code == 2 and "case NOPE: no segments" in missing.output


def test_topic_figures_are_interactive_html_with_local_plotly_and_static_pngs(topic_corpus, tmp_path):
    result = _invoke(topic_corpus, "topics", "figures", "--output", str(tmp_path / "figs"))
    assert result.exit_code == 0, result.output
    files = {p.name for p in (tmp_path / "figs").iterdir()}
    assert {"topics-over-time.html", "topics-per-role.html", "topic-hierarchy.html", "topic-map.html",
            "plotly.min.js", "topic-words.png", "topics-over-time.png", "topics-per-role.png"} <= files
    html = (tmp_path / "figs" / "topics-over-time.html").read_text(encoding="utf-8")
    assert re.search(r'<script[^>]* src="plotly.min.js"', html) and "cdn.plot.ly" not in html
    assert (tmp_path / "figs" / "topic-words.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
