"""Project configuration: the `qualpipe.toml` file, its defaults and its template."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from qualpipe.embed.registry import DEFAULT_MODEL
from qualpipe.errors import UserError

CONFIG_NAME = "qualpipe.toml"
ROLES = ("interviewer", "parent", "child", "volunteer", "professional", "unknown")
LOGBOOK_FIELDS = ("entry_id", "case_id", "date", "author", "text")
# One address, no display name, no line breaks: a header injection ("a@b\nBcc: x@y") is refused.
EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")

TEMPLATE = """\
# qualpipe project configuration. Every value below is the default; uncomment to change.

[store]
# The SQLite store: a path relative to this file, or a URL "sqlite:///relative.db" / "sqlite:////absolute.db".
# path = "qualpipe.db"

[nlp]
# A trained Danish spaCy pipeline to use when it is installed (e.g. "da_core_news_sm" or a DaCy model).
# Empty: spaCy's blank Danish with a rule-based sentencizer and the lookup lemmatizer (spacy-lookups-data).
# pipeline = ""
# Languages that language detection chooses between (ISO 639-1).
# languages = ["da", "en", "sv", "nb", "de"]

[cleaning]
# Timestamps such as [00:03:12] are removed from the normalised text (the original is always kept).
# remove_timestamps = true
# Remove filler words (øh, øhm, hmm ...) from the normalised text.
# remove_fillers = false
# Your own filler list; empty uses qualpipe/data/fillers.da.txt.
# fillers = []

[ingest]
# A regular expression searched in each file name; the named group `case` gives the case id and
# `date` (YYYY-MM-DD) the interview date. Example: "(?P<case>M\\\\d+)_(?P<date>\\\\d{4}-\\\\d{2}-\\\\d{2})"
# filename_pattern = ""
# Limits that keep a damaged or hostile file from taking the machine: a file's size, what an Office file
# (.docx, .xlsx) unpacks to, and one document's length (spaCy reads up to 1,000,000 characters at once).
# max_file_mb = 100
# max_unzipped_mb = 100
# max_document_chars = 1000000

[logbook.columns]
# The column (or JSON field) that holds each logbook field, for exports that name them differently.
# entry_id = "entry_id"
# case_id = "case_id"
# date = "date"
# author = "author"
# text = "text"

[embedding]
# A model name from `qualpipe models` (built-in or models/registry.yaml) or a sentence-transformers folder.
# model = "e5-small-fast"
# batch_size = 64
# Extra model registry, relative to this file.
# registry = "models/registry.yaml"

[coding]
# A YAML codebook or a REFI-QDA codebook (.qdc); empty uses qualpipe's Danish default.
# codebook = ""
# "trained": qualpipe's theme coder trained on its labelled corpora (the default, used when the codebook
# is the built-in one); "zero-shot": similarity to each code's definition and examples (any codebook).
# coder = "trained"
# A zero-shot code is assigned when its score is at least this (the trained coder has its own per-code
# thresholds, chosen on held-out writers).
# threshold = 0.5
# Interviewer questions are not coded unless this is true.
# code_interviewer = false

[privacy]
# Digests and exports show pseudonymised text unless a command is given --show-identities.
# Pseudonyms: "tag" ([NAVN-1], [CPR-1] ...) or "name" (a substitute first name).
# pseudonym_style = "tag"
# Institution names (schools, kindergartens) to replace besides those found by pattern.
# institutions = []
# A spaCy pipeline with named entities (e.g. a DaCy model you have installed) whose person entities
# are replaced too, besides qualpipe's own name recognition.
# ner_pipeline = ""
# Store only pseudonymised text: names and other personal data are replaced before anything is stored.
# pseudonymise_at_ingest = false
# The re-identification key: which pseudonym stands for which name, per case, so that pseudonyms stay
# the same in every output and ingest run. It is kept apart from the store (as pseudonymisation under
# the GDPR requires): `qualpipe init` puts it outside the project, under ~/.local/share/qualpipe/keys/
# ($XDG_DATA_HOME), written 0600; back it up apart from the project. Never exported. Relative to this
# file, or absolute; projects made before this setting existed keep private/qualpipe-key.json.
# key = "private/qualpipe-key.json"

[flagging]
# "learned": the concern detector trained on the labelled corpus (with the lexicon adding what it misses);
# "lexicon": the older lexicon + example-sentence detector. A model trained with
# `qualpipe flag train --with-feedback` is kept in models/concern_model.npz and used instead of the shipped one.
# detector = "learned"
# How far below the alert threshold of violence and self-harm the "Tjek disse" (check) band reaches, as a fraction
# of that threshold: 0.5 shows an entry the detector scores at half the alert score or more. Lower shows more
# entries to check, 1.0 only the band the training chose (fewer entries, more urgent ones shown nowhere; README,
# "Concerns"). Never changes what is an alert.
# check_fraction = 0.5

[digest]
# Who the weekly digest e-mail is from and to (several recipients allowed).
# from = "qualpipe@kommune.dk"
# to = ["koordinator@kommune.dk"]

[smtp]
# Where `qualpipe alerts send` (or `alerts --send`) delivers the digest: STARTTLS on port 587 by default.
# The password is read from the environment variable named here, never from this file.
# host = "smtp.kommune.dk"
# port = 587
# user = "qualpipe"
# password_env = "QUALPIPE_SMTP_PASSWORD"
# starttls = true
# A CA bundle for a server with its own certificate authority (relative to this file).
# cafile = ""

[speakers]
# Speaker labels mapped to a role (interviewer, parent, child, volunteer, professional).
# Labels are matched case-insensitively; these add to the built-in Danish role words.
# "R" = "parent"
# "Anne" = "volunteer"
"""


@dataclass(frozen=True)
class Config:
    root: Path
    store_path: Path
    pipeline: str = ""
    languages: tuple[str, ...] = ("da", "en", "sv", "nb", "de")
    remove_timestamps: bool = True
    remove_fillers: bool = False
    fillers: tuple[str, ...] = ()
    filename_pattern: str = ""
    columns: dict[str, str] = field(default_factory=lambda: {f: f for f in LOGBOOK_FIELDS})
    speakers: dict[str, str] = field(default_factory=dict)
    embedding_model: str = DEFAULT_MODEL
    embedding_batch_size: int = 64
    model_registry: Path | None = None
    codebook: Path | None = None
    coding_threshold: float = 0.5
    coder: str = "trained"
    code_interviewer: bool = False
    pseudonym_style: str = "tag"
    institutions: tuple[str, ...] = ()
    pseudonymise_at_ingest: bool = False
    ner_pipeline: str = ""
    key_path: Path | None = None
    detector: str = "learned"
    check_fraction: float | None = None  # None: the flagger's own (CHECK_FRACTION in flagging/flagger.py)
    max_file_mb: int = 100
    max_unzipped_mb: int = 100
    max_document_chars: int = 1_000_000
    digest_from: str = "qualpipe@example.org"
    digest_to: tuple[str, ...] = ()
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password_env: str = "QUALPIPE_SMTP_PASSWORD"
    smtp_starttls: bool = True
    smtp_cafile: Path | None = None

    def with_overrides(
        self,
        *,
        columns: dict[str, str] | None = None,
        speakers: dict[str, str] | None = None,
        filename_pattern: str | None = None,
    ) -> "Config":
        return replace(
            self,
            columns={**self.columns, **(columns or {})},
            speakers={**self.speakers, **(speakers or {})},
            filename_pattern=self.filename_pattern if filename_pattern is None else filename_pattern,
        )

    @property
    def filename_regex(self) -> re.Pattern[str] | None:
        return re.compile(self.filename_pattern) if self.filename_pattern else None


def store_path_from(value: str, root: Path) -> Path:
    """Resolve a store path or a sqlite URL relative to the project root."""
    if value.startswith("sqlite:///"):
        value = value[len("sqlite:///"):]
    elif "://" in value:
        raise UserError(f"{CONFIG_NAME}: store '{value}' is not supported yet; use a path or sqlite:/// URL")
    path = Path(value)
    return path if path.is_absolute() else root / path


def load_config(root: Path) -> Config:
    """Read `root/qualpipe.toml`; a missing file is an error that says to run `qualpipe init`."""
    path = root / CONFIG_NAME
    if not path.is_file():
        raise UserError(f"{path}: no qualpipe project here; run 'qualpipe init {root}' first")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid TOML ({exc}); fix the file or re-create it with 'qualpipe init'")
    return config_from_dict(data, root, path)


def config_from_dict(data: dict, root: Path, path: Path | None = None) -> Config:
    where = path or root / CONFIG_NAME
    store = data.get("store", {})
    nlp = data.get("nlp", {})
    cleaning = data.get("cleaning", {})
    ingest = data.get("ingest", {})
    columns = data.get("logbook", {}).get("columns", {})
    speakers = data.get("speakers", {})
    embedding = data.get("embedding", {})
    coding = data.get("coding", {})
    privacy = data.get("privacy", {})
    flagging = data.get("flagging", {})
    digest = data.get("digest", {})
    smtp = data.get("smtp", {})
    recipients = digest.get("to", [])
    recipients = [recipients] if isinstance(recipients, str) else list(recipients)
    for address in [digest.get("from", "qualpipe@example.org"), *recipients]:
        if not EMAIL.fullmatch(str(address)):
            raise UserError(f"{where}: [digest] address {str(address)!r} is not an e-mail address")

    def choice(value, allowed: tuple[str, ...], setting: str) -> str:
        if str(value) not in allowed:
            raise UserError(f"{where}: {setting} = {value!r}; use {' or '.join(repr(a) for a in allowed)}")
        return str(value)

    detector = choice(flagging.get("detector", "learned"), ("learned", "lexicon"), "[flagging] detector")
    check_fraction = flagging.get("check_fraction")
    if check_fraction is not None and (
        isinstance(check_fraction, bool) or not isinstance(check_fraction, (int, float)) or not 0 < check_fraction <= 1
    ):
        raise UserError(f"{where}: [flagging] check_fraction = {check_fraction!r}; use a number above 0 and at most 1 "
                        "(0.5 is the default)")
    unknown = set(columns) - set(LOGBOOK_FIELDS)
    if unknown:
        raise UserError(
            f"{where}: [logbook.columns] has unknown field(s) {sorted(unknown)}; use {list(LOGBOOK_FIELDS)}"
        )
    bad_roles = {k: v for k, v in speakers.items() if v not in ROLES}
    if bad_roles:
        raise UserError(f"{where}: [speakers] maps to unknown role(s) {bad_roles}; use one of {list(ROLES)}")
    pattern = ingest.get("filename_pattern", "")
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise UserError(f"{where}: [ingest] filename_pattern is not a valid regular expression ({exc})")
    return Config(
        root=root,
        store_path=store_path_from(store.get("path", "qualpipe.db"), root),
        pipeline=nlp.get("pipeline", ""),
        languages=tuple(nlp.get("languages", Config.languages)),
        remove_timestamps=bool(cleaning.get("remove_timestamps", True)),
        remove_fillers=bool(cleaning.get("remove_fillers", False)),
        fillers=tuple(cleaning.get("fillers", ())),
        filename_pattern=pattern,
        columns={**{f: f for f in LOGBOOK_FIELDS}, **columns},
        speakers=dict(speakers),
        embedding_model=str(embedding.get("model", DEFAULT_MODEL)),
        embedding_batch_size=int(embedding.get("batch_size", 64)),
        model_registry=root / embedding.get("registry", "models/registry.yaml"),
        codebook=root / coding["codebook"] if coding.get("codebook") else None,
        coding_threshold=float(coding.get("threshold", 0.5)),
        coder=choice(coding.get("coder", "trained"), ("trained", "zero-shot"), "[coding] coder"),
        code_interviewer=bool(coding.get("code_interviewer", False)),
        pseudonym_style=str(privacy.get("pseudonym_style", "tag")),
        institutions=tuple(str(i) for i in privacy.get("institutions", [])),
        pseudonymise_at_ingest=bool(privacy.get("pseudonymise_at_ingest", False)),
        ner_pipeline=str(privacy.get("ner_pipeline", "")),
        key_path=root / Path(str(privacy.get("key", "private/qualpipe-key.json"))).expanduser(),
        detector=detector,
        check_fraction=None if check_fraction is None else float(check_fraction),
        max_file_mb=int(ingest.get("max_file_mb", 100)),
        max_unzipped_mb=int(ingest.get("max_unzipped_mb", 100)),
        max_document_chars=int(ingest.get("max_document_chars", 1_000_000)),
        digest_from=str(digest.get("from", "qualpipe@example.org")),
        digest_to=tuple(str(r) for r in recipients),
        smtp_host=str(smtp.get("host", "")),
        smtp_port=int(smtp.get("port", 587)),
        smtp_user=str(smtp.get("user", "")),
        smtp_password_env=str(smtp.get("password_env", "QUALPIPE_SMTP_PASSWORD")),
        smtp_starttls=bool(smtp.get("starttls", True)),
        smtp_cafile=root / smtp["cafile"] if smtp.get("cafile") else None,
    )


def default_key_path(root: Path) -> Path:
    """Where `init` puts a new project's pseudonym key: outside the project, one file per project."""
    import os
    import secrets

    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "qualpipe" / "keys" / f"{root.resolve().name}-{secrets.token_hex(4)}.json"


def template_for(root: Path) -> str:
    """The commented configuration a new project starts with, its key path filled in."""
    line = '# key = "private/qualpipe-key.json"'
    return TEMPLATE.replace(line, f"{line}\nkey = {json_string(str(default_key_path(root)))}")


def json_string(text: str) -> str:
    """A TOML basic string (JSON's escaping is valid TOML)."""
    import json

    return json.dumps(text, ensure_ascii=False)
