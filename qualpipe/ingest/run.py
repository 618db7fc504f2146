"""Ingestion: files and folders in, documents, turns and segments stored, one transaction per file."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from qualpipe.config import Config
from qualpipe.data import read_lines
from qualpipe.errors import InputError, UserError
from qualpipe.ingest.decode import decode_text, read_file_bytes
from qualpipe.ingest.logbooks import READERS as LOGBOOK_READERS
from qualpipe.ingest.logbooks import parse_date, read_logbook
from qualpipe.ingest.transcripts import TRANSCRIPT_FORMATS, Turn
from qualpipe.store import Store, utc_now
from qualpipe.text.language import detect_languages, start_loading
from qualpipe.text.normalize import filler_pattern
from qualpipe.text.roles import RoleResolver
from qualpipe.text.segment import Cleaning, segment_turns

log = logging.getLogger(__name__)

INTERVIEW_SUFFIXES = tuple(TRANSCRIPT_FORMATS)
LOGBOOK_SUFFIXES = tuple(LOGBOOK_READERS)
KINDS = ("interview", "logbook")


@dataclass(frozen=True)
class DocumentDraft:
    doc_key: str
    kind: str
    case_id: str | None
    date: str | None
    author: str | None
    source_path: str
    source_format: str
    encoding: str | None
    text: str
    turns: tuple[Turn, ...]

    @property
    def content_hash(self) -> str:
        parts = (self.kind, self.case_id or "", self.date or "", self.author or "", self.text)
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


@dataclass
class IngestReport:
    """What one ingest call did, per file; `errors` are one-line messages safe to show."""

    files: int = 0
    skipped_files: int = 0
    added: int = 0
    new_versions: int = 0
    unchanged: int = 0
    segments: int = 0
    errors: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (file, one-line problem), for the digest

    @property
    def ok(self) -> bool:
        return not self.errors


def discover(paths: Iterable[Path], report: IngestReport) -> list[Path]:
    """Files named or found (recursively, hidden ones skipped) under the given paths, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.exists():
            found.append(path)
        else:
            report.errors.append(f"{path}: no such file or folder; check the path")
    return found


def _filename_fields(path: Path, config: Config) -> dict[str, str]:
    pattern = config.filename_regex
    match = pattern.search(path.name) if pattern else None
    return {k: v for k, v in match.groupdict().items() if v} if match else {}


def check_size(path: Path, config: Config) -> None:
    size = path.stat().st_size if path.exists() else 0
    if size > config.max_file_mb * 1_000_000:
        raise InputError(path, f"is {size / 1e6:.0f} MB, more than {config.max_file_mb} MB ([ingest] max_file_mb); "
                               "split it or raise the limit")


def check_unzipped_size(path: Path, config: Config) -> None:
    """A .docx or .xlsx is a zip: refuse one that would unpack to more than the limit (a zip bomb)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise InputError(path, "is not a readable Office file; open and re-save it") from None
    if unpacked > config.max_unzipped_mb * 1_000_000:
        raise InputError(path, f"would unpack to {unpacked / 1e6:.0f} MB, more than {config.max_unzipped_mb} MB "
                               "([ingest] max_unzipped_mb); it is damaged or not a document")


class Ingester:
    """Parses files of one kind and stores them; built once per `ingest` call."""

    def __init__(self, store: Store, config: Config, kind: str, *, case_id: str | None = None):
        if kind not in KINDS:
            raise ValueError(kind)
        self.store = store
        self.config = config
        self.kind = kind
        self.case_id = case_id
        self.roles = RoleResolver(config.speakers)
        self._nlp = None  # spaCy and lingua load at the first file with something new to store
        fillers = None
        if config.remove_fillers:
            words = config.fillers or _default_fillers()
            fillers = filler_pattern(words)
        self.cleaning = Cleaning(config.remove_timestamps, fillers)
        self.pseudonymiser = None
        if config.pseudonymise_at_ingest:
            from qualpipe.privacy.pseudonymise import Pseudonymiser

            self.pseudonymiser = Pseudonymiser.from_key(
                config.key_path, style=config.pseudonym_style, institutions=config.institutions,
                ner_pipeline=config.ner_pipeline)

    def nlp(self):
        if self._nlp is None:
            from qualpipe.text.nlp import load_nlp

            self._nlp = load_nlp(self.config.pipeline)
        return self._nlp

    def ingest(self, paths: Sequence[Path], progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """`progress(done, total)` is called after every file."""
        report = IngestReport()
        files = discover(paths, report)
        report.failures += [(e.split(": ")[0], e) for e in report.errors]
        succeeded: list[str] = []
        for path in files:
            report.files += 1
            before = len(report.failures)
            try:
                self._ingest_file(path, report)
            except InputError as exc:
                report.errors.append(str(exc))
                report.failures.append((exc.path, str(exc)))
                log.info("ingest failed for one file (%s)", type(exc).__name__)
            except (UserError, sqlite3.Error):
                raise  # a configuration problem or a store failure is not the file's: it stops the run
            except Exception as exc:  # a damaged file must not end the batch (zlib, XML, zip…)
                message = f"{path}: could not be read ({type(exc).__name__}); open and re-save it, or remove it"
                report.errors.append(message)
                report.failures.append((str(path), message))
                log.info("ingest failed for one file (%s)", type(exc).__name__)
            if len(report.failures) == before:
                succeeded.append(str(path))
            if progress:
                progress(report.files, len(files))
        if self.pseudonymiser is not None:
            self.pseudonymiser.save_key(self.config.key_path)
        self._record_failures(report, succeeded)
        return report

    def _record_failures(self, report: IngestReport, succeeded: list[str]) -> None:
        """Keep what failed for the digest (it shows unresolved failures first); a file that now ingests
        cleanly resolves its earlier failures."""
        now = utc_now()
        with self.store.transaction() as conn:
            conn.executemany(
                "UPDATE ingest_failures SET resolved_at = ? WHERE source_path = ? AND resolved_at IS NULL",
                [(now, path) for path in succeeded],
            )
            conn.executemany(
                "INSERT INTO ingest_failures (kind, source_path, message, failed_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (source_path, message) DO UPDATE SET failed_at = excluded.failed_at, resolved_at = NULL",
                [(self.kind, path, message, now) for path, message in report.failures],
            )

    def _ingest_file(self, path: Path, report: IngestReport) -> None:
        suffix = path.suffix.lower()
        accepted = INTERVIEW_SUFFIXES if self.kind == "interview" else LOGBOOK_SUFFIXES
        if suffix not in accepted:
            other = "logbook" if suffix in LOGBOOK_SUFFIXES else "interview" if suffix in INTERVIEW_SUFFIXES else None
            hint = f"use --kind {other}" if other else f"qualpipe reads {', '.join(accepted)} as {self.kind}s"
            raise InputError(path, f"unknown or wrong file type '{suffix or '(none)'}' for --kind {self.kind}; {hint}")
        check_size(path, self.config)
        data = read_file_bytes(path)
        if suffix in (".docx", ".xlsx"):
            check_unzipped_size(path, self.config)
        file_key = str(path.resolve())
        sha = hashlib.sha256(data).hexdigest()
        if self.store.file_hash(file_key) == sha:
            report.skipped_files += 1
            return
        start_loading(self.config.languages)  # lingua's models load while the file is parsed and spaCy loads
        if self.kind == "interview":
            drafts, row_errors = [self._interview_draft(path, suffix, data)], []
        else:
            drafts, row_errors = self._logbook_drafts(path)
        too_long = [d for d in drafts if len(d.text) > self.config.max_document_chars]
        if too_long:
            raise InputError(
                path,
                f"a document holds {len(too_long[0].text):,} characters, more than "
                f"{self.config.max_document_chars:,} ([ingest] max_document_chars); split the file",
            )
        report.errors += [str(e) for e in row_errors]
        report.failures += [(e.path, str(e)) for e in row_errors]
        prepared = [(d, *segmented) for d, segmented in zip(drafts, self._segments(drafts))]
        with self.store.transaction():
            for draft, segments, language in prepared:
                self._store_document(draft, segments, language, report)
            if not row_errors:
                # Only a fully ingested file is skipped next time; a file with bad rows is re-read
                # (its good rows are then unchanged) so that its errors are reported again.
                self.store.conn.execute(
                    "INSERT INTO files (path, sha256, kind, ingested_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(path) DO UPDATE SET sha256 = excluded.sha256, ingested_at = excluded.ingested_at",
                    (file_key, sha, self.kind, utc_now()),
                )

    def redraft(self, row) -> DocumentDraft:
        """A stored document as a draft again, its turns parsed from the stored text with the current settings."""
        text, source_format = row["text"], row["source_format"]
        if row["kind"] == "interview":
            turns = self._transcript_turns(text, source_format, Path(row["source_path"]))
        else:
            turns = [Turn(row["author"], self._author_role(row["author"]), 0, len(text))]
        return DocumentDraft(
            doc_key="",
            kind=row["kind"],
            case_id=row["case_id"],
            date=row["date"],
            author=row["author"],
            source_path=row["source_path"],
            source_format=source_format,
            encoding=None,
            text=text,
            turns=tuple(turns),
        )

    def _transcript_turns(self, text: str, source_format: str, path: Path) -> list[Turn]:
        """A transcript's turns by its format (ingest.transcripts.TRANSCRIPT_FORMATS; unknown: plain text)."""
        return TRANSCRIPT_FORMATS.get(f".{source_format}", TRANSCRIPT_FORMATS[".txt"]).parse(text, path, self.roles)

    def _author_role(self, author: str | None) -> str:
        """A logbook author's role: the one [speakers] gives them, else volunteer."""
        return (self.roles.configured(author) if author else None) or "volunteer"

    def _interview_draft(self, path: Path, suffix: str, data: bytes) -> DocumentDraft:
        read = TRANSCRIPT_FORMATS[suffix].read
        text, encoding = (read(path), None) if read is not None else decode_text(data, path)
        turns = self._transcript_turns(text, suffix.lstrip("."), path)
        if not turns:
            raise InputError(path, "holds no transcript text; check that it is the right file")
        fields = _filename_fields(path, self.config)
        case_id = self.case_id or fields.get("case")
        if self.pseudonymiser is not None:
            text, turns = self._pseudonymise_turns(text, turns, f"case:{case_id}" if case_id else f"file:{path.name}")
        date = None
        if "date" in fields:
            try:
                date = parse_date(fields["date"])
            except ValueError:
                raise InputError(
                    path, "the date in the file name is not a date; fix the name or [ingest] filename_pattern"
                )
        return DocumentDraft(
            doc_key=f"interview:{path.resolve()}",
            kind="interview",
            case_id=case_id,
            date=date,
            author=None,
            source_path=str(path),
            source_format=suffix.lstrip("."),
            encoding=encoding,
            text=text,
            turns=tuple(turns),
        )

    def _pseudonymise_turns(self, text: str, turns: list[Turn], scope: str) -> tuple[str, list[Turn]]:
        """Replace personal data before storing: turns were parsed (and roles read) on the original,
        and are moved onto the same words of the pseudonymised text."""
        result = self.pseudonymiser.pseudonymise(text, scope)
        moved = []
        for t in turns:
            start, end = result.mapping.from_original(t.start, t.end)
            drop = tuple(result.mapping.from_original(a, b) for a, b in t.drop)
            speaker = self.pseudonymiser.pseudonymise(t.speaker, scope).text if t.speaker else None
            moved.append(Turn(speaker, t.role, start, end, drop))
        return result.text, moved

    def _logbook_drafts(self, path: Path) -> tuple[list[DocumentDraft], list[InputError]]:
        rows, errors = read_logbook(path, self.config.columns, default_case=self.case_id)
        drafts = []
        for row in rows:
            role = self._author_role(row.author)  # from the real name, before pseudonymising
            if self.pseudonymiser is not None:
                scope = f"case:{self.case_id or row.case_id}"
                row = replace(
                    row,
                    text=self.pseudonymiser.pseudonymise(row.text, scope).text,
                    author=self.pseudonymiser.pseudonymise(row.author, scope).text if row.author else None,
                )
            turn = Turn(row.author, role, 0, len(row.text))
            drafts.append(
                DocumentDraft(
                    doc_key=f"logbook:{row.entry_id}",
                    kind="logbook",
                    case_id=self.case_id or row.case_id,
                    date=row.date,
                    author=row.author,
                    source_path=f"{path}#row={row.row}",
                    source_format=path.suffix.lower().lstrip("."),
                    encoding=None,
                    text=row.text,
                    turns=(turn,),
                )
            )
        return drafts, errors

    def _segments(self, drafts: list[DocumentDraft]) -> list[tuple[list, str | None]]:
        """Each document's sentence segments with their languages, and the document's language.

        The languages of a file's documents, then of all their segments, are each scored in one
        parallel call to lingua."""
        segmented = [segment_turns(d.text, d.turns, self.nlp(), self.cleaning) for d in drafts]
        codes = self.config.languages
        wholes = [" ".join(s.norm_text for s in segments)[:3000] for segments in segmented]
        # The project's first language is the prior a document must clearly move away from.
        doc_languages = detect_languages(wholes, codes, [codes[0]] * len(wholes))
        flat = [(s.norm_text, language) for segments, language in zip(segmented, doc_languages) for s in segments]
        languages = iter(detect_languages([text for text, _ in flat], codes, [language for _, language in flat]))
        return [(list(zip(segments, languages)), language) for segments, language in zip(segmented, doc_languages)]

    def _store_document(self, draft: DocumentDraft, segments, language: str | None, report: IngestReport) -> None:
        conn = self.store.conn
        content_hash = draft.content_hash
        current = self.store.current_document(draft.doc_key)
        if current is not None and current["content_hash"] == content_hash:
            report.unchanged += 1
            return
        if current is None and draft.kind == "interview" and self.store.has_current_content(content_hash, draft.kind):
            # The same transcript under another path (a moved or copied file): not a second interview.
            report.unchanged += 1
            return
        now = utc_now()
        if draft.case_id:
            conn.execute("INSERT OR IGNORE INTO cases (case_id, first_seen) VALUES (?, ?)", (draft.case_id, now))
        version = 1
        if current is not None:
            version = current["version"] + 1
            conn.execute("UPDATE documents SET superseded_at = ? WHERE id = ?", (now, current["id"]))
            report.new_versions += 1
        else:
            report.added += 1
        document_id = conn.execute(
            "INSERT INTO documents (doc_key, version, kind, case_id, date, author, source_path, source_format,"
            " encoding, content_hash, text, language, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                draft.doc_key,
                version,
                draft.kind,
                draft.case_id,
                draft.date,
                draft.author,
                draft.source_path,
                draft.source_format,
                draft.encoding,
                content_hash,
                draft.text,
                language,
                now,
            ),
        ).lastrowid
        turn_ids = []
        for index, turn in enumerate(draft.turns):
            turn_ids.append(
                conn.execute(
                    "INSERT INTO turns (document_id, idx, speaker, role, start, end) VALUES (?,?,?,?,?,?)",
                    (document_id, index, turn.speaker, turn.role, turn.start, turn.end),
                ).lastrowid
            )
        conn.executemany(
            "INSERT INTO segments (document_id, turn_id, idx, start, end, text, norm_text, speaker, role,"
            " case_id, date, language) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    document_id,
                    turn_ids[seg.turn_index],
                    index,
                    seg.start,
                    seg.end,
                    seg.text,
                    seg.norm_text,
                    draft.turns[seg.turn_index].speaker,
                    draft.turns[seg.turn_index].role,
                    draft.case_id,
                    draft.date,
                    lang,
                )
                for index, (seg, lang) in enumerate(segments)
            ],
        )
        report.segments += len(segments)


def _default_fillers() -> list[str]:
    return read_lines("fillers.da.txt")


@dataclass
class ReparseReport:
    documents: int = 0
    changed: int = 0
    segments_kept: int = 0
    segments_added: int = 0
    segments_removed: int = 0


def reparse(store, config, progress: Callable[[int, int], None] | None = None) -> ReparseReport:
    """Re-read every current document's stored text with the current settings ([speakers], cleaning):
    its turns and segments are derived again; what later stages stored stays. A segment whose span is
    unchanged keeps its id (so its codes, reviews and topic assignments stay, with its new speaker and
    role); a human code or decision on a segment that no longer exists moves to the new segment that
    overlaps it most; machine codes of removed segments go (re-run `qualpipe code`). Each document is
    one transaction; running it again changes nothing."""
    report = ReparseReport()
    rows = store.query(
        "SELECT id, kind, case_id, date, author, source_path, source_format, text FROM documents "
        "WHERE superseded_at IS NULL ORDER BY id"
    )
    ingesters = {kind: Ingester(store, config, kind) for kind in {r["kind"] for r in rows}}
    for number, row in enumerate(rows, 1):
        report.documents += 1
        ingester = ingesters[row["kind"]]
        draft = ingester.redraft(row)
        ((segments, _language),) = ingester._segments([draft])
        old_turns = [
            (t["speaker"], t["role"], t["start"], t["end"])
            for t in store.query(
                "SELECT speaker, role, start, end FROM turns WHERE document_id = ? ORDER BY idx", (row["id"],)
            )
        ]
        old = store.query(
            "SELECT id, start, end, norm_text FROM segments WHERE document_id = ? ORDER BY idx", (row["id"],)
        )
        new_turns = [(t.speaker, t.role, t.start, t.end) for t in draft.turns]
        if new_turns == old_turns and [(s["start"], s["end"], s["norm_text"]) for s in old] == [
            (s.start, s.end, s.norm_text) for s, _ in segments
        ]:
            if progress:
                progress(number, len(rows))
            continue
        report.changed += 1
        with store.transaction() as conn:
            _replace_structure(conn, row, draft, segments, old, report)
        if progress:
            progress(number, len(rows))
    return report


def _replace_structure(conn, row, draft: DocumentDraft, segments, old, report: ReparseReport) -> None:
    old_turns = [r[0] for r in conn.execute("SELECT id FROM turns WHERE document_id = ?", (row["id"],))]
    conn.execute("UPDATE turns SET idx = -1 - idx WHERE document_id = ?", (row["id"],))  # free the idx values
    turn_ids = [
        conn.execute(
            "INSERT INTO turns (document_id, idx, speaker, role, start, end) VALUES (?,?,?,?,?,?)",
            (row["id"], index, t.speaker, t.role, t.start, t.end),
        ).lastrowid
        for index, t in enumerate(draft.turns)
    ]
    by_span = {(s["start"], s["end"]): s["id"] for s in old}
    conn.execute("UPDATE segments SET idx = -1 - idx WHERE document_id = ?", (row["id"],))  # free the idx values
    kept, placed = set(), []
    for index, (seg, language) in enumerate(segments):
        turn = draft.turns[seg.turn_index]
        values = (turn_ids[seg.turn_index], index, seg.text, seg.norm_text, turn.speaker, turn.role, language)
        existing = by_span.get((seg.start, seg.end))
        if existing is not None and existing not in kept:
            conn.execute(
                "UPDATE segments SET turn_id = ?, idx = ?, text = ?, norm_text = ?, speaker = ?, role = ?, "
                "language = ? WHERE id = ?",
                (*values, existing),
            )
            kept.add(existing)
            placed.append((existing, seg.start, seg.end))
            report.segments_kept += 1
        else:
            new_id = conn.execute(
                "INSERT INTO segments (document_id, turn_id, idx, start, end, text, norm_text, speaker, role, case_id,"
                " date, language) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    row["id"],
                    values[0],
                    index,
                    seg.start,
                    seg.end,
                    seg.text,
                    seg.norm_text,
                    turn.speaker,
                    turn.role,
                    row["case_id"],
                    row["date"],
                    language,
                ),
            ).lastrowid
            placed.append((new_id, seg.start, seg.end))
            report.segments_added += 1
    gone = [s for s in old if s["id"] not in kept]
    for segment in gone:
        overlap = max(placed, key=lambda p: min(p[2], segment["end"]) - max(p[1], segment["start"]), default=None)
        target = overlap[0] if overlap and min(overlap[2], segment["end"]) > max(overlap[1], segment["start"]) else None
        if target is not None:
            for table in ("codings", "reviews", "code_decisions"):
                where = "source = 'human' AND " if table == "codings" else ""
                conn.execute(
                    f"UPDATE OR IGNORE {table} SET segment_id = ? WHERE {where}segment_id = ?", (target, segment["id"])
                )
        for table in ("codings", "reviews", "code_decisions", "segment_topics"):
            conn.execute(f"DELETE FROM {table} WHERE segment_id = ?", (segment["id"],))
        conn.execute("DELETE FROM segments WHERE id = ?", (segment["id"],))
        report.segments_removed += 1
    conn.executemany("DELETE FROM turns WHERE id = ?", [(t,) for t in old_turns])
