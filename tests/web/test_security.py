"""The web app refuses what it must: anonymous requests, forged forms, other coordinators' cases, guessed
passwords; it shows entry text as text, and its logs and headers give nothing away."""

from __future__ import annotations

import json
import logging
import re

from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from qualpipe.project import Project
from qualpipe.web.app import create_app
from tests.web.conftest import PASSWORDS, csrf_of, login

PARAMS = {"case_id": "M05", "alert_id": "6", "segment_id": "117", "entry_id": "M05-02", "name": "Lene"}


def client_for(root) -> TestClient:
    return TestClient(create_app(root), base_url="http://testserver")


def _open_urgent_alert(root) -> int:
    with Project(root) as project:
        digest = project.weekly_digest("2024-W06")
        return digest.cases[0].alerts[0].id


def _alert(root, alert_id: int):
    with Project(root) as project:
        return project.alert(alert_id)


def test_every_route_refuses_an_anonymous_request(web_project):
    app = create_app(web_project)
    routes = [(r.path, m) for r in app.routes if isinstance(r, Route) for m in r.methods - {"HEAD"}
              if r.path != "/login"]
    assert len(routes) >= 13 and not any(isinstance(r, Mount) and r.path != "/static" for r in app.routes)
    with TestClient(app) as client:
        for path, method in routes:
            url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PARAMS[m[1]], path)
            page = client.request(method, url, follow_redirects=False, data={"note": "x"})
            assert page.status_code == 303 and page.headers["location"].startswith("/login"), (method, url)
            as_json = client.request(method, url, headers={"accept": "application/json"}, follow_redirects=False)
            assert as_json.status_code == 401, (method, url)
            assert "Oliver" not in page.text + as_json.text
    assert _alert(web_project, 6).handled_by is None


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(web_project):
    alert_id = _open_urgent_alert(web_project)
    with client_for(web_project) as client:
        assert login(client, "Lene").status_code == 303
        page = client.get("/?week=2024-W06")
        for token in (None, "forged-" + csrf_of(page.text)[7:]):
            data = {"note": "underretning sendt", "week": "2024-W06"} | ({"csrf_token": token} if token else {})
            refused = client.post(f"/alerts/{alert_id}/ack", data=data, follow_redirects=False)
            assert refused.status_code == 403 and "Handlingen blev afvist" in refused.text
        assert _alert(web_project, alert_id).handled_by is None
        data = {"note": "underretning sendt", "week": "2024-W06", "csrf_token": csrf_of(page.text)}
        assert client.post(f"/alerts/{alert_id}/ack", data=data, follow_redirects=False).status_code == 303
    assert _alert(web_project, alert_id).handled_by == "Lene"


def test_login_form_without_its_token_is_refused(web_project):
    with client_for(web_project) as client:
        page = client.post("/login", data={"name": "Lene", "password": PASSWORDS["Lene"], "csrf_token": "x"},
                           follow_redirects=False)
        assert page.status_code == 403 and "qualpipe_session" not in page.headers.get("set-cookie", "")


def test_script_and_onerror_in_an_entry_are_shown_as_text(web_project, tmp_path):
    entry = {"entry_id": "M01-99", "case_id": "M01", "date": "2024-02-07", "author": "Hanne",
             "text": "Emma fortalte, at stedfar slår hende. <script>alert('x')</script> "
                     "<img src=x onerror=alert(2)> Hun var bange."}
    path = tmp_path / "uge06.jsonl"
    path.write_text(json.dumps(entry, ensure_ascii=False) + "\n", encoding="utf-8")
    with client_for(web_project) as client:
        login(client, "Lene")
        upload = client.get("/upload")
        done = client.post("/upload", data={"csrf_token": csrf_of(upload.text)},
                           files={"file": ("uge06.jsonl", path.read_bytes(), "application/json")})
        assert done.status_code == 200 and "1 nye indlæg" in done.text
        for url in ("/cases/M01", "/?week=2024-W06"):
            page = client.get(url)
            assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text, url
            assert "<script>alert" not in page.text and "<img src=x" not in page.text
            assert "&lt;img src=x onerror=alert(2)&gt;" in page.text


def test_a_coordinator_limited_to_M01_gets_404_for_M02_and_sees_only_M01(web_project):
    alert_id = _open_urgent_alert(web_project)  # an alert of another case (M05 or M11)
    with client_for(web_project) as client:
        login(client, "Ulla")
        assert client.get("/cases/M01").status_code == 200
        assert client.get("/cases/M02").status_code == 404
        assert client.get("/cases/M05").status_code == 404
        digest = client.get("/?week=2024-W06")
        assert digest.status_code == 200 and 'href="/cases/M05"' not in digest.text
        assert "M05" not in digest.text and "M11" not in digest.text
        cases = client.get("/cases")
        assert 'href="/cases/M01"' in cases.text and 'href="/cases/M02"' not in cases.text
        refused = client.post(f"/alerts/{alert_id}/ack", data={"note": "x", "csrf_token": csrf_of(digest.text)})
        assert refused.status_code == 404
        assert client.get("/export.qdpx").status_code == 403
    assert _alert(web_project, alert_id).handled_by is None


def test_a_wrong_password_five_times_makes_the_next_attempt_wait(web_project):
    with client_for(web_project) as client:
        for _ in range(5):
            wrong = login(client, "Lene", "not-the-password")
            assert wrong.status_code == 401 and "Forkert brugernavn eller adgangskode" in wrong.text
        sixth = login(client, "Lene")  # even the right password must wait now
        assert sixth.status_code == 429 and "Vent" in sixth.text
        assert "qualpipe_session" not in sixth.headers.get("set-cookie", "")
    with client_for(web_project) as other:
        assert login(other, "Mads").status_code == 303  # other names are not locked out


def test_the_session_cookie_is_httponly_samesite_strict_and_expires(web_project):
    with client_for(web_project) as client:
        answer = login(client, "Lene")
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("qualpipe_session="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie
        client.post("/logout", data={"csrf_token": csrf_of(client.get("/?week=2024-W06").text)})
        assert client.get("/", follow_redirects=False).status_code == 303  # the session ended on the server


def test_pages_carry_a_strict_csp_and_no_inline_script(web_project):
    with client_for(web_project) as client:
        login(client, "Lene")
        page = client.get("/?week=2024-W06")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "unsafe-inline" not in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
        assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
        assert " on" not in " ".join(re.findall(r"<[a-z]+ [^>]*>", page.text)).replace(" one", "")


def test_the_access_log_names_route_templates_not_cases_queries_or_tokens(web_project, caplog):
    with client_for(web_project) as client, caplog.at_level(logging.INFO, logger="qualpipe.web.access"):
        login(client, "Lene")
        client.get("/cases/M05?week=2024-W06")
    lines = [r.getMessage() for r in caplog.records if r.name == "qualpipe.web.access"]
    assert any(line.startswith("GET /cases/{case_id} 200") for line in lines)
    text = "\n".join(lines)
    assert "M05" not in text and "week" not in text and "Lene" not in text and "qualpipe_session" not in text


def test_identities_need_a_grant_and_every_view_with_them_is_audited(web_project):
    with client_for(web_project) as client:
        login(client, "Lene")
        token = csrf_of(client.get("/cases/M05").text)
        assert client.post("/identities", data={"on": "1", "csrf_token": token}).status_code == 403
        assert "Oliver" not in client.get("/cases/M05").text
    with client_for(web_project) as client:
        login(client, "Anna")
        pseudonymised = client.get("/cases/M05")
        assert "Oliver" not in pseudonymised.text and "[NAVN-1]" in pseudonymised.text
        client.post("/identities", data={"on": "1", "csrf_token": csrf_of(pseudonymised.text), "back": "/cases/M05"})
        shown = client.get("/cases/M05")
        assert "Oliver" in shown.text and "Identiteter vises" in shown.text
        audit = client.get("/users")
        assert re.search(r"<td>Anna</td><td>[^<]+</td><td>case M05</td><td>M05</td>", audit.text)
