"""The admin's page: who has an account, who may see identities (grant or withdraw), and the audit log."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from qualpipe.web import accounts
from qualpipe.web.guard import Ctx, guarded


@guarded("admin")
def users_page(ctx: Ctx) -> Response:
    store = ctx.project.store
    return ctx.render("users.html", users=accounts.list_users(store), views=accounts.identity_views(store))


@guarded("admin")
def grant(ctx: Ctx) -> Response:
    accounts.set_access(ctx.project.store, ctx.request.path_params["name"], show_identities=ctx.field("on") == "1")
    return RedirectResponse("/users", 303)


def routes() -> list[Route]:
    return [
        Route("/users", users_page, methods=["GET"]),
        Route("/users/{name}/identities", grant, methods=["POST"]),
    ]
