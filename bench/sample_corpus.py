"""The shipped sample corpus, ingested into a throw-away project: the raw material the benches scale up."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from qualpipe.project import Project, Segment

CORPUS = Path(__file__).resolve().parents[1] / "corpora"


def sample_segments() -> list[Segment]:
    """Every current segment of the sample corpus (interviews and logbooks), as qualpipe stores them."""
    workdir = Path(tempfile.mkdtemp(prefix="qualpipe-bench-"))
    try:
        root = workdir / "sample"
        root.mkdir()
        shutil.copyfile(CORPUS / "qualpipe.toml", root / "qualpipe.toml")
        with Project.init(root) as project:
            project.ingest([CORPUS / "interviews"], "interview")
            project.ingest([CORPUS / "logbooks"], "logbook")
            return project.segments()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def sample_sentences(min_chars: int = 8) -> list[str]:
    """The distinct non-interviewer sentences longer than `min_chars`, sorted (a stable base for recombining)."""
    return sorted({s.norm_text for s in sample_segments() if s.role != "interviewer" and len(s.norm_text) > min_chars})
