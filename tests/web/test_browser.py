"""The web app as a person uses it: Debian's chromium, driven by Playwright, against a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from qualpipe.project import Project
from qualpipe.web.background import BackgroundServer
from tests.web.conftest import PASSWORDS, csrf_of

CHROMIUM = os.environ.get("QUALPIPE_CHROMIUM", "/usr/bin/chromium")

pytestmark = [
    pytest.mark.enable_socket,
    pytest.mark.allow_hosts(["127.0.0.1"]),
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                       reason="no chromium at /usr/bin/chromium (.ci/run installs it)"),
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def server(web_project):
    with BackgroundServer(web_project) as running:
        yield running


def log_in(browser, server, name: str, then: str = "/"):
    page = browser.new_page(locale="da-DK")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.goto(f"{server.url}/login?next={quote(then)}")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.errors = errors  # console errors (a CSP violation is one) and any dialog an entry could open
    return page


def test_a_coordinator_sees_the_urgent_case_first_acknowledges_it_and_sees_it_handled(browser, server, web_project):
    from playwright.sync_api import expect

    page = log_in(browser, server, "Lene", "/?week=2024-W06")
    expect(page.locator("h1")).to_contain_text("2024-W06")
    first = page.locator("section.case").first
    expect(first.locator("h2 .sev")).to_have_text("AKUT")
    case_id = first.locator("h2 a").inner_text()
    alert = first.locator("article.alert").first
    expect(alert.locator("mark")).not_to_be_empty()  # the evidence sentence is highlighted
    alert_id = alert.get_attribute("id").removeprefix("alert-")
    alert.locator("input[name=note]").first.fill("underretning sendt til kommunen")
    alert.locator("button.ack").click()
    expect(page.locator("#notice")).to_contain_text(f"Alarm #{alert_id} er registreret som håndteret af Lene")
    handled = page.locator(f"#handled-{alert_id}")
    expect(handled).to_contain_text("håndteret af Lene")
    expect(handled).to_contain_text("underretning sendt til kommunen")
    expect(page.locator("section.handled h2")).to_have_text("Håndteret")
    expect(page.locator(f"#alert-{alert_id}")).to_have_count(0)
    page.goto(f"{server.url}/cases/{case_id}")
    expect(page.locator(f"#alert-{alert_id} .handled-by")).to_contain_text("håndteret af Lene")
    expect(page.locator("svg.grid rect.sev-urgent")).not_to_have_count(0)  # the week-by-week plot
    assert page.errors == []
    with Project(web_project) as project:
        record = project.alert(int(alert_id))
    assert (record.handled_as, record.handled_by) == ("ack", "Lene")


def test_two_coordinators_at_once_give_one_record_and_the_second_is_told_who_was_first(server, web_project):
    with Project(web_project) as project:
        alert_id = project.weekly_digest("2024-W06").cases[0].alerts[0].id
    clients = []
    for name in ("Lene", "Mads"):
        client = httpx.Client(base_url=server.url)
        form = client.get("/login")
        client.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf_token": csrf_of(form.text)})
        clients.append((name, client, csrf_of(client.get("/?week=2024-W06").text)))
    start, answers = threading.Barrier(2), {}

    def acknowledge(name, client, token):
        start.wait()
        answers[name] = client.post(f"/alerts/{alert_id}/ack", data={"note": f"ringet op ({name})", "csrf_token": token,
                                                                     "week": "2024-W06"}, follow_redirects=True)

    threads = [threading.Thread(target=acknowledge, args=c) for c in clients]
    [t.start() for t in threads]
    [t.join() for t in threads]
    with Project(web_project) as project:
        record = project.alert(alert_id)
        notes = project.store.query("SELECT ack_note FROM alerts WHERE id = ?", (alert_id,))[0][0]
    first, second = (record.handled_by, "Mads" if record.handled_by == "Lene" else "Lene")
    assert notes == f"ringet op ({first})"
    assert f"Alarm #{alert_id} er registreret som håndteret af {first}" in answers[first].text
    assert f"Alarm #{alert_id} er allerede håndteret af {first} kl." in answers[second].text
    for _, client, _ in clients:
        client.close()


def test_an_evaluator_accepts_and_rejects_codes_and_they_become_her_human_codes(browser, server, web_project):
    from playwright.sync_api import expect

    page = log_in(browser, server, "Eva")
    expect(page.locator("h1")).to_have_text("Gennemgå maskinens koder")
    item = page.locator("#review-item")
    first_segment = item.get_attribute("data-segment")
    proposed = item.locator("input[name=code]").first.get_attribute("value")
    page.keyboard.press("y")  # accept the proposal with its key
    expect(page.locator("#review-item")).not_to_have_attribute("data-segment", first_segment)
    second_segment = page.locator("#review-item").get_attribute("data-segment")
    rejected = page.locator("#review-item input[name=code]").first.get_attribute("value")
    page.locator("#review-item button.no").click()  # reject the next one with a click
    expect(page.locator("#review-item")).not_to_have_attribute("data-segment", second_segment)
    decisions = page.locator("#decisions li")
    expect(decisions).to_have_count(2)
    expect(decisions.nth(0)).to_contain_text("nej")
    expect(decisions.nth(1)).to_contain_text("ja (din kode)")
    expect(page.locator(".sub")).to_contain_text("Du har besluttet 2 segment(er)")
    assert page.errors == []
    with Project(web_project) as project:
        human = project.store.query("SELECT segment_id, code FROM codings WHERE source = 'human' AND coder = 'Eva'")
        said = project.store.query("SELECT segment_id, code, decision FROM code_decisions WHERE coder = 'Eva'")
    assert [tuple(r) for r in human] == [(int(first_segment), proposed)]
    assert sorted(tuple(r) for r in said) == sorted([(int(first_segment), proposed, "yes"),
                                                     (int(second_segment), rejected, "no")])


def test_an_uploaded_logbook_is_screened_and_a_broken_one_is_named(browser, server, web_project, tmp_path):
    from playwright.sync_api import expect

    good = tmp_path / "uge07.csv"
    good.write_text("entry_id;case_id;date;author;text\nM02-90;M02;14-02-2024;Hanne;Vi bagte boller og "
                    "spillede kort. <img src=x onerror=alert(1)> Hun grinede meget.\n", encoding="utf-8")
    broken = Path(__file__).resolve().parents[1] / "data" / "broken" / "missing_text_column.csv"
    page = log_in(browser, server, "Lene", "/upload")
    page.set_input_files("input[type=file]", str(good))
    page.click("form.upload button[type=submit]")
    expect(page.locator("#result")).to_contain_text("uge07.csv: 1 nye indlæg", timeout=120_000)
    page.set_input_files("input[type=file]", str(broken))
    page.click("form.upload button[type=submit]")
    expect(page.locator("#result .failure")).to_contain_text("missing_text_column.csv", timeout=60_000)
    page.goto(f"{server.url}/?week=2024-W07")
    expect(page.locator(".notice.failure").first).to_contain_text("kunne ikke læses")
    page.goto(f"{server.url}/cases/M02")
    expect(page.locator("#entry-M02-90 .entry")).to_contain_text("<img src=x onerror=alert(1)>")
    assert [e for e in page.errors if "status of 422" not in e] == []  # the broken file's answer is a 422
    shutil.rmtree(tmp_path, ignore_errors=True)
