"""The coordinator's pages: the week's digest with one-click handling, a case week by week, the logbook upload."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from qualpipe.errors import UserError
from qualpipe.web.guard import Ctx, guarded
from qualpipe.web.pages import local_time, t
from qualpipe.web.scope import digest_for, shown_cases

COORDINATING = ("coordinator", "admin")
UPLOAD_SUFFIXES = (".csv", ".tsv", ".xlsx", ".jsonl")


def _week(ctx: Ctx) -> str:
    """The week asked for; by default the last complete week, or the last week with entries before it (a
    project whose logbooks ended earlier would otherwise open on an empty week and file every open alert
    under it)."""
    from qualpipe.flagging.alerts import last_complete_week, parse_week

    if ctx.field("week"):
        return parse_week(ctx.field("week"))
    last = last_complete_week()
    return next((w for w in ctx.project.logbook_weeks() if w <= last), last)


def _screen_new_entries(ctx: Ctx) -> None:
    """Entries ingested without flagging (by a command line run) are screened by the long-lived project, where
    the models stay loaded, before the digest is built. If that fails, the digest's own screening step meets the
    same failure and the page says so, as every digest does (never an error page instead of the digest)."""
    if ctx.project.has_unflagged_entries():
        try:
            ctx.runner.with_models(lambda project: project.flag_new_entries())
        except Exception as exc:  # noqa: BLE001 - reported inside the digest; only its kind is logged here
            logging.getLogger(__name__).warning("screening new entries failed (%s)", type(exc).__name__)


def _notice(ctx: Ctx) -> str:
    """The message after a handling (the ids come back in the address; names and times from the store)."""
    for key in ("done", "already", "dismissed"):
        value = ctx.request.query_params.get(key, "")
        if value.isdigit():
            record = ctx.project.alert(int(value))
            if record is None or not ctx.user.may_see(record.case_id):
                return ""
            if key == "already":
                return t("already_handled", id=record.id, name=record.handled_by or "?",
                         time=local_time(record.handled_at))
            return t("done_ack" if key == "done" else "done_dismissed", id=record.id, name=record.handled_by or "?")
    return ""


@guarded()
def digest_page(ctx: Ctx) -> Response:
    if ctx.user.role not in COORDINATING:
        return RedirectResponse("/review", 303)
    week = _week(ctx)
    _screen_new_entries(ctx)
    digest = digest_for(ctx.project.weekly_digest(week, show_identities=ctx.identities), ctx.user)
    ctx.audit(f"digest {week}", shown_cases(digest))
    weeks = ctx.project.logbook_weeks()
    if week not in weeks:
        weeks = sorted([*weeks, week], reverse=True)
    return ctx.render("digest.html", d=digest, week=week, weeks=weeks, notice=_notice(ctx))


def _handle(ctx: Ctx, alert_id: int, act) -> Response:
    """Acknowledge or dismiss one alert as the logged-in user; the second of two at once is told who was first."""
    record = ctx.project.alert(alert_id)
    if record is None:
        raise HTTPException(404)
    ctx.require_case(record.case_id)
    week = _week(ctx)
    back = ctx.field("back") if ctx.field("back").startswith("/cases/") else f"/?week={week}"
    joiner = "&" if "?" in back else "?"
    note = ctx.field("note")
    if not note:
        return ctx.render("message.html", 400, title=t("error_title"), message=t("note_missing"))
    if record.handled_by is not None:
        return RedirectResponse(f"{back}{joiner}already={alert_id}#alert-{alert_id}", 303)
    key = act(note)
    return RedirectResponse(f"{back}{joiner}{key}={alert_id}#alert-{alert_id}", 303)


@guarded(*COORDINATING)
def acknowledge(ctx: Ctx) -> Response:
    alert_id = int(ctx.request.path_params["alert_id"])

    def act(note: str) -> str:
        done, _ = ctx.project.acknowledge([alert_id], by=ctx.user.name, note=note)
        return "done" if done else "already"

    return _handle(ctx, alert_id, act)


@guarded(*COORDINATING)
def dismiss(ctx: Ctx) -> Response:
    alert_id = int(ctx.request.path_params["alert_id"])

    def act(note: str) -> str:
        return "dismissed" if ctx.project.dismiss(alert_id, reason=note, by=ctx.user.name, if_open=True) else "already"

    return _handle(ctx, alert_id, act)


@guarded(*COORDINATING)
def cases_page(ctx: Ctx) -> Response:
    cases = [c for c in ctx.project.case_ids() if ctx.user.may_see(c)]
    return ctx.render("cases.html", cases=cases)


@guarded(*COORDINATING)
def case_page(ctx: Ctx) -> Response:
    from qualpipe.flagging.lexicon import load_lexicon

    case_id = ctx.request.path_params["case_id"]
    ctx.require_case(case_id)
    try:
        timeline = ctx.project.case_timeline(case_id, show_identities=ctx.identities)
    except UserError:
        raise HTTPException(404) from None
    ctx.audit(f"case {case_id}", [case_id])
    lexicon = load_lexicon()
    labels = lexicon.labels
    notice = _notice(ctx)
    added = ctx.request.query_params.get("added", "")
    if added.isdigit() and ctx.project.alert(int(added)) is not None:
        notice = t("added_concern", id=int(added), name=ctx.user.name)
    return ctx.render("case.html", c=timeline, categories=[(c, labels.get(c, c)) for c in lexicon.category_ids],
                      severities=list(reversed(lexicon.severities)), notice=notice)


@guarded(*COORDINATING)
def add_concern(ctx: Ctx) -> Response:
    case_id, entry_id = ctx.request.path_params["case_id"], ctx.request.path_params["entry_id"]
    ctx.require_case(case_id)
    if ctx.project.entry_case(entry_id) != case_id:
        raise HTTPException(404)
    alert_id = ctx.project.add_concern(entry_id, category=ctx.field("category"), severity=ctx.field("severity"),
                                       by=ctx.user.name, note=ctx.field("note"))
    return RedirectResponse(f"/cases/{case_id}?added={alert_id}#alert-{alert_id}", 303)


@guarded(*COORDINATING)
def upload_form(ctx: Ctx) -> Response:
    return ctx.render("upload.html", result=None)


def _safe_name(name: str) -> str:
    """The uploaded file's own name, reduced to a plain file name (the same name later resolves its errors)."""
    base = Path(name.replace("\\", "/")).name
    return re.sub(r"[^\w.\-]+", "_", base).lstrip(".")[:120]


@guarded(*COORDINATING)
def upload(ctx: Ctx) -> Response:
    """Ingest the week's logbook file, screen the new entries, show the result (synchronous: a weekly file of
    normal size takes seconds to a minute; the page shows that it is working meanwhile).

    The file is kept 0600 as uploads/NAME in the project (0700), under its own name, so that uploading a
    corrected file of the same name clears the digest's warning about the failed one, as a re-run does."""
    from qualpipe.private_files import private_dir, private_file

    sent = ctx.form.get("file") if ctx.form is not None else None
    if sent is None or isinstance(sent, str) or not sent.filename:
        return ctx.render("upload.html", 400, result=None, error=t("upload_no_file"))
    name = _safe_name(sent.filename)
    if not name or Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        return ctx.render("upload.html", 400, result=None, error=t("upload_bad_type", name=name or "?"))
    target = private_dir(ctx.project.root / "uploads") / name
    with private_file(target, "wb") as out:
        while chunk := sent.file.read(1 << 20):
            out.write(chunk)

    def ingest_and_flag(project):
        report = project.ingest([target], "logbook")
        return report, project.flag_new_entries()

    report, flagged = ctx.runner.with_models(ingest_and_flag)
    # the errors name the file by its path in the project: show the name the coordinator chose
    errors = [e.replace(str(target), name).replace(str(target.resolve()), name) for e in report.errors]
    return ctx.render("upload.html", 200 if report.ok else 422, result=report, flagged=flagged, errors=errors,
                      name=name)


def routes() -> list[Route]:
    return [
        Route("/", digest_page, methods=["GET"]),
        Route("/alerts/{alert_id:int}/ack", acknowledge, methods=["POST"]),
        Route("/alerts/{alert_id:int}/dismiss", dismiss, methods=["POST"]),
        Route("/cases", cases_page, methods=["GET"]),
        Route("/cases/{case_id}", case_page, methods=["GET"]),
        Route("/cases/{case_id}/entries/{entry_id}/concern", add_concern, methods=["POST"]),
        Route("/upload", upload_form, methods=["GET"]),
        Route("/upload", upload, methods=["POST"]),
    ]
