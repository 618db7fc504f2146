"""Self-contained HTML reports: themes and topics across cases, and each case over time with its concerns."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from qualpipe.errors import UserError
from qualpipe.flagging.lexicon import load_lexicon
from qualpipe.views.figures import heatmap_png, timeline_png
from qualpipe.views.tables import codes_by, quote, records, segment_frame, topic_table, topics_by

if TYPE_CHECKING:  # types only: importing them would load the topic and privacy stacks for every report
    from qualpipe.coding.codebook import Codebook
    from qualpipe.privacy.outputs import CasePseudonyms
    from qualpipe.store import Store
    from qualpipe.topics.runs import TopicRuns

TOP_TOPICS = 8
QUOTES_PER_CASE = 3


@dataclass(frozen=True)
class ReportSources:
    """What a report reads: the store, the codebook (theme labels), the topic runs, and the pseudonyms its
    quotes are shown with (None: as written)."""

    store: Store
    codebook: Codebook
    runs: TopicRuns
    pseudonyms: CasePseudonyms | None = None
    include_interviewer: bool = False

    def codes_by(self, by: str, case_id: str | None = None) -> pd.DataFrame:
        return codes_by(self.store, self.codebook, by, case_id, include_interviewer=self.include_interviewer)


@dataclass
class CaseSection:
    case_id: str
    segments: int
    documents: dict[str, int]
    first_date: str | None
    last_date: str | None
    top_themes: list[tuple[str, float]]
    cancellations: int
    concerns: list[dict]
    quotes: list[dict]
    figures: dict[str, str] = field(default_factory=dict)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _pivot(frame: pd.DataFrame, index: str, values: str = "share") -> pd.DataFrame:
    return frame.pivot_table(index=index, columns="group", values=values, fill_value=0, sort=True)


def _top_topics(frame: pd.DataFrame) -> list[int]:
    """The most frequent real topics (not the outlier topic -1)."""
    sizes = frame[frame.topic >= 0].groupby("topic").segments.sum().sort_values(ascending=False, kind="stable")
    return sorted(sizes.head(TOP_TOPICS).index)


def _topic_heatmap(frame: pd.DataFrame, topics: list[int], title: str, per: str) -> str:
    chosen = frame[frame.topic.isin(topics)]
    matrix = _pivot(chosen, "topic")
    names = dict(zip(chosen.topic, chosen.name))
    matrix.index = [names[t] for t in matrix.index]
    return _data_uri(heatmap_png(matrix, title, f"share of the {per}'s segments"))


def case_section(
    sources: ReportSources, case_id: str, run_id: int | None, concern_labels: dict[str, str]
) -> CaseSection:
    store, pseudonyms = sources.store, sources.pseudonyms
    segments = segment_frame(store, case_id)
    if segments.empty:
        raise UserError(f"case {case_id}: no segments in the store; see 'qualpipe status'")
    codes = sources.codes_by("month", case_id)
    themes = codes.groupby("label").segments.sum().sort_values(ascending=False, kind="stable")
    coded = max(1, len(segments[segments.role != "interviewer"]))
    documents = segments.drop_duplicates("document_id").groupby("kind").size().to_dict()
    alerts = store.query(
        "SELECT a.entry_date, a.category, a.severity, a.document_id, a.start, a.end, a.acked_at FROM alerts a "
        "JOIN documents d ON d.id = a.document_id WHERE d.superseded_at IS NULL AND a.case_id = ? "
        "ORDER BY a.entry_date, a.id",
        (case_id,),
    )
    concerns = [
        {
            "date": a["entry_date"],
            "category": concern_labels.get(a["category"], a["category"]),
            "severity": a["severity"],
            "handled": bool(a["acked_at"]),
            "evidence": quote(store, pseudonyms, a["document_id"], a["start"], a["end"]),
        }
        for a in alerts
    ]
    section = CaseSection(
        case_id=case_id,
        segments=len(segments),
        documents=documents,
        first_date=segments.date.dropna().min() if segments.date.notna().any() else None,
        last_date=segments.date.dropna().max() if segments.date.notna().any() else None,
        top_themes=[(label, round(n / coded, 3)) for label, n in themes.head(5).items()],
        cancellations=sum(a["category"] == load_lexicon().cancellation_category for a in alerts),
        concerns=concerns,
        quotes=_quotes(sources, case_id),
    )
    if not codes.empty:
        section.figures["themes over time"] = _data_uri(
            heatmap_png(_pivot(codes, "label"), f"Themes by month, case {case_id}", "share of the month's segments")
        )
    if run_id is not None:
        topics = topics_by(store, "month", run_id, case_id)
        if not topics.empty:
            section.figures["topics over time"] = _topic_heatmap(
                topics, _top_topics(topics), f"Topics by month, case {case_id} (run {run_id})", "month"
            )
    if concerns:
        section.figures["concerns"] = _data_uri(timeline_png(pd.DataFrame(concerns), f"Concerns, case {case_id}"))
    return section


def _quotes(sources: ReportSources, case_id: str) -> list[dict]:
    """The most confident coded segment of each of the case's most frequent themes."""
    rows = sources.store.query(
        "SELECT c.code, c.score, c.source, s.document_id, s.start, s.end, s.date FROM codings c "
        "JOIN current_segments s ON s.id = c.segment_id WHERE s.case_id = ? "
        "ORDER BY c.source = 'human' DESC, c.score DESC, s.id",
        (case_id,),
    )
    counts = pd.Series([r["code"] for r in rows], dtype="object").value_counts(sort=True)
    labels = {c.id: c.label_da for c in sources.codebook.codes}
    quotes = []
    for code in list(counts.index)[:QUOTES_PER_CASE]:
        best = next(r for r in rows if r["code"] == code)
        quotes.append(
            {
                "theme": labels.get(code, code),
                "date": best["date"],
                "source": best["source"],
                "text": quote(sources.store, sources.pseudonyms, best["document_id"], best["start"], best["end"]),
            }
        )
    return quotes


def _render(template: str, **context) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    from qualpipe.flagging.render import severity

    env = Environment(loader=PackageLoader("qualpipe", "templates"), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template(template).render(severity=severity, **context)


def _run_context(sources: ReportSources, run_id: int | None) -> dict | None:
    return None if run_id is None else dict(sources.runs.info(run_id))


def build_report(sources: ReportSources, run_id: int | None = None) -> str:
    """The whole programme: themes × cases, topics over time, the topic table, and a section per case."""
    store, pseudonyms = sources.store, sources.pseudonyms
    status = store.status()
    figures = {}
    codes = sources.codes_by("case")
    if not codes.empty:
        figures["Themes × cases"] = _data_uri(
            heatmap_png(_pivot(codes, "label"), "Themes × cases", "share of the case's segments")
        )
    table = None
    if run_id is not None:
        over_time = topics_by(store, "month", run_id)
        top = _top_topics(over_time)
        figures["Topics over time"] = _topic_heatmap(over_time, top, f"Topics by month (run {run_id})", "month")
        figures["Topics × cases"] = _topic_heatmap(
            topics_by(store, "case", run_id), top, f"Topics × cases (run {run_id})", "case"
        )
        table = records(topic_table(store, run_id, pseudonyms))
    labels = load_lexicon().labels
    cases = [r[0] for r in store.query("SELECT case_id FROM cases ORDER BY case_id")]
    if pseudonyms is not None:
        pseudonyms.warm(cases)
    sections = [
        case_section(sources, c, run_id, labels)
        for c in cases
        if store.query("SELECT 1 FROM current_segments WHERE case_id = ? LIMIT 1", (c,))
    ]
    return _render(
        "report.html.j2",
        title="qualpipe report",
        status=status,
        run=_run_context(sources, run_id),
        figures=figures,
        topics=table,
        sections=sections,
        pseudonymised=pseudonyms is not None,
        generated=dt.date.today().isoformat(),
    )


def build_case_report(sources: ReportSources, case_id: str, run_id: int | None = None) -> str:
    """One case: its themes and topics over time, concerns and cancellations, representative quotes."""
    section = case_section(sources, case_id, run_id, load_lexicon().labels)
    return _render(
        "report.html.j2",
        title=f"qualpipe — case {case_id}",
        status=None,
        run=_run_context(sources, run_id),
        figures={},
        topics=None,
        sections=[section],
        pseudonymised=sources.pseudonyms is not None,
        generated=dt.date.today().isoformat(),
    )
