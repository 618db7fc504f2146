"""The weekly digest as terminal output, Markdown, plain text, self-contained HTML, JSON and an e-mail.

Every string a coordinator reads comes from the message catalogue (qualpipe/data/messages.da.yaml).
Every format opens with the failed inputs, then the notification-duty banner naming its cases.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache

from qualpipe.data import read_yaml
from qualpipe.flagging.alerts import AlertView, Digest


@lru_cache(maxsize=2)
def messages(language: str = "da") -> dict:
    return read_yaml(f"messages.{language}.yaml")


def say(key: str, **values) -> str:
    return messages()[key].format(**values)


def severity(level: str) -> str:
    return messages()["severity"][level]


def why(alert: AlertView) -> str:
    """The Danish reason the coordinator reads (older alerts without one: the category's name)."""
    return alert.reason or alert.label


def handled(alert: AlertView) -> str:
    what = messages()["handled_as"].get(alert.handled_as or "ack", messages()["handled_as"]["ack"])
    line = say("handled_line", what=what, by=alert.handled_by or "?", when=(alert.handled_at or "")[:10])
    return f"{line} – {alert.note}" if alert.note else line


def marks(alert: AlertView) -> list[str]:
    """What the coordinator must know about an alert's timing: late, still open, undated."""
    out = []
    if alert.late:
        out.append(say("late", date=alert.entry_date))
    if alert.still_open:
        out.append(say("still_open"))
    if alert.undated:
        out.append(say("undated"))
    return out


def alert_lines(title: str, a: AlertView, bold) -> list[str]:
    """One alert as Markdown (or plain) lines: its title, date, id and marks, the entry with the evidence in
    bold, and why it is flagged."""
    extra = "".join(f" · {m}" for m in marks(a))
    return [f"- {title} · {a.entry_date} · {say('alert', id=a.id)}{extra}",
            f"  > {a.text[:a.start]}{bold(a.text[a.start:a.end])}{a.text[a.end:]}",
            f"  {say('why')}: {why(a)}", ""]


def heading(digest: Digest) -> list[str]:
    """Lines that open every format: failures first, then notification duty, rebuild notes."""
    lines = []
    if digest.screening_error:
        lines += [
            say("screening_failed_title", n=digest.unscreened),
            say("screening_failed_help", error=digest.screening_error),
        ]
    if digest.failures:
        lines.append(say("failures_title", n=len(digest.failures)))
        lines += [f"- {problem}" for _, problem in digest.failures]
        lines.append(say("failures_help"))
    if digest.notify_reminder:
        lines.append(say("notify", cases=", ".join(digest.notify_cases)))
    if digest.arrived_since:  # a rebuilt digest shows what it showed then, and says what came since
        lines += [say("rebuilt"), say("arrived_since", n=digest.arrived_since)]
    return lines


def closing(digest: Digest) -> list[str]:
    failed = digest.failures or digest.screening_error
    quiet, silent = ("quiet_failed", "silent_failed") if failed else ("quiet", "silent")
    lines = []
    if digest.open_earlier:
        cases = ", ".join(f"{case} ({', '.join(f'#{i}' for i in ids)})" for case, ids in digest.open_earlier)
        lines.append(say("open_earlier", n=len(digest.open_earlier), cases=cases))
    if digest.quiet_cases:
        lines.append(say(quiet, n=len(digest.quiet_cases), cases=", ".join(digest.quiet_cases)))
    if digest.silent_cases:
        lines.append(say(silent, n=len(digest.silent_cases), cases=", ".join(digest.silent_cases)))
    return lines


def to_json(digest: Digest) -> str:
    return json.dumps(asdict(digest), ensure_ascii=False, indent=2)


def _markdown_safe(text: str) -> str:
    """Entry text in Markdown: HTML in it is shown, not run, by whatever renders the Markdown."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_markdown(digest: Digest, *, plain: bool = False) -> str:
    """Markdown, or with `plain` the same read as plain text (the e-mail's text part)."""
    if not plain:
        digest = _escaped(digest)
    bold = (lambda t: t) if plain else (lambda t: f"**{t}**")
    h1, h2 = ("", "") if plain else ("# ", "## ")
    attention = say("attention", n=len(digest.cases))
    if digest.acknowledged_hidden:
        attention += " · " + say("handled_count", n=digest.acknowledged_hidden)
    lines = [
        h1 + say("title", week=digest.week),
        "",
        f"{say('period', start=digest.start, end=digest.end)} · {attention}",
        "",
    ]
    head = heading(digest)
    if head:
        lines += [(t if plain or t.startswith("- ") else f"> {bold(t)}") for t in head] + [""]
    for case in digest.cases:
        lines += [
            f"{h2}{case.case_id} – {severity(case.severity)}",
            "",
            say("cancellations", n=case.cancellations_8_weeks, trend=messages()["trend"][case.cancellation_trend]),
            "",
        ]
        for a in case.alerts:
            lines += alert_lines(bold(f"{severity(a.severity)} {a.label}"), a, bold)
    if digest.check:
        lines += [h2 + say("check_title"), "", say("check_help"), ""]
        for a in digest.check:
            lines += alert_lines(f"{bold(a.case_id)} · {a.label}", a, bold)
    if digest.handled:
        lines += [h2 + say("handled_title"), ""]
        lines += [
            f"- {a.case_id} · {a.label} · {a.entry_date} · {say('alert', id=a.id)}: {handled(a)}"
            for a in digest.handled
        ]
        lines.append("")
    lines += closing(digest)
    if digest.cases or digest.check or digest.open_earlier:
        lines += ["", say("next_steps")]
    return "\n".join(lines).rstrip() + "\n"


def _escaped(digest: Digest) -> Digest:
    """A copy of the digest whose entry texts and case ids are safe in Markdown (offsets move with the text)."""
    from dataclasses import replace

    def view(a: AlertView) -> AlertView:
        before, mark, after = a.text[: a.start], a.text[a.start : a.end], a.text[a.end :]
        before, mark, after = _markdown_safe(before), _markdown_safe(mark), _markdown_safe(after)
        return replace(
            a,
            text=before + mark + after,
            start=len(before),
            end=len(before) + len(mark),
            evidence=mark,
            case_id=_markdown_safe(a.case_id),
        )

    return replace(
        digest,
        cases=[replace(c, case_id=_markdown_safe(c.case_id), alerts=[view(a) for a in c.alerts]) for c in digest.cases],
        check=[view(a) for a in digest.check],
        handled=[view(a) for a in digest.handled],
        quiet_cases=[_markdown_safe(c) for c in digest.quiet_cases],
        silent_cases=[_markdown_safe(c) for c in digest.silent_cases],
    )


def to_html(digest: Digest) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("qualpipe", "templates"), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("digest.html.j2").render(
        d=digest,
        m=messages(),
        say=say,
        severity=severity,
        why=why,
        handled=handled,
        marks=marks,
        heading=heading(digest),
        closing=closing(digest),
    )


def subject(digest: Digest) -> str:
    text = say("subject", week=digest.week)
    if digest.notify_reminder:
        text = messages()["subject_urgent"] + text
    if digest.failures:
        text = say("subject_failure", n=len(digest.failures)) + text
    if digest.screening_error:
        text = messages()["subject_screening_failed"] + text
    return text


def to_eml(digest: Digest, *, to: str | list[str], sender: str) -> bytes:
    """A complete e-mail: Message-ID, Date, From, To, subject with any warning, plain text and HTML parts."""
    message = EmailMessage()
    message["Subject"] = subject(digest)
    message["From"] = sender
    message["To"] = ", ".join(to) if isinstance(to, (list, tuple)) else to
    message["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "qualpipe.invalid")
    message.set_content(to_markdown(digest, plain=True))
    message.add_alternative(to_html(digest), subtype="html")
    return bytes(message)


# The digest's file formats: format -> bytes(digest, recipients, sender). A new format is a function and a line.
FORMATS = {
    "markdown": lambda digest, to, sender: to_markdown(digest).encode("utf-8"),
    "terminal": lambda digest, to, sender: to_markdown(digest).encode("utf-8"),  # written to a file: Markdown
    "html": lambda digest, to, sender: to_html(digest).encode("utf-8"),
    "json": lambda digest, to, sender: to_json(digest).encode("utf-8"),
    "eml": lambda digest, to, sender: to_eml(digest, to=to, sender=sender),
}


def digest_bytes(digest: Digest, fmt: str, *, to: list[str], sender: str) -> bytes:
    """The digest in one of FORMATS, as the bytes of its file."""
    if fmt not in FORMATS:
        from qualpipe.errors import UserError

        raise UserError(f"--format {fmt}: use one of {', '.join(sorted(FORMATS))}")
    return FORMATS[fmt](digest, to, sender)


def print_terminal(digest: Digest) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    console = Console()
    console.rule(Text(f"{say('title', week=digest.week)} ({digest.start} – {digest.end})"))
    head = heading(digest)
    if head:
        console.print(Panel(Text("\n".join(head)), style="bold red"))
    colours = {"urgent": "bold white on red", "high": "bold white on dark_orange", "watch": "bold white on grey42"}
    for case in digest.cases:
        trend = messages()["trend"][case.cancellation_trend]
        console.print(
            Text.assemble(
                (f" {severity(case.severity)} ", colours[case.severity]),
                f"  {case.case_id}",
                "   " + say("cancellations", n=case.cancellations_8_weeks, trend=trend),
            )
        )
        for a in case.alerts:
            extra = "".join(f" · {m}" for m in marks(a))
            console.print(
                Text.assemble(
                    "  ",
                    (severity(a.severity), colours[a.severity]),
                    f" {a.label} · {a.entry_date} · #{a.id}",
                    (extra, "magenta"),
                )
            )
            console.print(
                Text.assemble("    ", a.text[: a.start], (a.text[a.start : a.end], "black on yellow"), a.text[a.end :])
            )
            console.print(Text(f"    {say('why').lower()}: {why(a)}", style="dim"))
    if digest.check:
        console.print(Text(f"{say('check_title')} – {say('check_help')}", style="bold"))
        for a in digest.check:
            console.print(
                Text(f"  {a.case_id} · {a.label} · {a.entry_date} · #{a.id}" + "".join(f" · {m}" for m in marks(a)))
            )
            console.print(
                Text.assemble("    ", a.text[: a.start], (a.text[a.start : a.end], "black on yellow"), a.text[a.end :])
            )
            console.print(Text(f"    {say('why').lower()}: {why(a)}", style="dim"))
    if digest.handled:
        console.print(Text(say("handled_title") + ":", style="bold"))
        for a in digest.handled:
            console.print(Text(f"  {a.case_id} · {a.label} · {a.entry_date} · #{a.id}: {handled(a)}", style="dim"))
    for line in closing(digest):
        console.print(Text(line), style="dim")
