"""Screenshots of the web app for the README: the digest of 2024-W06 and the urgent case's page, taken with
Debian's chromium (Playwright, no browser download) on a project made from the sample corpus.

    .venv/bin/python docs/make_screenshots.py            # writes docs/screenshots/digest.png and case.png
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("QUALPIPE_CHROMIUM", "/usr/bin/chromium")


def sample_project(root: Path):
    """The sample corpus ingested, coded and flagged, with a coordinator and an evaluator."""
    from qualpipe.project import Project
    from qualpipe.web.accounts import add_user

    root.mkdir(parents=True)
    shutil.copyfile(REPO / "corpora" / "qualpipe.toml", root / "qualpipe.toml")
    with Project.init(root) as project:
        project.ingest([REPO / "corpora" / "interviews"], "interview")
        project.ingest([REPO / "corpora" / "logbooks"], "logbook")
        project.code()
        project.flag_new_entries()
        add_user(project.store, "Lene", "lene-koordinator-1", "coordinator")
        add_user(project.store, "Eva", "eva-evaluator-12", "evaluator")
    return root


def log_in(page, url: str, name: str, password: str, then: str = "/") -> None:
    from urllib.parse import quote

    page.goto(f"{url}/login?next={quote(then)}")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def main(out: Path = REPO / "docs" / "screenshots") -> None:
    from playwright.sync_api import sync_playwright

    from qualpipe.web.background import BackgroundServer

    os.environ.setdefault("XDG_DATA_HOME", tempfile.mkdtemp(prefix="qualpipe-shots-keys-"))
    work = Path(tempfile.mkdtemp(prefix="qualpipe-shots-"))
    try:
        root = sample_project(work / "project")
        out.mkdir(parents=True, exist_ok=True)
        with BackgroundServer(root) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1100, "height": 1400}, locale="da-DK")
            log_in(page, server.url, "Lene", "lene-koordinator-1", "/?week=2024-W06")
            page.screenshot(path=str(out / "digest.png"), full_page=False)
            first = page.locator("section.case h2 a").first.inner_text()
            page.goto(f"{server.url}/cases/{first}")
            page.screenshot(path=str(out / "case.png"), full_page=False)
            browser.close()
        print(f"{out / 'digest.png'}\n{out / 'case.png'} (case {first})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "screenshots")
