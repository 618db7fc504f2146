"""Interview transcripts in every layout become speaker turns with roles and exact offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import CORPUS
from qualpipe.errors import InputError
from qualpipe.ingest.transcripts import parse_plain_transcript, parse_srt, parse_vtt
from qualpipe.text.roles import RoleResolver

ROLES = RoleResolver({"R": "parent"})


def spoken(text: str, turns) -> list[tuple[str | None, str, str]]:
    return [(t.speaker, t.role, text[t.start:t.end]) for t in turns]


def test_interviewer_respondent_prefixes_with_timestamps():
    text = "[00:00:05] I: Hvordan går det?\n[00:00:09] R: Godt. Hun glæder sig.\n00:00:15 I: Fortæl mere."
    assert spoken(text, parse_plain_transcript(text, ROLES)) == [
        ("I", "interviewer", "Hvordan går det?"),
        ("R", "parent", "Godt. Hun glæder sig."),
        ("I", "interviewer", "Fortæl mere."),
    ]


def test_labels_on_a_line_of_their_own_and_parenthesised_roles():
    text = "Interviewer:\nHvor gammel er du?\n\nBarn (10 år):\nTi.\nNæsten elleve.\n\nEmils mor:\nHan er ti."
    assert spoken(text, parse_plain_transcript(text, ROLES)) == [
        ("Interviewer", "interviewer", "Hvor gammel er du?"),
        ("Barn (10 år)", "child", "Ti.\nNæsten elleve."),
        ("Emils mor", "parent", "Han er ti."),
    ]


def test_a_colon_in_running_speech_does_not_start_a_turn():
    text = "Mor: Det var sådan: han ville ikke.\nDet var sådan: vi gav op.\nI: Og så?"
    turns = parse_plain_transcript(text, ROLES)
    assert [t.speaker for t in turns] == ["Mor", "I"]
    assert "Det var sådan: vi gav op." in text[turns[0].start:turns[0].end]


def test_recurring_names_count_as_speakers_and_map_through_config():
    text = "Anne: Vi bager.\nInterviewer: Hvad mere?\nAnne: Vi går tur."
    assert [(t.speaker, t.role) for t in parse_plain_transcript(text, RoleResolver())] == [
        ("Anne", "unknown"), ("Interviewer", "interviewer"), ("Anne", "unknown")]
    assert {
        t.role for t in parse_plain_transcript(text, RoleResolver({"anne": "volunteer"})) if t.speaker == "Anne"
    } == {"volunteer"}


def test_webvtt_voice_tags_and_merged_cues():
    text = (CORPUS / "interviews" / "M11_2024-03-20_interview_barn.vtt").read_text(encoding="utf-8")
    turns = parse_vtt(text, Path("x.vtt"), ROLES)
    assert [t.role for t in turns][:4] == ["interviewer", "child", "interviewer", "child"]
    # Cues 4 and 5 are the same child speaking: one turn, the cue header between them dropped.
    merged = turns[3]
    assert len(merged.drop) == 1
    header = text[merged.drop[0][0] : merged.drop[0][1]]
    assert "-->" in header and text[merged.start : merged.end].startswith("Lave mad.")


def test_srt_speaker_prefixes():
    text = (
        "1\n00:00:00,500 --> 00:00:04,000\nInterviewer: Hvordan går det?\n\n"
        "2\n00:00:04,500 --> 00:00:08,000\nSagsbehandler: Fint.\n"
    )
    assert spoken(text, parse_srt(text, Path("x.srt"), ROLES)) == [
        ("Interviewer", "interviewer", "Hvordan går det?"),
        ("Sagsbehandler", "professional", "Fint."),
    ]


def test_text_that_is_not_webvtt_is_rejected_with_the_file_name():
    with pytest.raises(InputError, match=r"notes\.vtt: is not valid WebVTT"):
        parse_vtt("Bare noter\n", Path("notes.vtt"), ROLES)


def test_every_shipped_transcript_layout_is_ingested_with_roles(corpus_project):
    report = corpus_project.ingest([CORPUS / "interviews"], "interview")
    assert report.ok, report.errors
    by_format = {}
    for row in corpus_project.store.query(
        "SELECT d.source_format AS f, s.role AS role FROM segments s JOIN documents d ON d.id = s.document_id"
    ):
        by_format.setdefault(row["f"], set()).add(row["role"])
    assert by_format == {
        "txt": {"interviewer", "parent", "volunteer", "professional", "unknown"},
        "vtt": {"interviewer", "child"},
        "srt": {"interviewer", "professional"},
        "docx": {"interviewer", "parent", "unknown"},
    }
    cases = {r["case_id"]: r["date"] for r in corpus_project.store.query("SELECT case_id, date FROM documents")}
    assert cases["M11"] == "2024-03-20" and cases["M14"] == "2024-03-21"
