"""The weekly run never says "all calm" by mistake: weeks as written, undated and skipped entries, failed
files inside the digest, acknowledgements as records, and the e-mail sent over real SMTP."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
import ssl

import pytest
from typer.testing import CliRunner

from conftest import BROKEN, CORPUS, new_corpus_project
from qualpipe.cli import app
from qualpipe.errors import UserError
from qualpipe.flagging import render
from qualpipe.flagging.alerts import parse_week

URGENT = "Hun fortalte, at stedfar slår hende, når han er fuld."


def _project(tmp_path):
    project = new_corpus_project(tmp_path / "p")
    project.ingest([CORPUS / "logbooks"], "logbook")
    return project


def _logbook(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("written", ["2024-W6", "2024W06", "2024-w06", "2024-W06", " 2024-W06 ", "2024w6"])
def test_every_way_of_writing_a_week_gives_the_same_digest(tmp_path, written):
    assert parse_week(written) == "2024-W06"
    project = _project(tmp_path)
    digest = project.weekly_digest(written)
    assert digest.week == "2024-W06" and digest.cases and digest.notify_reminder
    project.close()


@pytest.mark.parametrize("written", ["2024-10", "W06-2024", "2024-W54", "2021-W53", "uge 6", ""])
def test_a_week_that_is_not_an_iso_week_is_refused_in_one_line(written):
    with pytest.raises(UserError, match="write it as 2024-W06"):
        parse_week(written)


def test_an_undated_urgent_entry_reaches_the_next_digest_with_its_ingest_date_and_a_note(tmp_path):
    project = _project(tmp_path)
    undated = _logbook(
        tmp_path / "undated.jsonl", [{"entry_id": "M02-x", "case_id": "M02", "date": "", "text": URGENT}]
    )
    assert project.ingest([undated], "logbook").ok
    project.flag_new_entries()
    row = project.store.query(
        "SELECT week, entry_date, undated FROM alerts a JOIN documents d ON d.id = a.document_id "
        "WHERE d.doc_key = 'logbook:M02-x'"
    )[0]
    today = dt.date.today()
    year, week, _ = today.isocalendar()
    assert row["undated"] == 1 and row["entry_date"] == today.isoformat() and row["week"] == f"{year}-W{week:02d}"
    digest = project.weekly_digest(row["week"])
    shown = [a for c in digest.cases for a in c.alerts if a.category == "vold_overgreb" and a.undated]
    assert shown and "M02" in digest.notify_cases
    assert "uden dato i logbogen" in render.to_markdown(digest)
    project.close()


def test_alerts_of_a_week_nobody_built_reach_the_next_digest_marked_late(tmp_path):
    project = _project(tmp_path)
    skipped = _logbook(
        tmp_path / "w15.jsonl",
        [
            {"entry_id": "M05-w15a", "case_id": "M05", "date": "2024-04-09", "text": URGENT},
            {
                "entry_id": "M06-w15b",
                "case_id": "M06",
                "date": "2024-04-10",
                "text": "Besøget blev aflyst igen, tredje gang i træk uden afbud.",
            },
        ],
    )
    project.ingest([skipped], "logbook")
    week16 = project.weekly_digest("2024-W16")
    late = {(a.case_id, a.category) for c in week16.cases for a in c.alerts if a.late}
    assert ("M05", "vold_overgreb") in late
    assert "M05" not in week16.quiet_cases + week16.silent_cases
    # An urgent alert that was shown and not handled stays at the top of later digests, not marked late.
    week17 = project.weekly_digest("2024-W17")
    assert week17.cases[0].severity == "urgent"
    carried = [a for c in week17.cases for a in c.alerts if a.case_id == "M05"]
    assert carried and all(a.still_open and not a.late for a in carried)
    assert "stadig ikke håndteret" in render.to_markdown(week17)
    project.close()


def test_a_rebuilt_digest_shows_what_it_showed_and_says_what_has_arrived_since(tmp_path):
    project = _project(tmp_path)
    first = render.to_json(project.weekly_digest("2024-W06"))
    late = _logbook(
        tmp_path / "late.jsonl", [{"entry_id": "M07-late", "case_id": "M07", "date": "2024-02-07", "text": URGENT}]
    )
    project.ingest([late], "logbook")
    again = project.weekly_digest("2024-W06")
    assert again.arrived_since == 1 and {**json.loads(render.to_json(again)), "arrived_since": 0} == json.loads(first)
    assert "Siden da er der kommet 1 alarm" in render.to_markdown(again)
    assert ("M07", "vold_overgreb") in {
        (a.case_id, a.category) for c in project.weekly_digest("2024-W07").cases for a in c.alerts if a.late
    }
    project.close()


def test_a_file_that_fails_is_named_at_the_top_of_every_format_and_no_case_is_called_calm(tmp_path):
    project = new_corpus_project(tmp_path / "p")
    project.close()
    runner = CliRunner()
    base = [
        "--project",
        str(project.root),
        "alerts",
        "--ingest",
        str(CORPUS / "logbooks"),
        "--ingest",
        str(BROKEN / "missing_text_column.csv"),
        "--week",
        "2024-W06",
    ]
    outputs = {}
    for fmt in ("markdown", "html", "json", "eml"):
        out = tmp_path / f"digest.{fmt}"
        result = runner.invoke(app, [*base, "-f", fmt, "-o", str(out)])
        assert result.exit_code == 1, result.output
        outputs[fmt] = out.read_bytes()
    markdown = outputs["markdown"].decode("utf-8")
    assert markdown.index("ADVARSEL: 1 logbogsfil") < markdown.index("Underretningspligt") < markdown.index("## ")
    assert (
        "missing_text_column.csv" in markdown
        and "Rolige sager" not in markdown
        and "Ingen logbog denne uge" not in markdown
    )
    assert "Uden alarmer i det, der kunne læses" in markdown
    assert "ADVARSEL" in outputs["html"].decode("utf-8") and "missing_text_column.csv" in outputs["html"].decode(
        "utf-8"
    )
    assert json.loads(outputs["json"])["failures"][0][0] == "missing_text_column.csv"
    message = email.message_from_bytes(outputs["eml"])
    assert message["Subject"].startswith("ADVARSEL: 1 logbogsfil") and "HASTER" in message["Subject"]
    text = message.get_payload()[0].get_payload(decode=True).decode("utf-8")
    assert text.startswith("Ugentlig oversigt") and "missing_text_column.csv" in text and "**" not in text
    terminal = runner.invoke(app, base)
    assert terminal.exit_code == 1 and "ADVARSEL" in terminal.output
    # Fixed and ingested again: the warning is gone and the run ends well.
    fixed = tmp_path / "missing_text_column.csv"
    fixed.write_text("id;sag;dato;text\nM01-99;M01;2024-02-06;Vi bagte boller.\n", encoding="utf-8")
    ok = runner.invoke(
        app,
        [
            "--project",
            str(project.root),
            "alerts",
            "--ingest",
            str(fixed),
            "--week",
            "2024-W06",
            "-f",
            "json",
            "-o",
            str(tmp_path / "ok.json"),
        ],
    )
    assert json.loads((tmp_path / "ok.json").read_text(encoding="utf-8"))["failures"] != [] or ok.exit_code == 1
    with project.store.transaction() as conn:  # the broken file itself, now fixed in place
        conn.execute(
            "UPDATE ingest_failures SET source_path = ? WHERE source_path LIKE '%missing_text_column.csv'",
            (str(fixed.resolve()),),
        )
    fixed.write_text("id;sag;dato;text\nM01-98;M01;2024-02-06;Vi gik en tur.\n", encoding="utf-8")
    clean = runner.invoke(
        app,
        [
            "--project",
            str(project.root),
            "alerts",
            "--ingest",
            str(fixed),
            "--week",
            "2024-W06",
            "--column",
            "entry_id=id",
            "--column",
            "case_id=sag",
            "--column",
            "date=dato",
            "-f",
            "json",
            "-o",
            str(tmp_path / "ok.json"),
        ],
    )
    assert clean.exit_code == 0, clean.output
    assert json.loads((tmp_path / "ok.json").read_text(encoding="utf-8"))["failures"] == []


def test_when_screening_fails_the_digest_still_goes_out_says_so_and_calls_no_case_calm(tmp_path):
    project = new_corpus_project(tmp_path / "p")
    project.concern_model_path().parent.mkdir(parents=True, exist_ok=True)
    project.concern_model_path().write_bytes(b"not a model")  # a damaged project model: flagging cannot run
    project.close()
    week = _logbook(
        tmp_path / "week.jsonl",
        [
            {"entry_id": "K1-1", "case_id": "K1", "date": "2024-02-06", "text": URGENT},
            {"entry_id": "K2-1", "case_id": "K2", "date": "2024-02-06", "text": "Vi bagte boller og gik en tur."},
        ],
    )
    runner = CliRunner()
    base = ["--project", str(project.root), "alerts", "--ingest", str(week), "--week", "2024-W06"]
    outputs = {}
    for fmt in ("markdown", "html", "json", "eml"):
        result = runner.invoke(app, [*base, "-f", fmt, "-o", str(tmp_path / f"digest.{fmt}")])
        assert result.exit_code == 1 and "could not be screened" in result.output, result.output
        outputs[fmt] = (tmp_path / f"digest.{fmt}").read_bytes()
    markdown = outputs["markdown"].decode("utf-8")
    assert markdown.startswith("# ") and "ADVARSEL: 2 nye logbogsindlæg kunne ikke screenes" in markdown
    assert "Rolige sager" not in markdown and "Uden alarmer i det, der kunne læses" in markdown
    assert "kunne ikke screenes" in outputs["html"].decode("utf-8")
    assert json.loads(outputs["json"])["unscreened"] == 2
    from email.header import decode_header, make_header

    subject = str(make_header(decode_header(email.message_from_bytes(outputs["eml"])["Subject"])))
    assert subject.startswith("ADVARSEL: nye indlæg kunne ikke screenes")
    # the model repaired (here: the shipped one again): the entries left unscreened are screened next time
    project.concern_model_path().unlink()
    result = runner.invoke(app, [*base, "-f", "json", "-o", str(tmp_path / "after.json")])
    after = json.loads((tmp_path / "after.json").read_text(encoding="utf-8"))
    assert result.exit_code == 0 and after["screening_error"] == "" and after["unscreened"] == 0
    assert any(case["case_id"] == "K1" for case in after["cases"])


def test_a_case_with_an_unhandled_alert_from_an_earlier_digest_is_never_called_calm(tmp_path):
    project = new_corpus_project(tmp_path / "p")
    project.close()
    first = _logbook(
        tmp_path / "w6.jsonl",
        [
            {
                "entry_id": "K1-1",
                "case_id": "K1",
                "date": "2024-02-06",
                "text": "Besøget blev aflyst i dag, mor meldte afbud.",
            }
        ],
    )
    second = _logbook(
        tmp_path / "w7.jsonl",
        [
            {
                "entry_id": "K1-2",
                "case_id": "K1",
                "date": "2024-02-13",
                "text": "Vi bagte boller og gik en tur med hunden.",
            }
        ],
    )
    runner = CliRunner()
    base = ["--project", str(project.root), "alerts"]
    shown = runner.invoke(
        app, [*base, "--ingest", str(first), "--week", "2024-W06", "-f", "json", "-o", str(tmp_path / "w6")]
    )
    alert_id = json.loads((tmp_path / "w6").read_text(encoding="utf-8"))["cases"][0]["alerts"][0]["id"]
    assert shown.exit_code == 0
    runner.invoke(
        app, [*base, "--ingest", str(second), "--week", "2024-W07", "-f", "markdown", "-o", str(tmp_path / "w7")]
    )
    week7 = (tmp_path / "w7").read_text(encoding="utf-8")
    assert "Rolige sager" not in week7 and f"K1 (#{alert_id})" in week7 and "ikke er håndteret" in week7
    assert runner.invoke(app, [*base, "ack", str(alert_id), "--by", "Lene", "--note", "Talt med mor"]).exit_code == 0
    runner.invoke(app, [*base, "--week", "2024-W08", "-f", "markdown", "-o", str(tmp_path / "w8")])
    assert "ikke er håndteret" not in (tmp_path / "w8").read_text(encoding="utf-8")


def test_acknowledging_needs_who_and_what_was_done_is_all_or_nothing_and_keeps_a_record(tmp_path):
    project = _project(tmp_path)
    digest = project.weekly_digest("2024-W06")
    urgent = digest.cases[0]
    runner = CliRunner()
    base = ["--project", str(project.root), "alerts", "ack"]
    first = urgent.alerts[0].id
    assert runner.invoke(app, [*base, str(first), "--by", "Lene"]).exit_code != 0  # no note
    mixed = runner.invoke(app, [*base, str(first), "99999", "--by", "Lene", "--note", "underretning sendt"])
    assert mixed.exit_code == 2 and "99999" in mixed.output
    assert project.store.query("SELECT acked_at FROM alerts WHERE id = ?", (first,))[0][0] is None
    done = runner.invoke(app, [*base, "--case", urgent.case_id, "--by", "Lene", "--note", "underretning sendt"])
    shown = len(urgent.alerts) + sum(a.case_id == urgent.case_id for a in digest.check)  # its check band too
    assert done.exit_code == 0 and f"{shown} alert(s) acknowledged" in done.output
    twice = runner.invoke(app, [*base, str(first), "--by", "Lene", "--note", "igen"])
    assert "0 alert(s) acknowledged" in twice.output and f"already handled before: {first}" in twice.output
    after = project.weekly_digest("2024-W06")
    assert urgent.case_id not in [c.case_id for c in after.cases]
    handled = [a for a in after.handled if a.case_id == urgent.case_id]
    assert handled and all(a.handled_by == "Lene" and a.note == "underretning sendt" for a in handled)
    assert "underretning sendt" in render.to_markdown(after)
    project.close()


def test_severities_and_banner_are_danish_and_name_the_cases(tmp_path):
    project = _project(tmp_path)
    markdown = render.to_markdown(project.weekly_digest("2024-W06"))
    assert "AKUT" in markdown and "URGENT" not in markdown and "urgent" not in markdown
    banner = next(line for line in markdown.splitlines() if "Underretningspligt" in line)
    assert "M11" in banner
    project.close()


# -- e-mail over a real SMTP exchange on 127.0.0.1 -------------------------------------------------


def _certificate(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


def _smtp_server(tmp_path):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = _Inbox()

    def authenticate(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.login == b"qualpipe" and auth_data.password == b"hemmeligt", handled=False)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    return controller, inbox, cert, port


def _configure(project_root, port, cert):
    config = project_root / "qualpipe.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f"""
[digest]
from = "qualpipe@kommune.example.org"
to = ["lene@kommune.example.org", "ole@kommune.example.org"]

[smtp]
host = "127.0.0.1"
port = {port}
user = "qualpipe"
password_env = "QP_TEST_SMTP_PASSWORD"
cafile = "{cert}"
""",
        encoding="utf-8",
    )


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_the_digest_is_sent_over_smtp_with_starttls_to_every_recipient_pseudonymised(tmp_path, monkeypatch):
    project = _project(tmp_path)
    controller, inbox, cert, port = _smtp_server(tmp_path)
    try:
        _configure(project.root, port, cert)
        monkeypatch.setenv("QP_TEST_SMTP_PASSWORD", "hemmeligt")
        result = CliRunner().invoke(app, ["--project", str(project.root), "alerts", "send", "--week", "2024-W06"])
        assert result.exit_code == 0, result.output
        assert "hemmeligt" not in result.output
    finally:
        controller.stop()
    [(recipients, content)] = inbox.messages
    assert recipients == ["lene@kommune.example.org", "ole@kommune.example.org"]
    message = email.message_from_bytes(content)
    assert message["Message-ID"] and message["Date"] and message["From"] == "qualpipe@kommune.example.org"
    assert "HASTER" in message["Subject"]
    text = message.get_payload()[0].get_payload(decode=True).decode("utf-8")
    assert "AKUT" in text and "Sara" not in text and "[NAVN-" in text
    assert project.store.query("SELECT sent_to FROM digests WHERE week = '2024-W06'")[0][0].startswith("lene@")
    kept = project.root / "digests" / "digest-2024-W06.eml"
    assert kept.is_file() and oct(kept.stat().st_mode & 0o777) == "0o600"
    project.close()


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_refused_login_or_an_unreachable_server_is_one_line_and_nothing_is_marked_sent(tmp_path, monkeypatch):
    project = _project(tmp_path)
    controller, inbox, cert, port = _smtp_server(tmp_path)
    runner = CliRunner()
    out = tmp_path / "digest.eml"
    try:
        _configure(project.root, port, cert)
        monkeypatch.setenv("QP_TEST_SMTP_PASSWORD", "forkert")
        refused = runner.invoke(
            app, ["--project", str(project.root), "alerts", "--week", "2024-W06", "--send", "-f", "eml", "-o", str(out)]
        )
    finally:
        controller.stop()
    assert refused.exit_code == 1 and "refused the login" in refused.output and "forkert" not in refused.output
    assert out.is_file() and not inbox.messages  # the digest is still written
    unreachable = runner.invoke(app, ["--project", str(project.root), "alerts", "send", "--week", "2024-W06"])
    assert unreachable.exit_code == 1 and "could not be sent" in unreachable.output
    assert project.store.query("SELECT sent_at FROM digests WHERE week = '2024-W06'")[0][0] is None
    bad = runner.invoke(
        app,
        ["--project", str(project.root), "alerts", "--week", "2024-W06", "-f", "eml", "--to", "a@b.dk\nBcc: x@y.dk"],
    )
    assert bad.exit_code == 2 and "not one e-mail address" in bad.output
    project.close()


def test_hostile_text_and_case_ids_are_shown_not_run_in_every_format(tmp_path):
    project = new_corpus_project(tmp_path / "p")
    rows = [
        {
            "entry_id": "X-1",
            "case_id": "[/bold]<b>M99",
            "date": "2024-02-06",
            "text": "Hun fortalte, at stedfar slår hende. <script>alert(1)</script><img src=x onerror=alert(2)>",
        }
    ]
    _logbook(tmp_path / "hostile.jsonl", rows)
    project.ingest([tmp_path / "hostile.jsonl"], "logbook")
    project.close()
    runner = CliRunner()
    base = ["--project", str(project.root), "alerts", "--week", "2024-W06", "--show-identities"]
    terminal = runner.invoke(app, base)
    assert terminal.exit_code == 0 and "[/bold]<b>M99" in terminal.output  # no rich MarkupError
    markdown = runner.invoke(app, [*base, "-f", "markdown"]).output
    assert "<script>" not in markdown and "<img" not in markdown and "&lt;script&gt;" in markdown
    html = runner.invoke(app, [*base, "-f", "html"]).output
    assert "<script>" not in html and "<img src=x" not in html
