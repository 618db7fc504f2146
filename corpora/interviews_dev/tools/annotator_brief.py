"""Fill the annotator brief for one batch: python tools/annotator_brief.py T03.primary A01"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
batch, annotator = sys.argv[1], sys.argv[2]
text = (HERE / "briefs" / "ANNOTATOR_BRIEF.md").read_text(encoding="utf-8")
text = text.replace("{input_file}", str(HERE / "batches" / f"{batch}.jsonl"))
text = text.replace("{output_file}", str(HERE / "labels" / f"{batch}.{annotator}.jsonl"))
(HERE / "briefs" / f"annotate-{batch}.{annotator}.md").write_text(text, encoding="utf-8")
print(HERE / "briefs" / f"annotate-{batch}.{annotator}.md")
