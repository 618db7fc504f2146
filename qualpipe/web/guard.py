"""Every page's gate: the project for the request, the logged-in user, roles, case scope, CSRF, identities audit.

A page is a plain function `page(ctx) -> Response` wrapped by `@guarded(roles)`: it runs in a worker thread
with a Project opened for the request (SQLite connections belong to the thread that opened them) and is only
called for a live session whose role is allowed, and, for a POST, whose CSRF token came with the form.
"""

from __future__ import annotations

import functools
import hmac
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from qualpipe.errors import UserError
from qualpipe.web import accounts
from qualpipe.web.accounts import Session

SESSION_COOKIE = "qualpipe_session"
UPLOAD_LIMIT_MB = 50
PSEUDONYMISED_CACHE = 100_000  # documents; about 1 KB each for logbook entries


class ProjectRunner:
    """Opens the project for each request (cheap: a config file and an SQLite connection), and runs work that
    needs the models (review queue, flagging an upload) on one long-lived Project in one thread, so the
    embedder and the detector load once per server and not once per request."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.pseudonymised: dict = {}  # documents pseudonymised once for every request (CasePseudonyms)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qualpipe-models")
        self._heavy = None

    @contextmanager
    def project(self):
        from qualpipe.project import Project

        if len(self.pseudonymised) > PSEUDONYMISED_CACHE:
            self.pseudonymised.clear()
        with Project(self.root, pseudonymised_documents=self.pseudonymised) as project:
            yield project

    def with_models(self, work: Callable):
        """`work(project)` on the long-lived project, in its thread; waits for the result."""
        return self._executor.submit(self._call, work).result()

    def _call(self, work: Callable):
        if self._heavy is None:
            from qualpipe.project import Project

            self._heavy = Project(self.root, pseudonymised_documents=self.pseudonymised)
        return work(self._heavy)

    def close(self) -> None:
        if self._heavy is not None:
            self._executor.submit(self._heavy.close).result()
            self._heavy = None
        self._executor.shutdown(wait=True)


@dataclass
class Ctx:
    """What a page gets: the request, its parsed form, the project, the session."""

    request: Request
    form: FormData | None
    project: object  # qualpipe.project.Project, opened for this request
    session: Session
    runner: ProjectRunner

    @property
    def user(self):
        return self.session.user

    @property
    def identities(self) -> bool:
        return self.session.identities

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name, default) if self.form is not None else self.request.query_params.get(name, default)
        return value.strip() if isinstance(value, str) else default

    def require_case(self, case_id: str | None) -> None:
        """A case the user may not see is answered as if it did not exist."""
        if case_id is None or not self.user.may_see(case_id):
            raise HTTPException(404)

    def audit(self, page: str, case_ids) -> None:
        """Pages shown with identities are written to the audit log, one row per case shown."""
        if self.identities:
            accounts.record_identity_views(self.project.store, self.user, page, case_ids)

    def render(self, template: str, status: int = 200, **context) -> HTMLResponse:
        from qualpipe.web.pages import render

        return HTMLResponse(render(template, session=self.session, request=self.request, **context), status)


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _refuse(request: Request, status: int, key: str) -> Response:
    from qualpipe.web.pages import render, t

    if wants_json(request):
        return JSONResponse({"error": t(key)}, status)
    return HTMLResponse(render("message.html", request=request, session=None, title=t("error_title"), message=t(key)),
                        status)


def _login_redirect(request: Request) -> Response:
    if wants_json(request):
        return JSONResponse({"error": "login required"}, 401)
    target = request.url.path if request.method == "GET" else "/"
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", 303)


def _checked(request: Request, form: FormData | None, session: Session) -> bool:
    sent = (form.get("csrf_token") if form is not None else None) or request.headers.get("x-csrf-token") or ""
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), session.csrf_token.encode())


def _logged_in(request: Request) -> bool:
    with request.app.state.runner.project() as project:
        return accounts.session_for(project.store, request.cookies.get(SESSION_COOKIE)) is not None


def _run(page: Callable, roles: tuple[str, ...], request: Request, form: FormData | None) -> Response:
    runner: ProjectRunner = request.app.state.runner
    with runner.project() as project:
        session = accounts.session_for(project.store, request.cookies.get(SESSION_COOKIE))
        if session is None:
            return _login_redirect(request)
        if request.method != "GET" and not _checked(request, form, session):
            return _refuse(request, 403, "csrf_refused")
        if roles and session.user.role not in roles:
            return _refuse(request, 403, "forbidden")
        ctx = Ctx(request, form, project, session, runner)
        try:
            return page(ctx)
        except UserError as exc:  # one line naming the input and what to do; never a cell of a file
            return ctx.render("message.html", 400, title=_title(), message=str(exc))


def _title() -> str:
    from qualpipe.web.pages import t

    return t("error_title")


def guarded(*roles: str):
    """Make `page(ctx)` an endpoint that needs a login (and one of `roles`, if given)."""

    def wrap(page: Callable):
        @functools.wraps(page)
        async def endpoint(request: Request) -> Response:
            form = None
            if request.method == "POST":
                if int(request.headers.get("content-length") or 0) > UPLOAD_LIMIT_MB * 1_000_000:
                    return PlainTextResponse(f"more than {UPLOAD_LIMIT_MB} MB", 413)
                if not await run_in_threadpool(_logged_in, request):  # nothing of an anonymous body is read
                    return _login_redirect(request)
                form = await request.form(max_files=1, max_fields=40, max_part_size=1024 * 1024)
            try:
                return await run_in_threadpool(_run, page, roles, request, form)
            finally:
                if form is not None:
                    await form.close()

        return endpoint

    return wrap
