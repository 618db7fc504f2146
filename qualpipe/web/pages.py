"""The web app's templates (qualpipe/web/templates) and its Danish words (qualpipe/data/web.da.yaml)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from jinja2 import Environment, PackageLoader, select_autoescape

from qualpipe.data import read_yaml
from qualpipe.flagging import render as digest_words

try:
    from zoneinfo import ZoneInfo

    LOCAL = ZoneInfo("Europe/Copenhagen")
except Exception:  # noqa: BLE001 - no time zone data: show UTC
    LOCAL = dt.timezone.utc


@lru_cache(maxsize=1)
def words() -> dict:
    return read_yaml("web.da.yaml")


def t(key: str, **values) -> str:
    return words()[key].format(**values) if values else words()[key]


def local_time(stamp: str | None) -> str:
    """A stored UTC time as the coordinator reads it: 05.02.2024 10:32 (Danish time)."""
    if not stamp:
        return ""
    try:
        moment = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp[:16]
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(LOCAL).strftime("%d.%m.%Y %H:%M")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("qualpipe.web", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(t=t, say=digest_words.say, m=digest_words.messages(), severity=digest_words.severity,
                       why=digest_words.why, handled=digest_words.handled, marks=digest_words.marks,
                       closing=digest_words.closing,
                       local_time=local_time)
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
