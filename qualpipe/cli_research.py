"""Commands for researchers: topic runs, codes and topics per case/role/kind/week, figures and HTML reports."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

from qualpipe.cli_common import open_project, run_batch, user_errors
from qualpipe.output import Format, write_rows
from qualpipe.private_files import write_private

topics_app = typer.Typer(help="Topic models (BERTopic) on the cached embeddings, reproducible and stored per run.")
table_app = typer.Typer(help="Codes or topics per case, speaker role, kind of text, ISO week or month.")

RUN_HELP = "A topic run id from 'qualpipe topics list' (default: the latest run)."
IDENTITIES_HELP = "Show quotes as written, with names (default: pseudonymised)."


def _write_topic_table(project, run_id: int, fmt: Format, show_identities: bool) -> None:
    from qualpipe.views.tables import records

    frame = project.topic_table(run_id, show_identities=show_identities)
    rows = records(frame)
    if fmt is not Format.jsonl:
        rows = [{**r, "representative": " | ".join(r["representative"])} for r in rows]
    write_rows(rows, list(frame.columns), fmt, title=f"topic run {run_id}")


@topics_app.callback(invoke_without_command=True)
@user_errors
def topics(
    ctx: typer.Context,
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed on the same store gives the same topics."),
    min_topic_size: Optional[int] = typer.Option(
        None, "--min-topic-size", help="Smallest cluster that becomes a topic (default: 6, or 1 in 400 segments)."
    ),
    guided: bool = typer.Option(False, "--guided", help="Seed topics with the codebook's cues (guided BERTopic)."),
    reduce_outliers: bool = typer.Option(
        True,
        "--reduce-outliers/--keep-outliers",
        help="Give outlier segments their nearest topic (the raw cluster is kept).",
    ),
    outlier_threshold: float = typer.Option(
        0.0, "--outlier-threshold", help="Least cosine to a topic centroid to take it."
    ),
    refit: bool = typer.Option(False, "--refit", help="Store a new run even if an identical one exists."),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    show_identities: bool = typer.Option(False, "--show-identities", help=IDENTITIES_HELP),
) -> None:
    """Fit topics on the current (non-interviewer) segments and store the run; prints the topic table."""
    if ctx.invoked_subcommand is not None:
        return
    from qualpipe.topics.model import TopicParams

    params = TopicParams(
        seed=seed,
        min_topic_size=min_topic_size,
        guided=guided,
        reduce_outliers=reduce_outliers,
        outlier_threshold=outlier_threshold,
    )
    with open_project() as project:
        started = time.perf_counter()
        run_id = project.fit_topics(
            params,
            refit=refit,
            stage=lambda message: typer.echo(f"[{time.perf_counter() - started:5.0f} s] {message}", err=True),
        )
        _write_topic_table(project, run_id, fmt, show_identities)
        run = project.topic_runs.info(run_id)
    typer.echo(f"topic run {run_id}: NPMI {run['npmi']}, diversity {run['diversity']}", err=True)


@topics_app.command("list")
@user_errors
def topics_list(fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    """Stored topic runs with their parameters, model ids, coherence (NPMI) and diversity."""
    with open_project() as project:
        rows = project.topic_runs.rows()
    write_rows(
        rows,
        ["id", "created_at", "model_id", "params", "n_segments", "n_topics", "npmi", "diversity", "model_path"],
        fmt,
    )


@topics_app.command("show")
@user_errors
def topics_show(
    run_id: Optional[int] = typer.Argument(None, help=RUN_HELP),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    show_identities: bool = typer.Option(False, "--show-identities", help=IDENTITIES_HELP),
) -> None:
    """The topic table: id, size, label, codebook theme, top words and representative segments."""
    with open_project() as project:
        _write_topic_table(project, project.topic_runs.resolve(run_id), fmt, show_identities)


@topics_app.command("assign")
@user_errors
def topics_assign(
    run_id: int = typer.Argument(..., help="A topic run id from 'qualpipe topics list'."),
    input_path: Path = typer.Option(..., "--input", help="JSONL lines with id and text."),
    output_path: Path = typer.Option(..., "--output", help="JSONL lines with id, topic and probability."),
) -> None:
    """Label new text with a stored run's topics, without refitting."""
    from qualpipe.coding.batch import read_batch

    def process(stream, out, on_error) -> int:
        items = list(read_batch(input_path, stream))
        good = [r for _, r, e in items if e is None]
        with open_project() as project:
            assigned = iter(project.assign_topics(run_id, [r["text"] for r in good]))
        for _, record, error in items:
            if error:
                on_error(error)
            result = None if error else next(assigned)
            out.write(
                json.dumps(
                    {
                        "id": record.get("id") if record else None,
                        "topic": result.topic if result else None,
                        "probability": result.probability if result else None,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        return sum(1 for _, _, e in items if e)

    raise typer.Exit(run_batch(input_path, output_path, process))


@topics_app.command("figures")
@user_errors
def topics_figures(
    run_id: Optional[int] = typer.Argument(None, help=RUN_HELP),
    output: Path = typer.Option(Path("figures"), "--output", "-o", help="Folder for the HTML and PNG figures."),
) -> None:
    """BERTopic's interactive figures (HTML, with a local plotly.js) and static PNGs for a run."""
    with open_project() as project:
        written = project.write_topic_figures(run_id, output)
    for path in written:
        typer.echo(str(path))


@table_app.command("codes")
@user_errors
def table_codes(
    by: str = typer.Option("case", "--by", help="case, role, kind, week or month."),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
) -> None:
    """Segments coded with each theme per group, and their share of the group's segments."""
    from qualpipe.views.tables import records

    with open_project() as project:
        frame = project.codes_by(by)
    write_rows(records(frame), list(frame.columns), fmt, title=f"codes by {by}")


@table_app.command("topics")
@user_errors
def table_topics(
    by: str = typer.Option("case", "--by", help="case, role, kind, week or month."),
    run_id: Optional[int] = typer.Option(None, "--run", help=RUN_HELP),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
) -> None:
    """Segments in each topic of a run per group, and their share of the group's segments."""
    from qualpipe.views.tables import records

    with open_project() as project:
        run_id = project.topic_runs.resolve(run_id)
        frame = project.topics_by(by, run_id)
    write_rows(records(frame), list(frame.columns), fmt, title=f"topics of run {run_id} by {by}")


@user_errors
def report(
    output: Path = typer.Option(Path("report.html"), "--output", "-o", help="The HTML file to write."),
    run_id: Optional[int] = typer.Option(None, "--run", help=RUN_HELP),
    no_topics: bool = typer.Option(False, "--no-topics", help="Leave topics out (themes and concerns only)."),
    show_identities: bool = typer.Option(False, "--show-identities", help=IDENTITIES_HELP),
) -> None:
    """A self-contained HTML report: themes × cases, topics over time, topic table, and every case."""
    with open_project() as project:
        html = project.report(project.report_run(run_id, no_topics=no_topics), show_identities=show_identities)
    write_private(output, html)
    typer.echo(f"report written to {output}")


@user_errors
def case(
    case_id: str = typer.Argument(..., help="A case id, as in 'qualpipe table codes --by case'."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="The HTML file (default: case-ID.html)."),
    run_id: Optional[int] = typer.Option(None, "--run", help=RUN_HELP),
    no_topics: bool = typer.Option(False, "--no-topics", help="Leave topics out."),
    show_identities: bool = typer.Option(False, "--show-identities", help=IDENTITIES_HELP),
) -> None:
    """One case over time: themes and topics, concerns and cancellations, representative quotes (HTML)."""
    with open_project() as project:
        html = project.case_report(
            case_id, project.report_run(run_id, no_topics=no_topics), show_identities=show_identities
        )
    output = output or Path(f"case-{case_id}.html")
    write_private(output, html)
    typer.echo(f"case report written to {output}")


def register_research_commands(app: typer.Typer) -> None:
    """Add the researchers' commands to the `qualpipe` app: topics, table, report and case."""
    app.add_typer(topics_app, name="topics")
    app.add_typer(table_app, name="table")
    app.command()(report)
    app.command()(case)
