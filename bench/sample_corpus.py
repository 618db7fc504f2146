"""The shipped sample corpus, ingested into a throw-away project: the raw material the benches scale up."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from qualpipe.project import Project, Segment

CORPUS = Path(__file__).resolve().parents[1] / "corpora"


def new_project(root: Path) -> Project:
    """A fresh project at `root` (created) with the sample corpus's configuration."""
    root.mkdir(parents=True)
    shutil.copyfile(CORPUS / "qualpipe.toml", root / "qualpipe.toml")
    return Project.init(root)


def write_jsonl(entries: list[dict], path: Path) -> Path:
    """Logbook entries as a JSONL file qualpipe ingests."""
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")
    return path


def sample_segments() -> list[Segment]:
    """Every current segment of the sample corpus (interviews and logbooks), as qualpipe stores them."""
    workdir = Path(tempfile.mkdtemp(prefix="qualpipe-bench-"))
    try:
        with new_project(workdir / "sample") as project:
            project.ingest([CORPUS / "interviews"], "interview")
            project.ingest([CORPUS / "logbooks"], "logbook")
            return project.segments()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def sample_sentences(min_chars: int = 8) -> list[str]:
    """The distinct non-interviewer sentences longer than `min_chars`, sorted (a stable base for recombining)."""
    return sorted({s.norm_text for s in sample_segments() if s.role != "interviewer" and len(s.norm_text) > min_chars})
