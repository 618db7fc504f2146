"""The web digest keeps the weekly run's promise: when new entries cannot be screened, the page says so."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from qualpipe.project import Project
from qualpipe.web.app import create_app
from tests.web.conftest import login


def test_when_screening_fails_the_digest_page_says_so_and_calls_no_case_calm(web_project, tmp_path):
    week = tmp_path / "week.jsonl"
    week.write_text(json.dumps({"entry_id": "K1-1", "case_id": "K1", "date": "2024-02-06",
                                "text": "Hun sagde at far slår hende, når han er vred."}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    with Project(web_project) as project:
        project.ingest([week], "logbook")  # stored, not screened yet
        project.concern_model_path().parent.mkdir(parents=True, exist_ok=True)
        project.concern_model_path().write_bytes(b"not a model")  # a damaged project model: screening fails
    with TestClient(create_app(web_project), base_url="http://testserver") as client:
        assert login(client, "Lene").status_code == 303
        page = client.get("/?week=2024-W06")
    assert page.status_code == 200
    assert "kunne ikke screenes" in page.text
    assert "Rolige sager" not in page.text
