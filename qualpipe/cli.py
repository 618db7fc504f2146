"""The `qualpipe` command: a thin typer layer over `qualpipe.Project` (and, without a project, `qualpipe.engines`)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import List, Optional

import typer

from qualpipe.cli_common import app, fail, open_project, parse_pairs, run_batch, state, user_errors
from qualpipe.cli_research import register_research_commands
from qualpipe.cli_web import register_web_commands
from qualpipe.distributed import STAGES
from qualpipe.errors import UserError
from qualpipe.flagging.lexicon import load_lexicon
from qualpipe.output import Format, write_rows, write_status

def print_version(asked: bool) -> None:
    if asked:
        from qualpipe import __version__

        typer.echo(f"qualpipe {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    project: Path = typer.Option(
        Path("."), "--project", "-p", envvar="QUALPIPE_PROJECT", help="Project folder (holds qualpipe.toml)."
    ),
    log_level: str = typer.Option(
        "WARNING", "--log-level", help="DEBUG, INFO, WARNING or ERROR. Logs never hold text from the corpus."
    ),
    version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=lambda shown: print_version(shown),
        help="Print qualpipe's version and exit.",
    ),
) -> None:
    state.project_dir = project
    level = logging.getLevelName(log_level.upper())
    if not isinstance(level, int):
        fail(f"--log-level {log_level}: use DEBUG, INFO, WARNING or ERROR")
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


@app.command()
@user_errors
def init(
    directory: Optional[Path] = typer.Argument(None, help="Project folder to create (default: --project or .)."),
) -> None:
    """Create a project: a commented qualpipe.toml and an SQLite store readable by you only."""
    from qualpipe.project import Project

    with Project.init(directory or state.project_dir) as project:
        typer.echo(f"Project ready in {project.root} (store: {project.config.store_path})")


@app.command()
@user_errors
def ingest(
    paths: List[Path] = typer.Argument(..., help="Files and folders to ingest."),
    kind: str = typer.Option(..., "--kind", "-k", help="interview or logbook."),
    case: Optional[str] = typer.Option(
        None, "--case", help="Case id for every document (default: from rows or file names)."
    ),
    column: List[str] = typer.Option(
        [], "--column", help="Logbook column mapping FIELD=NAME, e.g. text=Beskrivelse (repeatable)."
    ),
    speaker: List[str] = typer.Option([], "--speaker", help="Speaker label to role, e.g. R=parent (repeatable)."),
    filename_pattern: Optional[str] = typer.Option(
        None, "--filename-pattern", help="Regex on file names with groups case and date."
    ),
) -> None:
    """Ingest interview transcripts (.txt .docx .vtt .srt) or logbooks (.csv .xlsx .jsonl)."""
    from qualpipe.progress import progress_bar

    columns = parse_pairs(column, "--column")
    speakers = parse_pairs(speaker, "--speaker")
    with open_project() as project, progress_bar(f"Ingesting {kind}s") as update:
        report = project.ingest(
            paths,
            kind,
            case_id=case,
            columns=columns,
            speakers=speakers,
            filename_pattern=filename_pattern,
            progress=update,
        )
    echo_ingest_report(report)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@user_errors
def reparse() -> None:
    """Re-read the stored documents with the current settings (a changed [speakers] map, cleaning): turns,
    speakers, roles and segments are derived again; codes, reviews and alerts stay. No need for a new project."""
    from qualpipe.progress import progress_bar

    with open_project() as project, progress_bar("Re-reading") as update:
        report = project.reparse(progress=update)
    typer.echo(
        f"{report.documents} document(s) re-read, {report.changed} changed: {report.segments_kept} segment(s) "
        f"kept, {report.segments_added} added, {report.segments_removed} removed"
    )
    if report.segments_removed or report.segments_added:
        typer.echo("run 'qualpipe code' to code the new segments", err=True)


def echo_ingest_report(report, err: bool = False) -> None:
    for message in report.errors:
        typer.echo(f"error: {message}", err=True)
    typer.echo(
        f"{report.files} file(s): {report.added} document(s) added, {report.new_versions} new version(s), "
        f"{report.unchanged} unchanged, {report.skipped_files} file(s) already ingested; "
        f"{report.segments} segment(s) stored; {len(report.errors)} error(s)",
        err=err,
    )


@app.command()
@user_errors
def status(fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    """Counts of cases, documents and segments (per kind, speaker role and language)."""
    with open_project() as project:
        write_status(project.status(), fmt)


@app.command()
@user_errors
def segments(
    case: Optional[str] = typer.Option(None, "--case", help="Only this case."),
    kind: Optional[str] = typer.Option(None, "--kind", help="interview or logbook."),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    all_versions: bool = typer.Option(False, "--all-versions", help="Include superseded document versions."),
    show_identities: bool = typer.Option(
        False, "--show-identities", help="Show names and other personal data (default: pseudonymised)."
    ),
) -> None:
    """List segments with case, speaker role, language and offsets (into the stored text)."""
    columns = ["id", "case_id", "kind", "date", "role", "speaker", "language", "start", "end", "text"]
    with open_project() as project:
        rows = project.segments(
            case_id=case, kind=kind, include_superseded=all_versions, show_identities=show_identities
        )
    write_rows(rows, columns, fmt)


@app.command()
@user_errors
def models(fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    """Embedding models qualpipe knows: name, backend, where the weights live, whether they are there."""
    from qualpipe.engines import known_models

    entries = known_models(state.project_dir)
    rows = [
        {
            "name": e.name,
            "backend": e.backend,
            "available": "yes" if e.available() else "no",
            "location": e.location(),
            "defined_in": e.origin,
            "description": e.description,
        }
        for e in entries.values()
    ]
    write_rows(rows, ["name", "backend", "available", "location", "defined_in", "description"], fmt)


@app.command()
@user_errors
def embed(
    model: Optional[str] = typer.Option(None, "--model", help="A model name or folder (default: [embedding] model)."),
) -> None:
    """Embed every current segment not yet embedded with the model (cached in the store)."""
    from qualpipe.progress import progress_bar

    with open_project() as project, progress_bar("Embedding") as update:
        segments, new, model_id = project.embed(model, progress=update)
    typer.echo(f"{segments} segment(s), {new} newly embedded text(s) with {model_id}")


code_app = typer.Typer(
    help="Code segments against the codebook (the trained coder, zero-shot for another codebook, or learned from "
    "human codes)."
)
app.add_typer(code_app, name="code")


@code_app.callback(invoke_without_command=True)
@user_errors
def code(
    ctx: typer.Context,
    learn: bool = typer.Option(
        False, "--learn", help="Fit per-code models on imported human codes; prints cross-validated agreement."
    ),
    input_path: Optional[Path] = typer.Option(
        None, "--input", help="Batch mode: JSONL lines with id, text and optional question (no project needed)."
    ),
    output_path: Optional[Path] = typer.Option(None, "--output", help="Batch mode: where to write the coded JSONL."),
    model: Optional[str] = typer.Option(None, "--model", help="Batch mode: embedding model (default e5-small-fast)."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Batch mode: a YAML or .qdc codebook."),
) -> None:
    """Code the project's segments, or a JSONL batch with --input/--output."""
    if ctx.invoked_subcommand is not None:
        return
    if input_path or output_path:
        if not (input_path and output_path):
            raise UserError("batch mode needs both --input IN.jsonl and --output OUT.jsonl")
        raise typer.Exit(code_batch_command(input_path, output_path, model, codebook))
    with open_project() as project:
        report = project.code(learn=learn)
    if learn:
        print_agreement(
            report.cv_agreement,
            f"Cross-validated agreement on {report.training_segments} human-coded segments (5-fold)",
        )
        if report.trained_agreement:
            from qualpipe.coding.metrics import macro_f1

            typer.echo(f"The trained coder on the same segments: macro-F1 {macro_f1(report.trained_agreement):.3f} "
                       f"({'kept' if report.method == 'trained' else 'replaced by the learned coder'})")
        for warning in report.warnings:
            typer.echo(f"warning: {warning}", err=True)
    for code in report.undefined:
        typer.echo(
            f"warning: code '{code}' has no definition or examples in the codebook: zero-shot reads only its "
            "name; add a definition, or code examples of it and run 'qualpipe code --learn'",
            err=True,
        )
    typer.echo(
        f"{report.segments} segment(s) coded ({report.method}, {report.model_id}): {report.codings} coding(s) stored"
    )


def code_batch_command(input_path: Path, output_path: Path, model: str | None, codebook_path: Path | None) -> int:
    from qualpipe.engines import EngineSettings, Engines
    from qualpipe.text.torchless import spacy_without_torch

    settings = EngineSettings.for_batch(model, codebook_path)
    spacy_without_torch((settings.pipeline,))  # before spaCy is imported, as a project does: the blank pipeline
    from qualpipe.coding.batch import code_batch
    from qualpipe.progress import progress_bar

    engines = Engines(settings)
    engine, nlp = engines.coding_engine(), engines.nlp()
    with progress_bar("Coding") as update:
        return run_batch(
            input_path,
            output_path,
            lambda stream, out, on_error: code_batch(engine, nlp, input_path, out, stream, on_error, update),
        )


def print_agreement(rows, title: str) -> None:
    from qualpipe.coding.metrics import macro_f1

    data = [
        {
            "code": r.code,
            "support": r.support,
            "predicted": r.predicted,
            "precision": f"{r.precision:.2f}",
            "recall": f"{r.recall:.2f}",
            "f1": f"{r.f1:.2f}",
            "kappa": f"{r.kappa:.2f}",
        }
        for r in rows
    ]
    data.append({"code": "macro-F1", "f1": f"{macro_f1(rows):.3f}"})
    write_rows(data, ["code", "support", "predicted", "precision", "recall", "f1", "kappa"], Format.table, title=title)


@code_app.command("train")
@user_errors
def code_train(
    logbooks: Optional[Path] = typer.Option(None, "--logbooks", help="Labelled logbook corpus (default: corpora/dev)."),
    interviews: Optional[Path] = typer.Option(
        None, "--interviews", help="Labelled interview corpus (default: corpora/interviews_dev)."
    ),
    seed: int = typer.Option(13, "--seed", help="Random seed; the same corpora and seed give the same weights."),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Where to save the model (qualpipe/data/theme_model.npz is the one qualpipe ships)."
    ),
) -> None:
    """Train the theme coder for the built-in codebook: fit on the train writers, calibrate on dev, report test."""
    from qualpipe.coding.training import train_and_save

    result = train_and_save(logbooks, interviews, output, seed=seed, progress=lambda m: typer.echo(m, err=True))
    figures = ", ".join(f"{source} {value:.2f}" for source, value in result.head.info["test_macro_f1"].items())
    typer.echo(
        f"{output}: trained (seed {seed}, C {result.head.C}); dev macro-F1 {result.dev['macro_f1']:.2f}; "
        f"test macro-F1: {figures}"
    )


@code_app.command("codebook")
@user_errors
def code_codebook(
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="codebook.csv (Taguette imports it) or codebook.qdc (REFI-QDA: NVivo, ATLAS.ti, MAXQDA, QualCoder).",
    ),
) -> None:
    """Write the project's codebook for a QDA program; reading one back is [coding] codebook = FILE (.yaml, .qdc,
    .csv)."""
    from qualpipe.coding.codebook import write_codebook_csv, write_codebook_qdc

    suffix = output.suffix.lower()
    if suffix not in (".csv", ".qdc"):
        raise UserError(f"{output}: write a .csv (Taguette) or a .qdc (REFI-QDA) codebook")
    with open_project() as project:
        codebook = project.codebook()
    (write_codebook_csv if suffix == ".csv" else write_codebook_qdc)(codebook, output)
    typer.echo(f"{output}: {len(codebook.codes)} code(s)")


@code_app.command("evaluate")
@user_errors
def code_evaluate(
    gold: Optional[Path] = typer.Option(
        None, "--gold", help="Human codes to score the machine against: CSV (segment_id, code) or JSONL (id, codes)."
    ),
    coder: Optional[list[str]] = typer.Option(
        None, "--coder", help="Only these coders (repeat); 'qualpipe' is the machine."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
) -> None:
    """Agreement as evaluators report it: per code precision, recall, F1 and Cohen's kappa between every two
    coders in the project (human-human and machine-human), Krippendorff's alpha for more than two; or the
    machine against a --gold file. A learned coder is never scored on the segments it learned from."""
    with open_project() as project:
        if gold is not None:
            rows, segments, errors = project.evaluate_gold(gold)
            for message in errors:
                typer.echo(f"error: {message}", err=True)
            print_agreement(rows, f"Machine codes against {gold.name} ({segments} segments)")
            return
        pairs, alphas = project.evaluate_coders(coder)

    def cell(value):
        return "n/a" if value is None else f"{value:.2f}"

    data = [
        {
            "coders": f"{p.a} / {p.b}",
            "segments": p.segments,
            "code": p.code,
            "precision": cell(p.precision),
            "recall": cell(p.recall),
            "f1": cell(p.f1),
            "kappa": cell(p.kappa),
        }
        for p in pairs
    ]
    write_rows(
        data,
        ["coders", "segments", "code", "precision", "recall", "f1", "kappa"],
        fmt,
        title="Agreement between coders (precision and recall of the first against the second)",
    )
    if alphas:
        write_rows(
            [{"coders": "all", "code": c, "alpha": cell(v)} for c, v in alphas.items()],
            ["coders", "code", "alpha"],
            fmt,
            title="Krippendorff's alpha over all coders",
        )


@app.command()
@user_errors
def review(
    limit: int = typer.Option(20, "--limit", help="How many segments to list (or to review with --as)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    show_identities: bool = typer.Option(
        False, "--show-identities", help="Show names and other personal data (default: pseudonymised)."
    ),
    coder: Optional[str] = typer.Option(
        None,
        "--as",
        help="Review in the terminal as this evaluator: y accepts the "
        "proposed code, n rejects it, 1-9 adds that code, Enter goes on, q stops.",
    ),
) -> None:
    """The review queue: uncoded segments whose codes are most uncertain, first. List them, or decide them with --as."""
    with open_project() as project:
        items = project.review_queue(limit, show_identities=show_identities)
        if coder is None:
            write_rows(items, ["segment_id", "case_id", "role", "code", "score", "uncertainty", "text"], fmt)
            return
        review_in_terminal(project, items, coder.strip())


def review_in_terminal(project, items, coder: str) -> None:
    """One keystroke per decision; each is stored at once (a stop loses nothing decided)."""
    if not coder:
        raise UserError("--as needs the evaluator's name")
    codes = project.codebook().codes
    menu = "  ".join(f"{n}={c.label_da}" for n, c in enumerate(codes[:9], 1))
    decided = 0
    for position, item in enumerate(items, 1):
        typer.echo(f"\n[{position}/{len(items)}] segment {item.segment_id} ({item.case_id or '-'}, {item.role})")
        typer.echo(f"  {item.text}")
        typer.echo(
            f"  Forslag: {project.codebook().get(item.code).label_da} ({item.score:.2f})   "
            f"y=ja  n=nej  {menu}  Enter=næste  q=stop"
        )
        while True:
            key = typer.getchar()
            if key in ("q", "Q"):
                typer.echo(f"{decided} decision(s) stored as {coder}")
                return
            if key in ("\r", "\n", " "):
                break
            if key in ("y", "n"):
                project.decide(item.segment_id, item.code, "yes" if key == "y" else "no", coder)
                decided += 1
                typer.echo(f"  {'accepted' if key == 'y' else 'rejected'}: {item.code}")
                break
            if key.isdigit() and 1 <= int(key) <= min(9, len(codes)):
                project.decide(item.segment_id, codes[int(key) - 1].id, "yes", coder)
                decided += 1
                typer.echo(f"  added: {codes[int(key) - 1].id}")
    typer.echo(f"{decided} decision(s) stored as {coder}")


@app.command("import")
@user_errors
def import_(
    path: Path = typer.Argument(..., help="A .qdpx project, or human codes as .csv/.jsonl."),
    coder: str = typer.Option("evaluator", "--coder", help="Coder name for CSV/JSONL rows without one."),
) -> None:
    """Import human codings (from a QDA program's .qdpx, or a CSV/JSONL file) for --learn and evaluation."""
    if not path.is_file():
        raise UserError(f"{path}: no such file; check the path")
    with open_project() as project:
        if path.suffix.lower() == ".qdpx":
            report = project.import_qdpx(path)
            for name in report.unmatched_sources:
                typer.echo(
                    f"error: {path}: source '{name}' matches no document in this project; ingest it first", err=True
                )
            if report.unknown_codes:
                typer.echo(
                    f"warning: codes not in the codebook kept under their own names: {sorted(report.unknown_codes)}",
                    err=True,
                )
            if report.machine_codings_new:
                typer.echo(
                    f"warning: {report.machine_codings_new} coding(s) under the machine's name "
                    f"('qualpipe (maskine)') were not made by qualpipe: an evaluator may have coded as the "
                    "machine; select your own name as coder in the QDA program and export again",
                    err=True,
                )
            how = ", ".join(f"{n} by {way}" for way, n in sorted(report.matched_by.items()))
            typer.echo(
                f"{report.matched_sources}/{report.sources} source(s) matched ({how or 'none'}); "
                f"{report.human_codings} new human coding(s); {report.rejected_machine_codes} machine code(s) "
                f"removed by the evaluator (stored as their 'no'); "
                f"{report.machine_codings_skipped} qualpipe coding(s) skipped"
            )
            failed = bool(report.unmatched_sources)
        else:
            report = project.import_human_codes(path, coder)
            for message in report.errors:
                typer.echo(f"error: {message}", err=True)
            typer.echo(f"{report.codings} new human coding(s), {report.reviewed} newly reviewed segment(s)")
            failed = bool(report.errors)
    if failed:
        raise typer.Exit(1)


@app.command()
@user_errors
def export(
    fmt: str = typer.Option("qdpx", "--format", "-f", help="qdpx (REFI-QDA), csv or xlsx."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="File to write (default: export.<format> in the project)."
    ),
    kind: Optional[str] = typer.Option(None, "--kind", help="qdpx: only interview or logbook documents."),
    show_identities: bool = typer.Option(
        False, "--show-identities", help="Export names and other personal data (default: pseudonymised)."
    ),
    logbook_entries: bool = typer.Option(
        False,
        "--logbook-entries",
        help="qdpx: one source per logbook entry (default: one per case, its entries in date order).",
    ),
) -> None:
    """Export codings: a REFI-QDA project for NVivo/ATLAS.ti/MAXQDA/QualCoder, or a CSV/XLSX table."""
    with open_project() as project:
        path, report = project.export(
            fmt, output, kind=kind, show_identities=show_identities, logbook_entries=logbook_entries
        )
    if fmt == "qdpx":
        typer.echo(
            f"{path}: {report.sources} source(s), {report.cases} case(s), {report.selections} selection(s), "
            f"{report.codings} coding(s)"
        )
    else:
        typer.echo(f"{path}: {report} coded segment row(s)")


flag_app = typer.Typer(help="Concern flags on logbook entries, and training the learned concern detector.")
app.add_typer(flag_app, name="flag")


@flag_app.callback(invoke_without_command=True)
@user_errors
def flag(
    ctx: typer.Context,
    input_path: Optional[Path] = typer.Option(
        None, "--input", help="Batch mode: JSONL lines with id, text, optional case_id and date."
    ),
    output_path: Optional[Path] = typer.Option(None, "--output", help="Batch mode: where to write the flagged JSONL."),
) -> None:
    """Flag concerns in logbook entries not flagged before, or in a JSONL batch with --input/--output."""
    if ctx.invoked_subcommand is not None:
        return
    if input_path or output_path:
        if not (input_path and output_path):
            raise UserError("batch mode needs both --input IN.jsonl and --output OUT.jsonl")
        raise typer.Exit(flag_batch_command(input_path, output_path))
    with open_project() as project:
        report = project.flag_new_entries()
    typer.echo(
        f"{report.entries} new entr(y/ies) flagged: {report.alerts} alert(s); {report.raised} raised by case rules"
    )


# The labelled logbook corpus and the seed, shared by the commands that train on it.
CORPUS_OPTION = typer.Option(None, "--corpus", help="The labelled corpus (default: corpora/dev of a source checkout).")
SEED_OPTION = typer.Option(13, "--seed", help="Random seed; the same corpus and seed give the same weights.")


@flag_app.command("train")
@user_errors
def flag_train(
    corpus: Optional[Path] = CORPUS_OPTION,
    seed: int = SEED_OPTION,
    with_feedback: bool = typer.Option(
        False,
        "--with-feedback",
        help="Add this project's coordinator decisions (alerts dismiss / alerts add) to the training data.",
    ),
    output: Optional[Path] = typer.Option(
        None,
        "--output",
        "-o",
        help="Where to save the model (default: the project's models/concern_model.npz, which its flagger then uses).",
    ),
) -> None:
    """Train the concern detector: fit on the corpus's train split, calibrate on dev, report test figures."""
    from qualpipe.flagging.training import train_and_save

    project = open_project() if with_feedback or output is None else None
    try:
        target = output or project.concern_model_path()
        result = train_and_save(
            corpus,
            target,
            seed=seed,
            store=project.store if with_feedback else None,
            progress=lambda m: typer.echo(m, err=True),
        )
    finally:
        if project is not None:
            project.close()
    micro, urgent = result.test["micro"], result.test["urgent"]
    lexicon = ", ".join(result.head.info["lexicon_alerts"]) or "none"
    typer.echo(
        f"{target}: trained (seed {seed}, C {result.head.C}, lexicon alerts for: {lexicon}, "
        f"{result.feedback} coordinator label(s)); test split: P {micro['precision']:.2f} R {micro['recall']:.2f} "
        f"F1 {micro['f1']:.2f}, urgent {urgent['tp']}/{urgent['tp'] + urgent['fn']} found, "
        f"{urgent['fp']} false urgent, {result.test['check_entries']} in the check band"
    )


@flag_app.command("train-boundaries")
@user_errors
def flag_train_boundaries(
    corpus: Optional[Path] = CORPUS_OPTION,
    seed: int = SEED_OPTION,
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Where to save it (default: the shipped qualpipe/data/sentence_boundaries.npz)."
    ),
) -> None:
    """Train the sentence boundary model for text typed without full stops (then retrain flag and code)."""
    from qualpipe.text.boundaries import MODEL_FILE
    from qualpipe.text.boundary_training import train_and_save_boundaries

    output = output or MODEL_FILE
    result = train_and_save_boundaries(corpus, output, seed=seed, progress=lambda m: typer.echo(m, err=True))
    plain = result.dev["plain"]
    typer.echo(
        f"{output}: trained (seed {seed}, C {result.C}, threshold {result.model.threshold}); dev entries typed "
        f"without punctuation: sentence starts P {plain['precision']:.2f} R {plain['recall']:.2f} F1 {plain['f1']:.2f}"
    )


def flag_batch_command(input_path: Path, output_path: Path) -> int:
    from qualpipe.engines import Engines
    from qualpipe.text.torchless import spacy_without_torch

    engines = Engines()
    spacy_without_torch((engines.settings.pipeline,))  # before spaCy is imported, as a project does
    from qualpipe.flagging.batch import flag_batch

    flagger = engines.flagger()
    return run_batch(
        input_path, output_path, lambda stream, out, on_error: flag_batch(flagger, input_path, stream, out, on_error)
    )


alerts_app = typer.Typer(help="The coordinator's weekly digest of logbook concerns, and handling alerts.")
app.add_typer(alerts_app, name="alerts")


@alerts_app.callback(invoke_without_command=True)
@user_errors
def alerts(
    ctx: typer.Context,
    week: Optional[str] = typer.Option(
        None, "--week", help="ISO week, e.g. 2024-W10 (default: the last complete week)."
    ),
    fmt: str = typer.Option("terminal", "--format", "-f", help="terminal, markdown, html, json or eml."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Write to this file instead of standard output."
    ),
    to: List[str] = typer.Option([], "--to", help="eml/--send: recipient (repeatable; default: [digest] to)."),
    sender: Optional[str] = typer.Option(None, "--from", help="eml/--send: sender (default: [digest] from)."),
    show_identities: bool = typer.Option(
        False, "--show-identities", help="Show names and other personal data (default: pseudonymised)."
    ),
    ingest_paths: List[Path] = typer.Option(
        [],
        "--ingest",
        help="Ingest these logbook files or folders first, in the "
        "same run (the weekly run in one command; repeatable).",
    ),
    column: List[str] = typer.Option(
        [], "--column", help="With --ingest: column mapping FIELD=NAME, e.g. text=Beskrivelse."
    ),
    send: bool = typer.Option(
        False, "--send", help="Also send the digest as e-mail over SMTP ([smtp] in qualpipe.toml)."
    ),
) -> None:
    """Build the weekly digest: cases by severity, the sentences that say why, quiet cases in one line.

    With --ingest, new logbook entries are ingested first and the models load once for both steps. Files
    that fail are named at the top of the digest (and the e-mail's subject), and the exit code is 1."""
    if ctx.invoked_subcommand is not None:
        return
    ok = weekly_run(week, fmt, output, to, sender, show_identities, ingest_paths, parse_pairs(column, "--column"), send)
    if not ok:
        raise typer.Exit(1)  # the digest is written; what failed is named in it and above


def weekly_run(week, fmt, output, to, sender, show_identities, ingest_paths, columns, send) -> bool:
    """Ingest (optional), flag, build and write the digest, send it (optional). False when anything failed."""
    ingested = None
    with open_project() as project:  # first: it decides whether spaCy may bring torch (qualpipe.text.torchless)
        if ingest_paths or project.store.has_unflagged_entries():
            project.start_loading_flagger()  # its models load while spaCy is imported and new entries ingested
        from qualpipe.flagging.alerts import parse_week
        from qualpipe.flagging.render import FORMATS

        week = parse_week(week) if week else None
        if fmt not in FORMATS:
            raise UserError(f"--format {fmt}: use one of {', '.join(sorted(FORMATS))}")
        recipients, sender = mail_parties(project.config, to, sender)
        if ingest_paths:
            ingested = project.ingest(ingest_paths, "logbook", columns=columns)
            echo_ingest_report(ingested, err=True)  # standard output may be the digest itself
        digest = project.weekly_digest(week, show_identities=show_identities)
        if send and output is None:  # what is sent is also kept, so a failed send loses nothing
            output = project.root / "digests" / f"digest-{digest.week}.eml"  # written 0600 in a folder made 0700
            fmt = "eml"
        write_digest(digest, fmt, output, recipients, sender)
        if send:
            sent = send_digest(project, digest, recipients, sender)
            if not sent:
                return False
    if digest.screening_error:
        typer.echo(
            f"error: new logbook entries could not be screened ({digest.screening_error}); the digest says so "
            "and calls no case calm",
            err=True,
        )
    return (ingested is None or ingested.ok) and not digest.failures and not digest.screening_error


def mail_parties(config, to: list[str], sender: str | None) -> tuple[list[str], str]:
    from qualpipe.config import EMAIL

    recipients = list(to) or list(config.digest_to) or ["koordinator@example.org"]
    sender = sender or config.digest_from
    for address in [*recipients, sender]:
        if not EMAIL.fullmatch(address):
            raise UserError(f"--to/--from {address!r}: not one e-mail address; write it as name@example.org")
    return recipients, sender


def send_digest(project, digest, recipients: list[str], sender: str) -> bool:
    try:
        project.send_digest(digest, recipients, sender)
    except UserError as exc:
        typer.echo(f"error: {exc}; the digest is not marked as sent", err=True)
        return False
    typer.echo(f"digest for {digest.week} sent to {', '.join(recipients)}", err=True)
    return True


@alerts_app.command("send")
@user_errors
def alerts_send(
    week: Optional[str] = typer.Option(None, "--week", help="ISO week (default: the last complete week)."),
    to: List[str] = typer.Option([], "--to", help="Recipient (repeatable; default: [digest] to)."),
    sender: Optional[str] = typer.Option(None, "--from", help="Sender (default: [digest] from)."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Also keep the e-mail here (default: digests/ in the project)."
    ),
) -> None:
    """Send the week's digest by e-mail over SMTP with STARTTLS ([smtp] in qualpipe.toml), pseudonymised."""
    if not weekly_run(week, "eml", output, to, sender, False, [], {}, True):
        raise typer.Exit(1)


def write_digest(digest, fmt: str, output: Path | None, to: list[str], sender: str) -> None:
    from qualpipe.flagging import render

    if fmt == "terminal" and output is None:
        render.print_terminal(digest)
        return
    data = render.digest_bytes(digest, fmt, to=to, sender=sender)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        from qualpipe.private_files import write_private

        write_private(output, data)
        typer.echo(
            f"{output}: digest for {digest.week} ({len(digest.cases)} case(s) needing attention"
            + (f"; {len(digest.failures)} input(s) could not be read" if digest.failures else "")
            + ")",
            err=True,
        )


@alerts_app.command("dismiss")
@user_errors
def alerts_dismiss(
    alert_id: int = typer.Argument(..., help="The alert's id as the digest shows it (#12)."),
    reason: str = typer.Option(..., "--reason", help="Why it is a false alarm."),
    by: str = typer.Option(..., "--by", help="Who decided."),
) -> None:
    """A false alarm: the alert is closed and kept as a label that 'flag train --with-feedback' learns from."""
    with open_project() as project:
        project.dismiss(alert_id, reason=reason, by=by)
    typer.echo(f"alert #{alert_id} dismissed as a false alarm")


@alerts_app.command("add")
@user_errors
def alerts_add(
    entry_id: str = typer.Argument(..., help="The logbook entry's id (as in the logbook file)."),
    category: str = typer.Option(..., "--category", help=f"The category: {', '.join(load_lexicon().category_ids)}."),
    severity: str = typer.Option(..., "--severity", help=f"{', '.join(reversed(load_lexicon().severities))}."),
    by: str = typer.Option(..., "--by", help="Who decided."),
    note: str = typer.Option("", "--note", help="What was done or why."),
) -> None:
    """A concern the detector missed: stored as handled by you, and as a label for 'flag train --with-feedback'."""
    with open_project() as project:
        alert_id = project.add_concern(entry_id, category=category, severity=severity, by=by, note=note)
    typer.echo(f"entry {entry_id}: {category} ({severity}) added as alert #{alert_id}")


@alerts_app.command("ack")
@user_errors
def alerts_ack(
    ids: List[int] = typer.Argument(None, help="Alert ids as the digest shows them (#12)."),
    by: str = typer.Option(..., "--by", help="Who handled it."),
    note: str = typer.Option(..., "--note", help='What was done, e.g. "underretning sendt".'),
    case: Optional[str] = typer.Option(None, "--case", help="Acknowledge every open alert of this case."),
) -> None:
    """Record that alerts were handled, by whom and what was done; they then show under "Håndteret"."""
    with open_project() as project:
        done, already = project.acknowledge(ids or [], by=by, note=note, case_id=case)
    typer.echo(
        f"{len(done)} alert(s) acknowledged"
        + (f"; already handled before: {', '.join(map(str, already))}" if already else "")
    )


@app.command()
@user_errors
def run(
    engine: str = typer.Option("local", "--engine", help="local (this process) or dask (dask.distributed)."),
    scheduler: Optional[str] = typer.Option(
        None,
        "--scheduler",
        help="Address of an existing Dask scheduler, e.g. "
        "tls://10.0.0.5:8786 (default with --engine dask: a local cluster).",
    ),
    workers: int = typer.Option(2, "--workers", help="Worker processes of the local Dask cluster."),
    stage: List[str] = typer.Option(list(STAGES), "--stage", help="embed, code, flag (repeatable; default: all)."),
    partition_size: int = typer.Option(2000, "--partition-size", help="Segments (or entries) per partition."),
) -> None:
    """Embed what is new, code every segment (as 'qualpipe code' does), flag new logbook entries; optionally on Dask."""
    from qualpipe.distributed import make_executor

    executor = make_executor(engine, scheduler, workers)
    try:
        with open_project() as project:
            report = project.run_stages(executor, stage, partition_size)
    finally:
        executor.close()
    typer.echo(
        f"{report.engine}: {report.embedded} text(s) embedded, {report.coded_segments} segment(s) coded "
        f"({report.codings} coding(s)), {report.flagged_entries} entr(y/ies) flagged ({report.alerts} new alert(s)) "
        f"in {report.partitions} partition(s)"
    )


@app.command()
@user_errors
def pseudonymise(
    paths: List[Path] = typer.Argument(..., help=".txt, .vtt, .srt or .jsonl files (field text)."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder for the pseudonymised copies."),
    style: str = typer.Option("tag", "--style", help="tag ([NAVN-1]) or name (a substitute first name)."),
    key: Optional[Path] = typer.Option(
        None, "--key", help="Also write the re-identification key here (kept apart; 0600)."
    ),
    institution: List[str] = typer.Option([], "--institution", help="An institution name to replace (repeatable)."),
) -> None:
    """Write pseudonymised copies of plain files: names, CPR, phones, e-mails, addresses, institutions."""
    from qualpipe.privacy.pseudonymise import Pseudonymiser, pseudonymise_files

    pseudonymiser = Pseudonymiser(style=style, institutions=tuple(institution))
    written, errors = pseudonymise_files(paths, output, pseudonymiser)
    for message in errors:
        typer.echo(f"error: {message}", err=True)
    if key is not None:
        if key.resolve().parent == output.resolve():
            raise UserError(f"--key {key}: keep the key apart from the pseudonymised files; choose another folder")
        pseudonymiser.write_key(key)
    typer.echo(f"{len(written)} file(s) written to {output}; {len(errors)} error(s)")
    if errors:
        raise typer.Exit(1)


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


# Commands for researchers (topics, tables, reports) live in their own module, and so do the web app's.
register_research_commands(app)
register_web_commands(app)


if __name__ == "__main__":  # pragma: no cover
    app()
