"""The web digest keeps the weekly run's promises: when new entries cannot be screened, the page says so, and
the check band lists the likeliest concern first."""

from __future__ import annotations

import json
import re

from starlette.testclient import TestClient

from qualpipe.project import Project
from qualpipe.web.app import create_app
from tests.conftest import CHECK_WEEK
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


def test_the_check_band_on_the_digest_page_lists_the_likeliest_concern_first(web_project):
    with TestClient(create_app(web_project), base_url="http://testserver") as client:
        assert login(client, "Lene").status_code == 303
        page = client.get(f"/?week={CHECK_WEEK}")  # several check-band alerts, with the earlier weeks' ones
    assert page.status_code == 200
    band = page.text.split('id="check"', 1)[1].split("</section>", 1)[0]
    shown = [int(i) for i in re.findall(r'<article class="alert" id="alert-(\d+)"', band)]
    with Project(web_project) as project:
        scores = {r[0]: r[1] for r in project.store.query("SELECT id, score FROM alerts WHERE band = 'check'")}
    assert len(shown) >= 4 and len({scores[i] for i in shown}) >= 3
    assert [scores[i] for i in shown] == sorted((scores[i] for i in shown), reverse=True)
    assert "De mest sandsynlige står øverst." in band
