"""Headers every response carries (a strict Content-Security-Policy, no caching of pages about children) and
the access log: method, route template, status and time only, never a query string, a cookie or a case id."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders

log = logging.getLogger("qualpipe.web.access")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def route_template(scope) -> str:
    """The matched route's path template (/cases/{case_id}), never the path itself."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is not None:
        return path
    return "/static/*" if scope.get("path", "").startswith("/static/") else "(no route)"


class SecureResponses:
    """ASGI middleware: security headers on every response, and one access-log line per request."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            log.info("%s %s %d %.1f ms", scope.get("method", "?"), route_template(scope), status[0],
                     (time.perf_counter() - started) * 1000)
