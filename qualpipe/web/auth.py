"""Logging in and out, and switching identities on or off: the session cookie (HttpOnly, SameSite=Strict,
expiring) and the login form's own CSRF token (a cookie and a form field that must match)."""

from __future__ import annotations

import hmac
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from qualpipe.web import accounts
from qualpipe.web.guard import SESSION_COOKIE, Ctx, guarded
from qualpipe.web.pages import render, t

LOGIN_COOKIE = "qualpipe_login"


def _secure(request: Request) -> bool:
    """Cookies are Secure when the browser reached us over TLS (directly or through the reverse proxy)."""
    return request.url.scheme == "https"


def home_of(role: str) -> str:
    return "/review" if role == "evaluator" else "/"


def _next(request: Request, value: str | None) -> str | None:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


def _login_page(request: Request, status: int = 200, message: str = "") -> Response:
    token = secrets.token_urlsafe(24)
    response = HTMLResponse(render("login.html", request=request, session=None, csrf=token, message=message,
                                   next=_next(request, request.query_params.get("next")) or ""), status)
    response.set_cookie(LOGIN_COOKIE, token, max_age=1800, httponly=True, samesite="strict", secure=_secure(request))
    return response


async def login_form(request: Request) -> Response:
    return _login_page(request)


async def login(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    sent, expected = str(form.get("csrf_token", "")), request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_page(request, 403, t("login_expired"))
    name, password = str(form.get("name", "")), str(form.get("password", ""))

    def check():
        with request.app.state.runner.project() as project:
            user = accounts.authenticate(project.store, name, password)
            return accounts.create_session(project.store, user, request.app.state.session_hours)

    try:
        token, session = await run_in_threadpool(check)
    except accounts.LoginThrottled as exc:
        return _login_page(request, 429, t("login_throttled", seconds=exc.seconds))
    except accounts.LoginRefused:
        return _login_page(request, 401, t("login_refused"))
    target = _next(request, str(form.get("next", ""))) or home_of(session.user.role)
    response = RedirectResponse(target, 303)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(request.app.state.session_hours * 3600), httponly=True,
                        samesite="strict", secure=_secure(request), path="/")
    response.delete_cookie(LOGIN_COOKIE)
    return response


@guarded()
def logout(ctx: Ctx) -> Response:
    accounts.end_session(ctx.project.store, ctx.request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@guarded()
def identities(ctx: Ctx) -> Response:
    """Switch identities on (only with an admin's grant) or off for this session."""
    on = ctx.field("on") == "1"
    if on and not ctx.user.show_identities:
        return ctx.render("message.html", 403, title=t("error_title"), message=t("forbidden"))
    accounts.show_identities(ctx.project.store, ctx.request.cookies.get(SESSION_COOKIE), on)
    back = _next(ctx.request, ctx.field("back")) or home_of(ctx.user.role)
    return RedirectResponse(back, 303)


def routes() -> list[Route]:
    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/identities", identities, methods=["POST"]),
    ]
