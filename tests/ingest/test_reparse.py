"""`qualpipe reparse`: a changed [speakers] map or cleaning setting applies to stored documents without a new
project, and what later stages stored stays."""

from __future__ import annotations

from typer.testing import CliRunner

from qualpipe.cli import app
from qualpipe.project import Project

TRANSCRIPT = ("I: Hvordan går det med besøgene?\n"
              "Mormor: Øh, godt. Hun glæder sig hele ugen, og de bager altid boller om torsdagen.\n"
              "I: Og i skolen?\n"
              "Mormor: Det går bedre. Hun læser selv nu.\n")


def test_a_changed_speaker_map_reaches_stored_segments_and_their_codes_stay(tmp_path):
    runner = CliRunner()
    root = tmp_path / "p"
    invoke = lambda *args: runner.invoke(app, ["--project", str(root), *args], catch_exceptions=False)  # noqa: E731
    assert invoke("init").exit_code == 0
    source = tmp_path / "M01_2024-03-12_interview.txt"
    source.write_text(TRANSCRIPT, encoding="utf-8")
    assert invoke("ingest", str(source), "--kind", "interview").exit_code == 0
    with Project(root) as project:
        before = {s.id: s for s in project.segments()}
        reading = next(s for s in before.values() if "læser selv" in s.text)
        assert reading.role == "unknown"
        codes = tmp_path / "codes.csv"
        codes.write_text(f"segment_id,code,coder\n{reading.id},laering_udvikling,Lene\n", encoding="utf-8")
    assert invoke("import", str(codes)).exit_code == 0

    config = root / "qualpipe.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[speakers]", '[speakers]\n"Mormor" = "parent"'),
                      encoding="utf-8")
    result = invoke("reparse")
    assert result.exit_code == 0 and "1 changed" in result.output, result.output
    with Project(root) as project:
        after = {s.id: s for s in project.segments()}
        assert after.keys() == before.keys()  # the same segments, so everything stored on them stays
        assert {s.role for s in after.values() if s.speaker == "Mormor"} == {"parent"}
        assert project.store.query("SELECT segment_id, code, coder FROM codings WHERE source = 'human'")[0][:] == \
            (reading.id, "laering_udvikling", "Lene")
    again = invoke("reparse")
    assert "0 changed" in again.output  # re-running on the same settings changes nothing


def test_a_new_speaker_label_splits_a_turn_and_human_codes_move_to_the_new_segment(tmp_path):
    root = tmp_path / "p"
    with Project.init(root) as project:
        source = tmp_path / "M02_2024-03-12_interview.txt"
        source.write_text(
            "I: Fortæl om jeres dag.\nR: Vi gik en tur.\nKirsten: Og vi fodrede ænderne.\n", encoding="utf-8"
        )
        project.ingest([source], "interview")
        duck = next(s for s in project.segments() if "ænderne" in s.text)

        project.decide(duck.id, "frirum", "yes", "Lene")
        turns_before = project.store.query("SELECT COUNT(*) FROM turns")[0][0]
    config = root / "qualpipe.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("[speakers]", '[speakers]\n"Kirsten" = "parent"'), encoding="utf-8"
    )
    from qualpipe.ingest.run import reparse

    with Project(root) as project:
        report = reparse(project.store, project.config)
        roles = {s.text: (s.speaker, s.role) for s in project.segments()}
        coded = project.store.query(
            "SELECT s.text, c.code FROM codings c JOIN segments s ON s.id = c.segment_id WHERE c.source = 'human'"
        )
        decisions = project.store.query("SELECT COUNT(*) FROM code_decisions")[0][0]
        turns_after = project.store.query("SELECT COUNT(*) FROM turns")[0][0]
    assert report.changed == 1 and turns_after == turns_before + 1
    assert roles["Og vi fodrede ænderne."] == ("Kirsten", "parent")
    assert [tuple(r) for r in coded] == [("Og vi fodrede ænderne.", "frirum")] and decisions == 1
