"""The web app's fixtures: the sample corpus ingested, coded and flagged, with real accounts; a real server."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qualpipe.project import Project
from qualpipe.web.accounts import add_user

PASSWORDS = {"Lene": "lene-koordinator-1", "Mads": "mads-koordinator-2", "Eva": "eva-evaluator-12",
             "Ulla": "ulla-kun-M01-sager", "Anna": "anna-administrator"}


@pytest.fixture(scope="session")
def web_base(coded_corpus, tmp_path_factory) -> Path:
    """The coded sample corpus, flagged, with two coordinators, an evaluator, a coordinator limited to M01
    and an admin (allowed to show identities). Tests take copies: the web app changes the store."""
    root = tmp_path_factory.mktemp("web") / "project"
    shutil.copytree(coded_corpus.root, root)
    with Project(root) as project:
        project.flag_new_entries()
        store = project.store
        add_user(store, "Lene", PASSWORDS["Lene"], "coordinator")
        add_user(store, "Mads", PASSWORDS["Mads"], "coordinator")
        add_user(store, "Eva", PASSWORDS["Eva"], "evaluator")
        add_user(store, "Ulla", PASSWORDS["Ulla"], "coordinator", cases=("M01",))
        add_user(store, "Anna", PASSWORDS["Anna"], "admin", show_identities=True)
    return root


@pytest.fixture
def web_project(web_base, tmp_path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(web_base, root)
    return root


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def login(client, name: str, password: str | None = None):
    """Log in with the login form (its own CSRF cookie and field); returns the response to the POST."""
    form = client.get("/login")
    return client.post("/login", data={"name": name, "password": password or PASSWORDS[name],
                                       "csrf_token": csrf_of(form.text), "next": ""}, follow_redirects=False)
