"""A case under watch: after an urgent alert, the case's later entries are read more closely (case rule `watch`).

Real project stores, the shipped detector and its real weights: a quiet sign (a child nervous whenever his
phone beeps) that the detector alone scores below its check band reaches "Tjek disse" when it follows an urgent
alert of the same case within the rule's weeks, and not otherwise."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from conftest import new_corpus_project
from qualpipe.cli import app
from qualpipe.flagging import render
from qualpipe.flagging.lexicon import load_lexicon

DISCLOSURE = "Vi tegnede. Hun fortalte, at far slog hende med en bøjle i går, og viste mig mærkerne på armen."
QUIET_SIGN = "Vi spillede kort. Han kiggede hele tiden på sin telefon og blev nervøs, når den bippede."
CALM = "Vi gik en tur i skoven og fodrede ænder. Det var en god dag."
HEADER = "entry_id;case_id;date;author;text\n"
WATCH_REASON = "sagen har haft en akut bekymring inden for 8 uger"


def _write(path, rows):
    path.write_text(HEADER + "".join(";".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _check_band(project, week):
    digest = project.weekly_digest(week)
    return digest, {(a.case_id, a.category): a for a in digest.check}


def test_a_quiet_sign_after_an_urgent_alert_reaches_the_check_band_with_the_reason_and_not_elsewhere(tmp_path):
    project = new_corpus_project(tmp_path / "p")
    rule = load_lexicon().case_rules.watch
    assert (rule.within_days, rule.check_scale) == (56, 0.25)  # the packaged rule the reason's "8 uger" names
    first = _write(tmp_path / "uge10.csv", [
        ("W1-01", "W1", "04-03-2024", "Bo", DISCLOSURE),
        ("W2-01", "W2", "04-03-2024", "Bo", CALM),
    ])
    project.ingest([first], "logbook")
    project.flag_new_entries()  # the disclosure is stored as an urgent alert before the follow-ups arrive
    urgent = project.store.query("SELECT case_id, category, band FROM alerts WHERE case_id = 'W1'")
    assert ("W1", "vold_overgreb", "alert") in [tuple(r) for r in urgent]

    later = _write(tmp_path / "uge13.csv", [
        ("W1-02", "W1", "25-03-2024", "Bo", QUIET_SIGN),  # 3 weeks after the disclosure
        ("W2-02", "W2", "25-03-2024", "Bo", QUIET_SIGN),  # the same words in a case with no urgent history
    ])
    project.ingest([later], "logbook")
    digest, check = _check_band(project, "2024-W13")
    watched = check.get(("W1", "vold_overgreb"))
    assert watched is not None and watched.band == "check"
    assert watched.reason.startswith("Usikker – læs selv indlægget") and WATCH_REASON in watched.reason
    assert "telefon" in watched.evidence
    assert ("W2", "vold_overgreb") not in check  # the same words alone stay below the check band
    assert not any(a.case_id == "W2" for c in digest.cases for a in c.alerts)
    assert WATCH_REASON in render.to_markdown(digest)
    # a check flag is no alert: the case is listed for its still open disclosure of week 10 only
    assert [a.entry_date for c in digest.cases if c.case_id == "W1" for a in c.alerts] == ["2024-03-04"]

    too_late = _write(tmp_path / "uge24.csv", [("W1-03", "W1", "10-06-2024", "Bo", QUIET_SIGN)])  # 14 weeks on
    project.ingest([too_late], "logbook")
    digest = project.weekly_digest("2024-W24")
    assert [a.entry_date for a in digest.check if a.case_id == "W1"] == ["2024-03-25"]  # only the open one of W13
    project.close()


def test_a_dismissed_urgent_alert_puts_no_case_under_watch_and_a_coordinators_added_one_does(tmp_path):
    project = new_corpus_project(tmp_path / "p")
    project.ingest([_write(tmp_path / "uge10.csv", [
        ("D1-01", "D1", "04-03-2024", "Bo", DISCLOSURE),
        ("A1-01", "A1", "04-03-2024", "Bo", CALM),
    ])], "logbook")
    project.flag_new_entries()
    alert = project.store.query("SELECT id FROM alerts WHERE case_id = 'D1' AND category = 'vold_overgreb'")[0][0]
    runner, base = CliRunner(), ["--project", str(project.root), "alerts"]
    result = runner.invoke(app, [*base, "dismiss", str(alert), "--reason", "leg med bøjler", "--by", "Lene"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, [*base, "add", "A1-01", "--category", "vold_overgreb", "--severity", "urgent",
                                 "--note", "mor ringede", "--by", "Lene"])
    assert result.exit_code == 0, result.output

    project.ingest([_write(tmp_path / "uge12.csv", [
        ("D1-02", "D1", "18-03-2024", "Bo", QUIET_SIGN),
        ("A1-02", "A1", "18-03-2024", "Bo", QUIET_SIGN),
    ])], "logbook")
    _, check = _check_band(project, "2024-W12")
    assert ("D1", "vold_overgreb") not in check  # the coordinator said the alert was a false alarm
    assert ("A1", "vold_overgreb") in check  # the coordinator's own urgent concern counts as an urgent alert
    project.close()


def test_the_batch_contract_reads_a_case_under_watch_within_the_batch_in_date_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = [
        {"id": "after", "case_id": "K1", "date": "2024-03-20", "text": QUIET_SIGN},
        {"id": "disclosure", "case_id": "K1", "date": "2024-03-06", "text": DISCLOSURE},
        {"id": "before", "case_id": "K1", "date": "2024-02-28", "text": QUIET_SIGN},  # before it: not watched
        {"id": "other case", "case_id": "K2", "date": "2024-03-20", "text": QUIET_SIGN},
        {"id": "no case", "text": QUIET_SIGN},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    result = CliRunner().invoke(app, ["flag", "--input", str(source), "--output", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    out = {o["id"]: o for o in map(json.loads, (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines())}
    assert [c["category"] for c in out["disclosure"]["concerns"]] == ["vold_overgreb"]
    assert [c["category"] for c in out["after"]["check"]] == ["vold_overgreb"] and not out["after"]["concerns"]
    assert out["after"]["check"][0]["evidence"] in QUIET_SIGN
    for quiet in ("before", "other case", "no case"):
        assert out[quiet]["check"] == [] and out[quiet]["concerns"] == [], quiet
