"""The evaluator's pages: the review queue (least certain first) with one click or key per decision, her
progress and agreement with the machine, and the project's REFI-QDA export."""

from __future__ import annotations

import tempfile
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from qualpipe.errors import UserError
from qualpipe.web.guard import Ctx, guarded
from qualpipe.web.pages import t

REVIEWING = ("evaluator", "admin")
MACHINE = "qualpipe"


@guarded(*REVIEWING)
def review_page(ctx: Ctx) -> Response:
    skip = ctx.request.query_params.get("skip", "0")
    skip = int(skip) if skip.isdigit() else 0
    identities = ctx.identities
    queue = ctx.runner.with_models(lambda project: project.review_queue(10**9, show_identities=identities))
    queue = [item for item in queue if ctx.user.may_see(item.case_id)]
    item = queue[skip % len(queue)] if queue else None
    context = ctx.project.segment_context(item.segment_id, show_identities=identities) if item else None
    codebook = ctx.project.codebook()
    decisions = [d for d in ctx.project.decisions(ctx.user.name, limit=15, show_identities=identities)
                 if ctx.user.may_see(d.case_id)]
    try:
        pairs, _ = ctx.project.evaluate_coders([ctx.user.name, MACHINE])
        agreement, no_agreement = [p for p in pairs], ""
    except UserError as exc:
        agreement, no_agreement = [], str(exc)
    ctx.audit("review", {d.case_id for d in decisions} | ({context.case_id} if context else set()))
    return ctx.render("review.html", item=item, context=context, codes=codebook.codes,
                      labels={c.id: c.label_da for c in codebook.codes}, left=len(queue), skip=skip + 1,
                      done=ctx.project.decided_segments(ctx.user.name), decisions=decisions, agreement=agreement,
                      no_agreement=no_agreement, decided=ctx.request.query_params.get("decided", ""))


@guarded(*REVIEWING)
def decide(ctx: Ctx) -> Response:
    segment_id = int(ctx.request.path_params["segment_id"])
    try:
        context = ctx.project.segment_context(segment_id)
    except UserError:
        raise HTTPException(404) from None
    if ctx.user.limited:
        ctx.require_case(context.case_id)
    decision = ctx.field("decision")
    ctx.project.decide(segment_id, ctx.field("code"), decision, ctx.user.name)
    return RedirectResponse(f"/review?decided={segment_id}", 303)


@guarded(*REVIEWING)
def export_qdpx(ctx: Ctx) -> Response:
    """The whole project as REFI-QDA (pseudonymised unless identities are shown); not for users limited to cases."""
    if ctx.user.limited:
        return ctx.render("message.html", 403, title=t("error_title"), message=t("forbidden"))
    from qualpipe.private_files import private_dir

    folder = private_dir(ctx.project.root / "exports")
    with tempfile.TemporaryDirectory(dir=folder) as work:
        path, _ = ctx.project.export("qdpx", Path(work) / "export.qdpx", show_identities=ctx.identities)
        data = path.read_bytes()
    ctx.audit("export qdpx", ctx.project.case_ids())
    name = f"{ctx.project.root.resolve().name}.qdpx"
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def routes() -> list[Route]:
    return [
        Route("/review", review_page, methods=["GET"]),
        Route("/review/{segment_id:int}", decide, methods=["POST"]),
        Route("/export.qdpx", export_qdpx, methods=["GET"]),
    ]
