"""What the coordinator sees and decides: the check band, Danish reasons, dismissing and adding concerns."""

from __future__ import annotations

import email
import json

from typer.testing import CliRunner

from conftest import CORPUS, new_corpus_project
from qualpipe.cli import app
from qualpipe.flagging import render
from qualpipe.flagging.alerts import store_flags
from qualpipe.flagging.flagger import Flag


def _project(tmp_path):
    project = new_corpus_project(tmp_path / "p")
    project.ingest([CORPUS / "logbooks"], "logbook")
    project.flag_new_entries()
    return project


def _entry(project, entry_id: str):
    return project.store.query(
        "SELECT id, case_id, date, text FROM documents WHERE doc_key = ?", (f"logbook:{entry_id}",)
    )[0]


def test_an_unsure_entry_is_shown_under_tjek_disse_in_every_format_and_does_not_make_its_case_urgent(tmp_path):
    project = _project(tmp_path)
    entry = _entry(project, "M01-05")  # a calm entry of week 2024-W06
    text = entry["text"]
    store_flags(
        project.store,
        [entry],
        [
            [
                Flag(
                    "selvskade",
                    "urgent",
                    text,
                    0,
                    len(text),
                    "model 0.21 (usikker)",
                    0.21,
                    band="check",
                    reason="Usikker – læs selv indlægget: tegn på selvskade",
                )
            ]
        ],
    )
    digest = project.weekly_digest("2024-W06")
    assert [a.id for a in digest.check if a.case_id == "M01"] and all(a.band == "check" for a in digest.check)
    assert "M01" not in [c.case_id for c in digest.cases] and "M01" not in digest.quiet_cases
    markdown = render.to_markdown(digest)
    assert "## Tjek disse" in markdown and "Usikker – læs selv indlægget" in markdown
    html = render.to_html(digest)
    assert "Tjek disse" in html
    plain = email.message_from_bytes(render.to_eml(digest, to="k@example.org", sender="q@example.org"))
    assert "Tjek disse" in plain.get_payload()[0].get_payload(decode=True).decode("utf-8")
    assert {a["band"] for a in json.loads(render.to_json(digest))["check"]} == {"check"}
    project.close()


def test_reasons_in_the_digest_are_danish_sentences_not_patterns(tmp_path):
    project = _project(tmp_path)
    digest = project.weekly_digest("2024-W06")
    reasons = [a.reason for c in digest.cases for a in c.alerts]
    assert reasons and all(reasons)
    markdown = render.to_markdown(digest)
    assert "pattern '" not in markdown and "near example" not in markdown and "model 0." not in markdown
    urgent = next(a for c in digest.cases for a in c.alerts if a.category == "vold_overgreb")
    assert urgent.reason in {
        "Barnet fortæller om slag derhjemme",
        "Mærker på kroppen uden forklaring",
        "Barnet er bange for straf derhjemme",
        "Mulig vold eller overgreb mod barnet",
    }
    project.close()


def test_dismissing_a_false_alarm_and_adding_a_missed_concern_are_recorded_and_shown_as_handled(tmp_path):
    project = _project(tmp_path)
    digest = project.weekly_digest("2024-W06")
    target = digest.cases[-1].alerts[0]
    runner = CliRunner()
    base = ["--project", str(project.root), "alerts"]
    refused = runner.invoke(app, [*base, "dismiss", str(target.id), "--by", "Lene"])
    assert refused.exit_code != 0  # a dismissal needs a reason
    result = runner.invoke(app, [*base, "dismiss", str(target.id), "--reason", "leg, ikke bekymring", "--by", "Lene"])
    assert result.exit_code == 0, result.output
    added = runner.invoke(
        app,
        [
            *base,
            "add",
            "M01-05",
            "--category",
            "mistrivsel",
            "--severity",
            "watch",
            "--note",
            "talt med mor",
            "--by",
            "Lene",
        ],
    )
    assert added.exit_code == 0, added.output
    unknown = runner.invoke(
        app, [*base, "add", "M99-01", "--category", "mistrivsel", "--severity", "watch", "--by", "Lene"]
    )
    assert unknown.exit_code == 2 and "M99-01" in unknown.output

    labels = project.store.query("SELECT category, present, labelled_by FROM concern_labels ORDER BY present")
    assert [(r["category"], r["present"], r["labelled_by"]) for r in labels] == [
        (target.category, 0, "Lene"),
        ("mistrivsel", 1, "Lene"),
    ]
    after = project.weekly_digest("2024-W06")
    assert target.id not in [a.id for c in after.cases for a in c.alerts]
    handled = {a.id: a for a in after.handled}
    assert handled[target.id].handled_as == "dismissed" and handled[target.id].note == "leg, ikke bekymring"
    markdown = render.to_markdown(after)
    assert "## Håndteret" in markdown and "afvist som falsk alarm af Lene" in markdown
    assert "tilføjet af koordinator af Lene" in markdown and "talt med mor" in markdown
    project.close()


def test_an_unsure_urgent_entry_stays_in_the_check_band_until_someone_handles_it(tmp_path):
    project = _project(tmp_path)
    entry = _entry(project, "M01-05")
    text = entry["text"]
    store_flags(
        project.store,
        [entry],
        [[Flag("vold_overgreb", "urgent", text, 0, len(text), "model 0.31 (usikker)", 0.31, band="check")]],
    )
    first = [a.id for a in project.weekly_digest("2024-W06").check if a.case_id == "M01"]
    later = project.weekly_digest("2024-W07")
    carried = [a for a in later.check if a.id in first]
    assert carried and all(a.still_open for a in carried)
    assert "stadig ikke håndteret" in render.to_markdown(later)
    runner = CliRunner()
    done = runner.invoke(
        app,
        [
            "--project",
            str(project.root),
            "alerts",
            "ack",
            *map(str, first),
            "--by",
            "Lene",
            "--note",
            "læst, ingen bekymring",
        ],
    )
    assert done.exit_code == 0, done.output
    assert not [a for a in project.weekly_digest("2024-W08").check if a.id in first]
    project.close()
