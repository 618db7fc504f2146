"""Figures: static PNGs (matplotlib) for reports, and BERTopic's interactive HTML figures for a topic run.

Static images are drawn with matplotlib rather than exported from plotly, because plotly's image export
(kaleido) needs a Chrome it would otherwise download; qualpipe works offline."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from qualpipe.private_files import private_dir, write_private


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "svg.hashsalt": "qualpipe", "path.simplify": False})
    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    _pyplot().close(fig)
    return buffer.getvalue()


def heatmap_png(matrix: pd.DataFrame, title: str, value_label: str = "share of segments") -> bytes:
    """Rows × columns as a heat map with the values written in the cells."""
    plt = _pyplot()
    height = max(2.0, 0.35 * len(matrix.index) + 1.2)
    width = max(4.0, 0.45 * len(matrix.columns) + 2.5)
    fig, ax = plt.subplots(figsize=(width, height))
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(values, aspect="auto", cmap="Blues", vmin=0, vmax=max(float(np.nanmax(values, initial=0)), 1e-9))
    ax.set_xticks(range(len(matrix.columns)), [str(c) for c in matrix.columns], rotation=60, ha="right")
    ax.set_yticks(range(len(matrix.index)), [str(i) for i in matrix.index])
    for (r, c), v in np.ndenumerate(values):
        if v > 0:
            ax.text(c, r, f"{v:.0%}" if v <= 1 else f"{v:g}", ha="center", va="center", fontsize=7,
                    color="white" if v > 0.6 * np.nanmax(values) else "black")
    fig.colorbar(image, ax=ax, label=value_label, shrink=0.8)
    ax.set_title(title)
    return _png(fig)


def lines_png(frame: pd.DataFrame, title: str, ylabel: str = "segments") -> bytes:
    """One line per column over the index (periods)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.4))
    for column in frame.columns:
        ax.plot([str(i) for i in frame.index], frame[column].to_numpy(), marker="o", markersize=3, label=str(column))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=60)
    if len(frame.columns):
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(fig)


def timeline_png(events: pd.DataFrame, title: str) -> bytes:
    """Events (columns date, category, severity) as dots on a time line, one row per category."""
    plt = _pyplot()
    colours = {"urgent": "#B2182B", "high": "#EF8A62", "watch": "#7F8C8D"}
    categories = sorted(events["category"].unique())
    fig, ax = plt.subplots(figsize=(8, max(1.6, 0.4 * len(categories) + 1)))
    dates = pd.to_datetime(events["date"], errors="coerce", format="ISO8601")
    for severity, colour in colours.items():
        chosen = events["severity"] == severity
        if chosen.any():
            ax.scatter(dates[chosen], [categories.index(c) for c in events.loc[chosen, "category"]],
                       color=colour, label=severity, s=30, zorder=3)
    ax.set_yticks(range(len(categories)), categories)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.autofmt_xdate()
    return _png(fig)


def write_topic_figures(store, runs, embedder, analyzer, run_id: int, out_dir: Path) -> list[Path]:
    """BERTopic's interactive figures (topics, hierarchy, over time, per role) as HTML with one local copy of
    plotly.js, and static PNGs of topic words, topics over time and per role; returns the files written.

    `runs` are the project's TopicRuns, `embedder` the one the run was fitted with, `analyzer` the project's
    DanishAnalyzer (the saved vectoriser's words are its lemmas)."""
    from sklearn.feature_extraction.text import CountVectorizer

    from qualpipe.views.tables import segment_frame, topic_rows

    private_dir(out_dir)
    model = runs.load_model(run_id, embedder)
    # The saved vectoriser keeps its vocabulary but not qualpipe's analyser: give it back, so words are lemmas
    # from that (personal-data-free) vocabulary only.
    model.vectorizer_model = CountVectorizer(analyzer=analyzer,
                                             vocabulary=model.vectorizer_model.vocabulary_)
    rows = store.query(
        "SELECT st.segment_id, st.topic, s.norm_text FROM segment_topics st JOIN segments s ON s.id = st.segment_id "
        "WHERE st.run_id = ? ORDER BY st.segment_id", (run_id,))
    frame = segment_frame(store).set_index("segment_id")
    kept = [r for r in rows if r["segment_id"] in frame.index]
    docs = [r["norm_text"] for r in kept]
    model.topics_ = [int(r["topic"]) for r in kept]
    meta = frame.loc[[r["segment_id"] for r in kept]]
    written: list[Path] = []

    def save(figure, name: str) -> None:
        path = out_dir / f"{name}.html"
        # figures show topic words and case groups: owner only; the page loads plotly.min.js from its folder
        write_private(path, figure.to_html(include_plotlyjs="directory", full_html=True))
        written.append(path)
        bundle = out_dir / "plotly.min.js"
        if not bundle.exists():
            from plotly.offline import get_plotlyjs

            write_private(bundle, get_plotlyjs())

    n_topics = len([t for t in set(model.topics_) if t >= 0])
    dated = meta["date"].notna().to_numpy()
    over_time = None
    if dated.sum() >= 2:
        timestamps = pd.to_datetime(meta["date"][dated], format="ISO8601").dt.to_period("M").dt.to_timestamp()
        all_topics = model.topics_
        model.topics_ = [t for t, d in zip(all_topics, dated) if d]
        over_time = model.topics_over_time([d for d, keep in zip(docs, dated) if keep], timestamps.tolist())
        model.topics_ = all_topics
        save(model.visualize_topics_over_time(over_time, top_n_topics=10), "topics-over-time")
    per_role = model.topics_per_class(docs, classes=meta["role"].tolist())
    save(model.visualize_topics_per_class(per_role, top_n_topics=10), "topics-per-role")
    save(model.visualize_barchart(top_n_topics=12, n_words=8), "topic-words")
    if n_topics >= 3:
        save(model.visualize_topics(), "topic-map")
        save(model.visualize_hierarchy(hierarchical_topics=model.hierarchical_topics(docs)), "topic-hierarchy")

    rows = topic_rows(store, run_id)
    labels = {t["topic"]: t["label"] for t in rows}
    stored = [t for t in rows if t["topic"] >= 0][:12]
    write_private(out_dir / "topic-words.png", topic_words_png(stored))
    written.append(out_dir / "topic-words.png")
    if over_time is not None:
        table = over_time.pivot_table(index="Timestamp", columns="Topic", values="Frequency", fill_value=0)
        top = [t for t in table.sum().sort_values(ascending=False).index if t >= 0][:8]
        table = table[top].rename(columns=lambda t: labels.get(t, t))
        table.index = [ts.strftime("%Y-%m") for ts in table.index]
        write_private(out_dir / "topics-over-time.png", lines_png(table, f"Topics over time (run {run_id})"))
        written.append(out_dir / "topics-over-time.png")
    by_role = per_role[per_role.Topic >= 0].pivot_table(index="Topic", columns="Class", values="Frequency",
                                                        fill_value=0)
    shares = by_role / by_role.sum(axis=0)
    shares.index = [labels.get(t, t) for t in shares.index]
    write_private(
        out_dir / "topics-per-role.png",
        heatmap_png(shares, f"Topics per speaker role (run {run_id})", "share of the role's segments"),
    )
    written.append(out_dir / "topics-per-role.png")
    return written


def topic_words_png(topics: list[dict]) -> bytes:
    """Each topic's top words as a small panel (rank order; c-TF-IDF/KeyBERT scores are not comparable)."""
    plt = _pyplot()
    n = max(1, len(topics))
    columns = min(4, n)
    rows = int(np.ceil(n / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.0 * columns, 2.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, topic in zip(axes.ravel(), topics):
        words = topic["words"][:8][::-1]
        ax.axis("on")
        ax.barh(range(len(words)), np.arange(1, len(words) + 1), color="#4C78A8")
        ax.set_yticks(range(len(words)), words, fontsize=7)
        ax.set_xticks([])
        theme = f" · {topic['theme']}" if topic.get("theme") else ""
        ax.set_title(f"Topic {topic['topic']} (n={topic['size']}){theme}", fontsize=8)
    fig.tight_layout()
    return _png(fig)
