"""The batch contract of `qualpipe flag --input IN.jsonl --output OUT.jsonl`, kept exactly."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qualpipe.cli import app


def test_flag_batch_writes_concerns_per_line_and_applies_case_rules(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = [
        {"id": "a", "case_id": "K1", "date": "2024-03-12", "text": "Besøget blev aflyst igen.", "author": "Lone"},
        {"id": "b", "case_id": "K1", "date": "2024-03-01", "text": "Besøget blev aflyst, fordi mor var syg."},
        {"id": "c", "text": "Vi slog katten i Uno og grinede."},
        {"id": "d", "text": "Hun sagde, at hun ikke vil leve mere."},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["flag", "--input", str(source), "--output", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c", "d"]
    assert out[0]["author"] == "Lone"
    assert [(c["category"], c["severity"]) for c in out[1]["concerns"]] == [("aflysning", "watch")]
    assert [(c["category"], c["severity"]) for c in out[0]["concerns"]] == [("aflysning", "high")]  # the 2nd in 4 weeks
    assert out[2]["concerns"] == []
    concern = out[3]["concerns"][0]
    assert set(concern) == {"category", "severity", "evidence", "start", "end"}
    assert (concern["category"], concern["severity"]) == ("selvskade", "urgent")
    assert lines[3]["text"][concern["start"]:concern["end"]] == concern["evidence"]
    assert not (tmp_path / "qualpipe.db").exists()
