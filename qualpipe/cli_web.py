"""Commands for the team's web app: `qualpipe serve` and `qualpipe users …` (accounts on the project's store)."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from qualpipe.cli_common import open_project, state, user_errors
from qualpipe.errors import UserError
from qualpipe.output import Format, write_rows

users_app = typer.Typer(help="Accounts for the web app (qualpipe serve): coordinators, evaluators, admins.")

ROLE_HELP = "coordinator (alerts and cases), evaluator (review of codes) or admin (everything, and grants)."


def _password(from_stdin: bool) -> str:
    """The password from standard input (one line), or typed twice without echo."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise UserError("no password given; type one, or pipe it with --password-stdin")
    return password


@user_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default: this machine only; "
                             "put a TLS reverse proxy in front for a team)."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="Server processes (pages render in Python, one core "
                                "per process; 2 on a 2-core machine serves 20 users with a lower tail)."),
) -> None:
    """Run the team's web app on this project: the digest, cases, upload, the review queue. Log in with an
    account made by 'qualpipe users add'."""
    from qualpipe.web.app import serve as run

    with open_project() as project:
        from qualpipe.web.accounts import list_users

        if not list_users(project.store):
            typer.echo("warning: no accounts yet; add one with 'qualpipe users add NAME --role admin'", err=True)
    run(state.project_dir, host=host, port=port, workers=workers)


@users_app.command("add")
@user_errors
def users_add(
    name: str = typer.Argument(..., help="The login name (one word); it is recorded on what the user handles."),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    cases: Optional[str] = typer.Option(None, "--cases", help="Limit the user to these cases, e.g. M01,M02 "
                                        "(default: every case). Admins always see every case."),
    show_identities: bool = typer.Option(False, "--show-identities", help="May switch identities on in the web "
                                         "app (every page then seen is audited)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Add a web app account; the password is stored as an argon2id hash."""
    from qualpipe.web.accounts import add_user, parse_cases

    password = _password(password_stdin)
    with open_project() as project:
        user = add_user(project.store, name, password, role, cases=parse_cases(cases), show_identities=show_identities)
    typer.echo(f"user {user.name} added ({user.role}; cases: {', '.join(user.cases) or 'all'})")


@users_app.command("list")
@user_errors
def users_list(fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    """Accounts: name, role, cases, whether they may see identities, when added."""
    from qualpipe.web.accounts import list_users

    with open_project() as project:
        rows = [{"name": u.name, "role": u.role, "cases": ",".join(u.cases) or "all",
                 "show_identities": "yes" if u.show_identities else "no", "created_at": u.created_at}
                for u in list_users(project.store)]
    write_rows(rows, ["name", "role", "cases", "show_identities", "created_at"], fmt)


@users_app.command("remove")
@user_errors
def users_remove(name: str = typer.Argument(..., help="The login name.")) -> None:
    """Remove an account and end its sessions; what the user handled keeps their name."""
    from qualpipe.web.accounts import remove_user

    with open_project() as project:
        remove_user(project.store, name)
    typer.echo(f"user {name} removed")


@users_app.command("passwd")
@user_errors
def users_passwd(
    name: str = typer.Argument(..., help="The login name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Set a new password; the user's sessions end."""
    from qualpipe.web.accounts import set_password

    password = _password(password_stdin)
    with open_project() as project:
        set_password(project.store, name, password)
    typer.echo(f"password of {name} changed; their sessions have ended")


@users_app.command("grant")
@user_errors
def users_grant(
    name: str = typer.Argument(..., help="The login name."),
    show_identities: Optional[bool] = typer.Option(None, "--show-identities/--no-show-identities",
                                                   help="Allow or withdraw switching identities on."),
    cases: Optional[str] = typer.Option(None, "--cases", help="Limit to these cases ('' for every case)."),
) -> None:
    """Change what a user may see: identities, and the cases they are limited to."""
    from qualpipe.web.accounts import parse_cases, set_access

    if show_identities is None and cases is None:
        raise UserError("grant needs --show-identities, --no-show-identities or --cases")
    with open_project() as project:
        user = set_access(project.store, name, show_identities=show_identities,
                          cases=None if cases is None else parse_cases(cases))
    typer.echo(f"user {user.name}: identities {'allowed' if user.show_identities else 'not allowed'}; "
               f"cases: {', '.join(user.cases) or 'all'}")


def register_web_commands(app: typer.Typer) -> None:
    """Add the web app's commands to the `qualpipe` app: serve and users."""
    app.command()(serve)
    app.add_typer(users_app, name="users")
