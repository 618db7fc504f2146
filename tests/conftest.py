"""Shared fixtures: real project folders with real SQLite stores, the shipped sample corpus."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
# urllib3 (imported by spaCy's helpers) creates an unconnected socket at import to probe IPv6
# support; importing it here, before pytest-socket blocks sockets, keeps that probe from
# looking like a network attempt. Every test then runs with sockets blocked.
import urllib3  # noqa: F401
from typer.testing import CliRunner

from qualpipe.cli import app
from qualpipe.project import Project

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Projects made by `init` keep their pseudonym key outside the project (~/.local/share/qualpipe/keys):
# the tests' keys go to a temporary folder instead of the home directory.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="qualpipe-test-data-")

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpora"
BROKEN = Path(__file__).resolve().parent / "data" / "broken"
# A first digest of the sample logbooks' week 2024-W08 shows several check-band alerts with different scores
# (the earlier weeks' ones too, as no digest was built before it): which week does depends on the shipped model.
CHECK_WEEK = "2024-W08"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    with Project.init(tmp_path / "project") as p:
        yield p


def new_corpus_project(root: Path) -> Project:
    """A new project at `root` (created) configured as the sample corpus ships it (file-name pattern,
    speaker map)."""
    root.mkdir()
    shutil.copyfile(CORPUS / "qualpipe.toml", root / "qualpipe.toml")
    return Project.init(root)


@pytest.fixture
def corpus_project(tmp_path: Path) -> Project:
    """A project configured as the sample corpus ships it."""
    with new_corpus_project(tmp_path / "corpus-project") as p:
        yield p


@pytest.fixture
def cli(tmp_path: Path):
    """Run the CLI against a project folder in tmp_path; returns (invoke, project_dir)."""
    runner = CliRunner()
    project_dir = tmp_path / "cli-project"

    def invoke(*args: str):
        return runner.invoke(app, ["--project", str(project_dir), *args], catch_exceptions=False)

    return invoke, project_dir


@pytest.fixture(scope="session")
def coded_corpus(tmp_path_factory) -> Project:
    """The whole sample corpus ingested and coded zero-shot once for the session (real model, real store)."""
    project = new_corpus_project(tmp_path_factory.mktemp("coded") / "project")
    project.ingest([CORPUS / "interviews"], "interview")
    project.ingest([CORPUS / "logbooks"], "logbook")
    project.code()
    yield project
    project.close()


@pytest.fixture(scope="session")
def topic_corpus(coded_corpus, tmp_path_factory) -> Project:
    """A copy of the coded corpus, flagged, with one topic run fitted (default parameters): for topics and reports."""
    root = tmp_path_factory.mktemp("topics") / "project"
    shutil.copytree(coded_corpus.root, root)
    project = Project(root)
    project.flag_new_entries()
    project.fit_topics()
    yield project
    project.close()


@pytest.fixture(scope="session")
def flagger():
    """The real default concern flagger: the shipped learned detector on e5, the Danish lexicon and context rules."""
    from qualpipe.engines import Engines

    return Engines().flagger()


def concerns_of(flagger, text: str) -> dict[str, str]:
    """{category: severity} for one entry."""
    return {f.category: f.severity for f in flagger.flag_entries([text])[0]}
