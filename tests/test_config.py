"""qualpipe.toml: defaults, store location, cleaning switches, and clear errors for bad settings."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

import pytest

from conftest import CORPUS
from qualpipe.errors import UserError
from qualpipe.project import Project


def write_config(root, text):
    root.mkdir(parents=True, exist_ok=True)
    (root / "qualpipe.toml").write_text(text, encoding="utf-8")


def test_store_may_live_elsewhere_through_a_sqlite_url(tmp_path):
    target = tmp_path / "secure" / "evaluation.db"
    write_config(tmp_path / "p", f'[store]\npath = "sqlite:///{target}"\n')
    with Project.init(tmp_path / "p") as project:
        project.ingest([CORPUS / "logbooks" / "logbog_2024_m15-m20.jsonl"], "logbook")
    assert target.is_file() and not (tmp_path / "p" / "qualpipe.db").exists()
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_filler_removal_is_a_project_switch(tmp_path):
    source = tmp_path / "M09_2024-01-01_x.txt"
    source.write_text("Mor: Øh, hun var glad. Hmm, meget glad.\nI: Okay.\n", encoding="utf-8")
    write_config(tmp_path / "plain", "")
    write_config(tmp_path / "clean", "[cleaning]\nremove_fillers = true\n")
    texts = {}
    for name in ("plain", "clean"):
        with Project.init(tmp_path / name) as project:
            project.ingest([source], "interview")
            texts[name] = [(s.text, s.norm_text) for s in project.segments()]
    assert texts["plain"][0] == ("Øh, hun var glad.", "Øh, hun var glad.")
    # The segment's span starts where the cleaned sentence does: the filler is outside it.
    assert texts["clean"][0] == ("hun var glad.", "hun var glad.")
    assert texts["clean"][1] == ("meget glad.", "meget glad.")


def test_a_configured_but_missing_spacy_pipeline_says_how_to_install_it(tmp_path):
    write_config(tmp_path / "p", '[nlp]\npipeline = "da_core_news_sm_not_installed"\n')
    with Project.init(tmp_path / "p") as project, pytest.raises(UserError, match="not installed; install it"):
        project.ingest([CORPUS / "logbooks"], "logbook")


@pytest.mark.parametrize(
    "text, message",
    [
        ("[logbook.columns]\nbody = 'x'\n", "unknown field"),
        ("[speakers]\nR = 'mother'\n", "unknown role"),
        ("[ingest]\nfilename_pattern = '(?P<case'\n", "not a valid regular expression"),
        ("[store\n", "not valid TOML"),
        ("[flagging]\ncheck_fraction = 0\n", "check_fraction = 0; use a number above 0 and at most 1"),
        ("[flagging]\ncheck_fraction = 'half'\n", "check_fraction = 'half'"),
    ],
)
def test_bad_settings_are_one_line_errors_naming_the_file(tmp_path, text, message):
    write_config(tmp_path / "p", text)
    with pytest.raises(UserError, match=message) as raised:
        Project(tmp_path / "p")
    assert "qualpipe.toml" in str(raised.value) and "\n" not in str(raised.value)


def _run(args, tty: bool, cwd):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    command = [sys.executable, "-m", "qualpipe.cli", *args]
    if not tty:
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
        return done.stderr
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower, env=env, cwd=cwd)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_and_silence_when_piped(tmp_path):
    Project.init(tmp_path / "p").close()
    args = ["--project", str(tmp_path / "p"), "ingest", str(CORPUS / "logbooks"), "--kind", "logbook"]
    piped = _run(args, tty=False, cwd=tmp_path)
    assert "Ingesting" not in piped and "━" not in piped
    Project.init(tmp_path / "q").close()
    args[1] = str(tmp_path / "q")
    on_terminal = _run(args, tty=True, cwd=tmp_path)
    assert "Ingesting logbooks" in on_terminal
