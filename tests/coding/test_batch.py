"""The batch contract of `qualpipe code --input IN.jsonl --output OUT.jsonl`, kept exactly."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qualpipe.cli import app


def test_batch_coding_writes_one_line_per_input_with_sorted_assigned_codes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no project here: the batch needs none
    source = tmp_path / "in.jsonl"
    lines = [
        {"id": "a", "text": "Hun valgte selv dagens aktivitet, og vi spurgte, hvad hun havde lyst til.", "case": "K1"},
        {"id": 2, "text": "Bussen var forsinket, og der var kø ved kassen."},
        {"id": "c", "text": "Han var så stolt, da han viste os sin flotte tegning. Han er dygtig til at tegne."},
    ]
    source.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["code", "--input", str(source), "--output", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in out] == ["a", 2, "c"]
    assert out[0]["case"] == "K1" and out[0]["text"] == lines[0]["text"]
    for o in out:
        scores = [c["score"] for c in o["codes"]]
        assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
        assert all(set(c) == {"code", "score"} for c in o["codes"])
    assert "inddragelse" in [c["code"] for c in out[0]["codes"]]
    assert out[1]["codes"] == []
    assert "ressourcefokus" in [c["code"] for c in out[2]["codes"]]
    assert not (tmp_path / "qualpipe.db").exists()


def test_a_bad_batch_line_keeps_its_place_and_fails_the_run(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "Vi legede."}\n{broken\n{"id": 3}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["code", "--input", str(source), "--output", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 1
    assert "in.jsonl:2: is not valid JSON" in result.output and "in.jsonl:3: needs an 'id'" in result.output
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in out] == [1, None, 3]
    assert out[1]["codes"] == [] and "error" in out[1]


def test_batch_splitting_without_lemmas_gives_the_sentences_ingest_gives_and_restores_the_pipeline():
    from qualpipe.coding.batch import sentences_of, split_texts
    from qualpipe.text.nlp import load_nlp

    nlp = load_nlp("")
    texts = ['Vi legede. "Må jeg?" spurgte hun – og så gik vi hjem!', "Børnene  var glade\n\nfor turen", "", "ok"]
    pipes = list(nlp.pipe_names)
    split = split_texts(texts, nlp)
    assert nlp.pipe_names == pipes and "qualpipe_lemmatizer" in pipes
    assert split == [sentences_of(t, nlp) for t in texts]
    assert len(split[0]) == 3 and split[2] == []
