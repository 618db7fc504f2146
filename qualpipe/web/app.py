"""The team's web app: `create_app(project_root)` builds the ASGI app, `serve` runs it with uvicorn."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from qualpipe.web import accounts, admin, auth, coordinator, evaluator
from qualpipe.web.guard import ProjectRunner, wants_json
from qualpipe.web.pages import render, t
from qualpipe.web.security import SecureResponses


async def _http_error(request: Request, exc: HTTPException):
    key = {404: "not_found", 403: "forbidden"}.get(exc.status_code, "error_title")
    if wants_json(request):
        return JSONResponse({"error": t(key)}, exc.status_code)
    return HTMLResponse(render("message.html", request=request, session=None, title=t("error_title"), message=t(key)),
                        exc.status_code)


def create_app(project_root: str | Path, *, session_hours: float = accounts.SESSION_HOURS) -> Starlette:
    """The web app on the project at `project_root` (its store gets the account tables on first open)."""
    from qualpipe.project import Project

    root = Path(project_root)
    Project(root).close()  # a missing or broken project fails here, as one line, not on the first request
    runner = ProjectRunner(root)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        runner.close()

    routes = [Mount("/static", StaticFiles(packages=[("qualpipe.web", "static")]), name="static"),
              *auth.routes(), *coordinator.routes(), *evaluator.routes(), *admin.routes()]
    app = Starlette(routes=routes, middleware=[Middleware(SecureResponses)], lifespan=lifespan,
                    exception_handlers={HTTPException: _http_error})
    app.state.runner = runner
    app.state.session_hours = session_hours
    return app


LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        # uvicorn's own access log prints the path with its query string: ours (qualpipe.web.access) does not
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "qualpipe.web.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


# `serve --workers N` starts N processes; each builds the app from the project folder named here.
PROJECT_ENV = "QUALPIPE_SERVE_PROJECT"


def app_from_environment() -> Starlette:
    """The app factory a worker process calls (uvicorn's --workers needs an import string)."""
    return create_app(os.environ[PROJECT_ENV])


def serve(project_root: str | Path, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the app with uvicorn until stopped, in `workers` processes (pages render in Python: one process
    uses one core at a time). Behind a TLS reverse proxy on the same machine, the proxy's X-Forwarded-Proto
    makes the session cookie Secure."""
    import uvicorn

    logging.getLogger("qualpipe.web").info("serving %s on %s:%d", Path(project_root).resolve().name, host, port)
    print(f"qualpipe serve: http://{host}:{port}/ (Ctrl-C stops)", file=sys.stderr)
    options = dict(host=host, port=port, access_log=False, log_config=LOG_CONFIG, proxy_headers=True,
                   forwarded_allow_ips="127.0.0.1", server_header=False)
    if workers > 1:
        create_app(project_root)  # a missing or broken project fails here, once, as one line
        os.environ[PROJECT_ENV] = str(Path(project_root).resolve())
        uvicorn.run("qualpipe.web.app:app_from_environment", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(project_root), **options)
