"""The README demo: a project on the shipped sample corpus, ingested, coded, flagged, topic-modelled, reported."""

from __future__ import annotations

from pathlib import Path

import typer

from qualpipe.errors import UserError
from qualpipe.private_files import private_dir, write_private


def run_demo(corpus: Path, directory: Path) -> bool:
    """Create (or reuse) the demo project, ingest the sample corpus, print the summary."""
    from qualpipe.output import Format, write_status
    from qualpipe.progress import progress_bar
    from qualpipe.project import Project

    interviews, logbooks = corpus / "interviews", corpus / "logbooks"
    if not interviews.is_dir() or not logbooks.is_dir():
        raise UserError(
            f"{corpus}: no sample corpus here (expected interviews/ and logbooks/); run from the repository root"
        )
    private_dir(directory)
    # The corpus ships the project settings an evaluator would write for it (file-name pattern, speakers).
    corpus_config = corpus / "qualpipe.toml"
    if corpus_config.is_file() and not (directory / "qualpipe.toml").exists():
        write_private(directory / "qualpipe.toml", corpus_config.read_bytes())
    ok = True
    with Project.init(directory) as project:
        for kind, folder in (("interview", interviews), ("logbook", logbooks)):
            with progress_bar(f"Ingesting {kind}s") as update:
                report = project.ingest([folder], kind, progress=update)
            for message in report.errors:
                typer.echo(f"error: {message}", err=True)
            ok = ok and report.ok
            typer.echo(
                f"{kind}s: {report.files} file(s), {report.added} document(s) added, "
                f"{report.unchanged} unchanged, {report.skipped_files} file(s) already ingested"
            )
        write_status(project.status(), Format.table)
        ok = code_and_exchange(project) and ok
        show_digest(project, DEMO_WEEK)
        topics_and_report(project)
    return ok


# The sample logbooks run from 2024-W02 to 2024-W12; W06 holds a disclosure and a run of cancellations.
DEMO_WEEK = "2024-W06"


def show_digest(project, week: str) -> None:
    """Print the coordinator's digest of one week of the sample logbooks and write its HTML beside it."""
    from qualpipe.flagging import render

    digest = project.weekly_digest(week)
    render.print_terminal(digest)
    path = project.root / f"digest-{week}.html"
    write_private(path, render.to_html(digest))
    typer.echo(f"{path}: the same digest as a self-contained HTML page")


def topics_and_report(project) -> None:
    """Fit topics on the sample corpus (reused when unchanged), show the topic table, write the HTML report."""
    from qualpipe.output import Format, write_rows
    from qualpipe.views.tables import records

    run_id = project.fit_topics()
    run = project.topic_runs.info(run_id)
    table = records(project.topic_table(run_id))
    write_rows(
        [{**t, "representative": (t["representative"] or [""])[0]} for t in table if t["topic"] >= 0][:8],
        ["topic", "size", "theme", "words", "representative"],
        Format.table,
        title=f"topic run {run_id}: {run['n_topics']} topics, NPMI {run['npmi']}, diversity {run['diversity']} "
        "(largest 8; pseudonymised)",
    )
    path = project.root / "report.html"
    write_private(path, project.report(run_id))
    typer.echo(f"{path}: themes × cases, topics over time and every case, pseudonymised")


def code_and_exchange(project) -> bool:
    """Code the segments (the trained coder, by default), export a REFI-QDA project and read it back."""
    from qualpipe.output import Format, write_rows

    report = project.code()
    typer.echo(f"coded {report.segments} segment(s) ({report.method}) with {report.model_id}: "
               f"{report.codings} coding(s)")
    counts = project.machine_code_counts()
    write_rows(
        [{"code": c, "interview": 0, "logbook": 0, **counts.get(c, {})} for c in project.codebook().ids],
        ["code", "interview", "logbook"],
        Format.table,
        title="machine codes per theme",
    )
    path = project.root / "export.qdpx"
    path, exported = project.export("qdpx", path)
    back = project.import_qdpx(path)
    typer.echo(
        f"{path}: {exported.sources} source(s), {exported.codings} coding(s); re-import matched "
        f"{back.matched_sources}/{back.sources} source(s) and {back.machine_codings_skipped} coding(s)"
    )
    return back.matched_sources == back.sources
