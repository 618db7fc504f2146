"""What every qualpipe command shares: the typer app, the project option's state, one-line user errors, batches."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, List

import typer

from qualpipe.errors import UserError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Danish qualitative text from child-welfare programmes turned into evidence.",
)


class State:
    project_dir: Path = Path(".")


state = State()


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def user_errors(command: Callable) -> Callable:
    """Show a UserError as one line on stderr and exit 2; tracebacks are for bugs only."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UserError as exc:
            fail(str(exc))

    return wrapper


def open_project():
    from qualpipe.project import Project

    return Project(state.project_dir)


def parse_pairs(pairs: List[str], option: str) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UserError(f"{option} '{pair}': write it as KEY=VALUE")
        result[key.strip()] = value.strip()
    return result


def run_batch(input_path: Path, output_path: Path, process: Callable) -> int:
    """Open a JSONL batch and its output, run `process(stream, out, on_error)`; exit code 1 on bad lines."""
    if not input_path.is_file():
        raise UserError(f"{input_path}: no such file; check the --input path")
    from qualpipe.private_files import private_file

    # it quotes the entries: owner only, like the store; a run stopped half-way leaves no half output
    with input_path.open(encoding="utf-8-sig") as stream, private_file(output_path, "w") as out:
        errors = process(stream, out, lambda message: typer.echo(f"error: {message}", err=True))
    return 1 if errors else 0
