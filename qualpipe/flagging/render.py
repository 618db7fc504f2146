"""The weekly digest as terminal output, Markdown, self-contained HTML, JSON and a ready-to-send .eml."""

from __future__ import annotations

import json
from dataclasses import asdict
from email.message import EmailMessage
from email.utils import format_datetime
import datetime as dt

from qualpipe.flagging.alerts import Digest

TREND_DA = {"rising": "stigende", "falling": "faldende", "steady": "uændret"}
NOTIFY = ("Underretningspligt: Mindst én sag rummer mulig vold, overgreb eller selvskade. Overvej straks, "
          "om der skal sendes en underretning til kommunen (serviceloven).")


def to_json(digest: Digest) -> str:
    return json.dumps(asdict(digest), ensure_ascii=False, indent=2)


def to_markdown(digest: Digest) -> str:
    lines = [f"# Ugentlig oversigt over logbøger — {digest.week}", "",
             f"{digest.start} til {digest.end} · {len(digest.cases)} sag(er) kræver opmærksomhed", ""]
    if digest.notify_reminder:
        lines += [f"> **{NOTIFY}**", ""]
    for case in digest.cases:
        lines += [f"## {case.case_id} — {case.severity.upper()}", "",
                  f"Aflysninger de seneste 8 uger: {case.cancellations_8_weeks} ({TREND_DA[case.cancellation_trend]})", ""]
        for a in case.alerts:
            late = " · *sent indført*" if a.late else ""
            lines += [f"- **{a.severity.upper()} {a.label}** · {a.entry_date} · alarm #{a.id}{late}",
                      f"  > {a.text[:a.start]}**{a.text[a.start:a.end]}**{a.text[a.end:]}",
                      f"  Hvorfor: {a.fired_by}", ""]
    if digest.quiet_cases:
        lines.append(f"Rolige sager denne uge ({len(digest.quiet_cases)}): {', '.join(digest.quiet_cases)}.")
    if digest.silent_cases:
        lines.append(f"Ingen logbog denne uge ({len(digest.silent_cases)}): {', '.join(digest.silent_cases)}.")
    return "\n".join(lines).rstrip() + "\n"


def to_html(digest: Digest) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("qualpipe", "templates"), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("digest.html.j2").render(d=digest, trend_da=TREND_DA)


def to_eml(digest: Digest, *, to: str, sender: str) -> bytes:
    message = EmailMessage()
    message["Subject"] = f"Ugentlig oversigt over logbøger {digest.week}" + (" — HASTER" if digest.notify_reminder else "")
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message.set_content(to_markdown(digest))
    message.add_alternative(to_html(digest), subtype="html")
    return bytes(message)


def print_terminal(digest: Digest) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    console = Console()
    console.rule(f"Ugentlig oversigt {digest.week} ({digest.start} – {digest.end})")
    if digest.notify_reminder:
        console.print(Panel(NOTIFY, style="bold red"))
    colours = {"urgent": "bold white on red", "high": "bold white on dark_orange", "watch": "bold white on grey42"}
    for case in digest.cases:
        console.print(Text.assemble((f" {case.severity.upper()} ", colours[case.severity]), f"  {case.case_id}",
                                    f"   aflysninger 8 uger: {case.cancellations_8_weeks} ({TREND_DA[case.cancellation_trend]})"))
        for a in case.alerts:
            head = Text.assemble("  ", (f"{a.severity}", colours[a.severity]), f" {a.label} · {a.entry_date} · #{a.id}",
                                 (" · sent indført" if a.late else "", "magenta"))
            console.print(head)
            console.print(Text.assemble("    ", a.text[:a.start], (a.text[a.start:a.end], "black on yellow"), a.text[a.end:]))
            console.print(Text(f"    hvorfor: {a.fired_by}", style="dim"))
    if digest.quiet_cases:
        console.print(f"Rolige sager ({len(digest.quiet_cases)}): {', '.join(digest.quiet_cases)}", style="dim")
    if digest.silent_cases:
        console.print(f"Ingen logbog denne uge ({len(digest.silent_cases)}): {', '.join(digest.silent_cases)}", style="dim")
