"""Render each interview of writers/*.jsonl as the transcript file a project would receive, in the layout
of its writer's transcriber (plain text with or without timestamps, WebVTT with voices, SubRip, Word),
into transcripts/ named CASE_DATE_interview_RESPONDENT.ext (qualpipe.toml beside them has the pattern).

Usage: python corpora/interviews_dev/tools/render.py
"""
import datetime as dt
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
LAYOUT = {"T01": "txt-ts", "T02": "txt-blocks", "T03": "vtt", "T04": "vtt", "T05": "docx", "T06": "txt-ts",
          "T07": "docx", "T08": "srt", "T09": "txt", "T10": "vtt", "T11": "txt", "T12": "docx",
          "T13": "txt", "T14": "docx", "T15": "txt-blocks", "T16": "txt-ts", "T17": "vtt", "T18": "srt"}
WORDS_PER_SECOND = 2.4


def interviews(path: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.setdefault(row["interview_id"], []).append(row)
    return {k: sorted(v, key=lambda r: int(r["turn"])) for k, v in sorted(out.items())}


def timed(turns: list[dict]) -> list[tuple[float, float, dict]]:
    at, out = 2.0, []
    for row in turns:
        length = max(1.2, len(row["text"].split()) / WORDS_PER_SECOND)
        out.append((at, at + length, row))
        at += length + 0.6
    return out


def clock(seconds: float, sep: str = ".", hours: bool = True) -> str:
    whole = int(seconds)
    h, m, s = whole // 3600, whole % 3600 // 60, whole % 60
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{int(seconds % 1 * 1000):03d}" if hours else f"{h:02d}:{m:02d}:{s:02d}"


def one_line(text: str) -> str:
    return " ".join(text.split())


def render(layout: str, turns: list[dict], title: str) -> str | list[str]:
    if layout == "vtt":
        cues = [f"{i}\n{clock(a)} --> {clock(b)}\n<v {r['speaker']}>{one_line(r['text'])}</v>"
                for i, (a, b, r) in enumerate(timed(turns), 1)]
        return "WEBVTT\nKind: captions\nLanguage: da\n\n" + "\n\n".join(cues) + "\n"
    if layout == "srt":
        cues = [f"{i}\n{clock(a, ',')} --> {clock(b, ',')}\n{r['speaker']}: {one_line(r['text'])}"
                for i, (a, b, r) in enumerate(timed(turns), 1)]
        return "\n\n".join(cues) + "\n"
    if layout == "txt-ts":
        lines = [f"[{clock(a, hours=True)}] {r['speaker']}: {one_line(r['text'])}" for a, _, r in timed(turns)]
        return f"{title}\n\n" + "\n".join(lines) + "\n"
    if layout == "txt-blocks":
        return f"{title}\n\n" + "\n\n".join(f"{r['speaker']}:\n{one_line(r['text'])}" for r in turns) + "\n"
    paragraphs = [f"{r['speaker']}: {one_line(r['text'])}" for r in turns]
    return [title, *paragraphs] if layout == "docx" else f"{title}\n\n" + "\n".join(paragraphs) + "\n"


def main() -> None:
    import docx

    out = HERE / "transcripts"
    out.mkdir(exist_ok=True)
    for path in sorted((HERE / "writers").glob("T*.jsonl")):
        layout = LAYOUT[path.stem]
        for interview_id, turns in interviews(path).items():
            first = turns[0]
            respondent = re.sub(r"[^a-zæøå]+", "-", first["respondent"].lower()).strip("-")
            title = (
                f"Interview {interview_id} med {first['respondent']}, {dt.date.fromisoformat(first['date']):%d.%m.%Y}"
            )
            name = f"{first['case_id']}_{first['date']}_interview_{respondent}"
            content = render(layout, turns, title)
            if layout == "docx":
                document = docx.Document()
                for paragraph in content:
                    document.add_paragraph(paragraph)
                document.core_properties.author = "qualpipe corpus"
                document.save(out / f"{name}.docx")
            else:
                suffix = {"vtt": ".vtt", "srt": ".srt"}.get(layout, ".txt")
                (out / f"{name}{suffix}").write_text(content, encoding="utf-8")


if __name__ == "__main__":
    main()
