"""The `qualpipe` command: a thin typer layer over `qualpipe.Project`."""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path
from typing import Callable, List, Optional

import typer

from qualpipe.errors import UserError
from qualpipe.output import Format, write_rows

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


@app.callback()
def main(
    project: Path = typer.Option(Path("."), "--project", "-p", envvar="QUALPIPE_PROJECT", help="Project folder (holds qualpipe.toml)."),
    log_level: str = typer.Option("WARNING", "--log-level", help="DEBUG, INFO, WARNING or ERROR. Logs never hold text from the corpus."),
) -> None:
    state.project_dir = project
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


@app.command()
@user_errors
def init(directory: Optional[Path] = typer.Argument(None, help="Project folder to create (default: --project or .).")) -> None:
    """Create a project: a commented qualpipe.toml and an SQLite store readable by you only."""
    from qualpipe.project import Project

    with Project.init(directory or state.project_dir) as project:
        typer.echo(f"Project ready in {project.root} (store: {project.config.store_path})")


@app.command()
@user_errors
def ingest(
    paths: List[Path] = typer.Argument(..., help="Files and folders to ingest."),
    kind: str = typer.Option(..., "--kind", "-k", help="interview or logbook."),
    case: Optional[str] = typer.Option(None, "--case", help="Case id for every document (default: from rows or file names)."),
    column: List[str] = typer.Option([], "--column", help="Logbook column mapping FIELD=NAME, e.g. text=Beskrivelse (repeatable)."),
    speaker: List[str] = typer.Option([], "--speaker", help="Speaker label to role, e.g. R=parent (repeatable)."),
    filename_pattern: Optional[str] = typer.Option(None, "--filename-pattern", help="Regex on file names with groups case and date."),
) -> None:
    """Ingest interview transcripts (.txt .docx .vtt .srt) or logbooks (.csv .xlsx .jsonl)."""
    from qualpipe.progress import progress_bar

    columns = parse_pairs(column, "--column")
    speakers = parse_pairs(speaker, "--speaker")
    with open_project() as project, progress_bar(f"Ingesting {kind}s") as update:
        report = project.ingest(
            paths, kind, case_id=case, columns=columns, speakers=speakers,
            filename_pattern=filename_pattern, progress=update,
        )
    for message in report.errors:
        typer.echo(f"error: {message}", err=True)
    typer.echo(
        f"{report.files} file(s): {report.added} document(s) added, {report.new_versions} new version(s), "
        f"{report.unchanged} unchanged, {report.skipped_files} file(s) already ingested; "
        f"{report.segments} segment(s) stored; {len(report.errors)} error(s)"
    )
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@user_errors
def status(fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    """Counts of cases, documents and segments (per kind, speaker role and language)."""
    with open_project() as project:
        print_status(project.status(), fmt)


def print_status(summary, fmt: Format) -> None:
    rows = [("cases", "", summary.cases)]
    rows += [("documents", kind, n) for kind, n in sorted(summary.documents.items())]
    if summary.superseded_versions:
        rows.append(("superseded versions (kept)", "", summary.superseded_versions))
    rows += [("segments", f"kind={k}", n) for k, n in summary.segments_by_kind.items()]
    rows += [("segments", f"role={k}", n) for k, n in summary.segments_by_role.items()]
    rows += [("segments", f"language={k}", n) for k, n in summary.segments_by_language.items()]
    write_rows(
        [{"what": w, "group": g, "count": n} for w, g, n in rows], ["what", "group", "count"], fmt, title="qualpipe status"
    )


@app.command()
@user_errors
def segments(
    case: Optional[str] = typer.Option(None, "--case", help="Only this case."),
    kind: Optional[str] = typer.Option(None, "--kind", help="interview or logbook."),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    all_versions: bool = typer.Option(False, "--all-versions", help="Include superseded document versions."),
) -> None:
    """List segments with case, speaker role, language and offsets."""
    columns = ["id", "case_id", "kind", "date", "role", "speaker", "language", "start", "end", "text"]
    with open_project() as project:
        rows = project.segments(case_id=case, kind=kind, include_superseded=all_versions)
    write_rows(rows, columns, fmt)


@app.command()
@user_errors
def demo(
    corpus: Path = typer.Option(Path("corpora"), "--corpus", help="The sample corpus folder."),
    directory: Path = typer.Option(Path("demo-project"), "--dir", help="Where to create the demo project."),
) -> None:
    """Run the main job on the shipped sample corpus and print a summary."""
    from qualpipe.demo import run_demo

    ok = run_demo(corpus, directory)
    if not ok:
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    app()
