"""REFI-QDA projects (.qdpx): export for NVivo, ATLAS.ti, MAXQDA and QualCoder, and import of human codes.

The traps the standard's readers fall into, and how we meet them: sources live in a flat lower-case
`sources/` folder as `<GUID>.txt`; selection positions count Unicode code points on exactly the
text written (our stored text, LF line endings); cases refer to sources with `SourceRef`; the
children of `Project` come in the schema's fixed order; every file is validated against the
REFI-QDA project schema before it is written. GUIDs are derived from stable keys (uuid5), so the
same store exports the same file and an import finds its documents and codes again.
"""

from __future__ import annotations

import bisect
import datetime as dt
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable
from xml.etree import ElementTree as ET

from qualpipe.data import data_path
from qualpipe.errors import UserError
from qualpipe.private_files import private_file
from qualpipe.store import insert_codings, utc_now

NS = "urn:QDA-XML:project:1.0"
GUID_NAMESPACE = uuid.UUID("6f1c2a52-8e0b-4c39-9c3a-5b0f8f4b7a10")
MACHINE_USER = "qualpipe (maskine)"  # never the first user: QualCoder makes the first user the current coder
MACHINE_USERS = (MACHINE_USER, "qualpipe")  # "qualpipe": exports before the machine was named so
EVALUATOR = "evaluator"  # the first user when the project has no human coder yet
# Speaker roles go out as codes (one coding per interview turn, by the machine), so an evaluator can code
# or filter by speaker in any REFI-QDA program; their descriptions start "[taler:ROLE]" and an import skips them.
SPEAKER_CODES = {"interviewer": "Taler: interviewer", "parent": "Taler: forælder", "child": "Taler: barn",
                 "volunteer": "Taler: frivillig", "professional": "Taler: fagperson", "unknown": "Taler: ukendt"}
_FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def guid(*parts: object) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(str(p) for p in parts)))


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    return ET.SubElement(parent, _q(tag), {k: v for k, v in attributes.items() if v is not None})


def _selection(parent: ET.Element, guid_: str, start: int, end: int, user: str, created: str) -> ET.Element:
    """A PlainTextSelection of characters [start, end) of its TextSource."""
    return _sub(parent, "PlainTextSelection", guid=guid_, name=f"{start}-{end}", startPosition=str(start),
                endPosition=str(end), creatingUser=user, creationDateTime=created)


def _coding(selection: ET.Element, guid_: str, user: str, created: str, code: str) -> None:
    """A Coding of `selection` with the code whose GUID is `code`."""
    coding = _sub(selection, "Coding", guid=guid_, creatingUser=user, creationDateTime=created)
    _sub(coding, "CodeRef", targetGUID=code)


def _datetime(value: str | None) -> str:
    value = value or "2020-01-01T00:00:00+00:00"
    return dt.datetime.fromisoformat(value).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=1)
def project_schema():
    import xmlschema

    return xmlschema.XMLSchema(str(data_path("refi-qda-project.xsd")))


def validate_project_xml(xml: bytes) -> None:
    """Raise if `xml` is not a valid REFI-QDA project: a bug in qualpipe, never the user's fault."""
    errors = list(project_schema().iter_errors(xml.decode("utf-8")))
    if errors:
        raise RuntimeError(f"qualpipe wrote an invalid project.qde: {errors[0].reason}")


@dataclass
class ExportReport:
    path: Path
    sources: int = 0
    selections: int = 0
    codings: int = 0
    cases: int = 0


def export_qdpx(store, codebook, path: Path, *, name: str = "qualpipe", kind: str | None = None,
                include_machine: bool = True, pseudonyms=None, logbooks_per_case: bool = True) -> ExportReport:
    """Write the store's current documents, `codebook`, codings and cases as a .qdpx project called `name`.

    With `pseudonyms` (a CasePseudonyms) the sources are pseudonymised and every selection is moved
    to the same words in the pseudonymised text. With `logbooks_per_case` (the default) each case's
    logbook entries are one source, in date order, each entry a paragraph under its date: a QDA program
    shows one document per child instead of one per visit, and positions map back to the entries."""
    documents = store.query(
        "SELECT id, doc_key, version, kind, case_id, date, source_path, text, ingested_at FROM documents "
        "WHERE superseded_at IS NULL" + (" AND kind = ?" if kind else "") + " ORDER BY case_id, date, id",
        (kind,) if kind else ())
    if not documents:
        raise UserError("nothing to export: the project holds no documents; run 'qualpipe ingest' first")
    if pseudonyms is not None:
        pseudonyms.warm(d["case_id"] for d in documents)
    codings = store.query(
        "SELECT c.segment_id, c.code, c.score, c.source, c.coder, c.method, c.start, c.end, c.created_at, "
        "s.document_id FROM codings c JOIN segments s ON s.id = c.segment_id "
        + ("" if include_machine else "WHERE c.source = 'human' ")
        + "ORDER BY s.document_id, c.start, c.end, c.code, c.coder"
    )
    report = ExportReport(path)
    coders = sorted({c["coder"] for c in codings if c["source"] == "human"}) or [EVALUATOR]
    # humans first: a program that takes the first user as its current coder (QualCoder) then codes as a human
    user_guid = {**{name: guid("user", name) for name in coders}, MACHINE_USER: guid("user", MACHINE_USER)}
    created = _datetime(max(d["ingested_at"] for d in documents))

    root = ET.Element(
        _q("Project"),
        {
            "name": name or "qualpipe",
            "origin": "qualpipe",
            "creatingUserGUID": user_guid[MACHINE_USER],
            "creationDateTime": created,
        },
    )
    users = _sub(root, "Users")
    for name, value in user_guid.items():
        _sub(users, "User", guid=value, name=name)

    code_guid = {code.id: guid("code", code.id) for code in codebook.codes}
    extra_codes = sorted({c["code"] for c in codings} - set(code_guid))
    codes_el = _sub(_sub(root, "CodeBook"), "Codes")
    for code in codebook.codes:
        element = _sub(
            codes_el, "Code", guid=code_guid[code.id], name=code.label_da, isCodable="true", color=code.color
        )
        ET.SubElement(element, _q("Description")).text = f"[{code.id}] {code.definition}".strip()
    for code_id in extra_codes:
        code_guid[code_id] = guid("code", code_id)
        element = _sub(codes_el, "Code", guid=code_guid[code_id], name=code_id, isCodable="true")
        ET.SubElement(element, _q("Description")).text = f"[{code_id}]"
    turns = store.query(
        "SELECT t.document_id, t.role, t.start, t.end FROM turns t JOIN documents d ON d.id = t.document_id "
        "WHERE d.superseded_at IS NULL AND d.kind = 'interview' AND t.end > t.start ORDER BY t.document_id, t.idx"
    )
    turns_of: dict[int, list] = defaultdict(list)
    for t in turns:
        turns_of[t["document_id"]].append(t)
    for role in sorted({t["role"] for t in turns}):
        element = _sub(
            codes_el,
            "Code",
            guid=guid("speaker", role),
            name=SPEAKER_CODES.get(role, f"Taler: {role}"),
            isCodable="true",
            color="#BBBBBB",
        )
        ET.SubElement(element, _q("Description")).text = f"[taler:{role}] Hvem der taler (qualpipe)"

    # "case" on every source too: programs that ignore a Case's SourceRef (QualCoder) keep case membership
    variables = {"case": "Text", "kind": "Text", "date": "Date", "logbook_entries": "Integer", "interviews": "Integer"}
    variable_guid = {name: guid("variable", name) for name in variables}
    variables_el = _sub(root, "Variables")
    for name, kind_of in variables.items():
        _sub(variables_el, "Variable", guid=variable_guid[name], name=name, typeOfVariable=kind_of)

    sources = export_sources(documents, pseudonyms, logbooks_per_case)
    by_case: dict[str, list] = defaultdict(list)
    for source in sources:
        if source.case_id:
            by_case[source.case_id].append(source)
    if by_case:
        cases_el = _sub(root, "Cases")
        for case_id in sorted(by_case):
            members = [d for d in documents if d["case_id"] == case_id]
            case_el = _sub(cases_el, "Case", guid=guid("case", case_id), name=case_id)
            for name, count in (
                ("logbook_entries", sum(d["kind"] == "logbook" for d in members)),
                ("interviews", sum(d["kind"] == "interview" for d in members)),
            ):
                value = _sub(case_el, "VariableValue")
                _sub(value, "VariableRef", targetGUID=variable_guid[name])
                ET.SubElement(value, _q("IntegerValue")).text = str(count)
            for source in by_case[case_id]:
                _sub(case_el, "SourceRef", targetGUID=source.guid)
            report.cases += 1

    by_document: dict[int, list] = defaultdict(list)
    for c in codings:
        by_document[c["document_id"]].append(c)
    sources_el = _sub(root, "Sources")
    files: dict[str, str] = {}
    for source in sources:
        element = _sub(
            sources_el,
            "TextSource",
            guid=source.guid,
            name=source.name,
            plainTextPath=f"internal://{source.guid}.txt",
            creatingUser=user_guid[MACHINE_USER],
            creationDateTime=source.created,
        )
        selections: dict[tuple[int, int], list] = defaultdict(list)
        spoken = []
        for piece in source.pieces:
            for c in by_document.get(piece.document_id, []):
                start, end = piece.outward(c["start"], c["end"])
                selections[(start, end)].append(c)
            for turn in turns_of.get(piece.document_id, []):
                spoken.append((*piece.outward(turn["start"], turn["end"]), turn["role"]))
        machine_user = user_guid[MACHINE_USER]
        for start, end, role in spoken:
            speaker = _selection(element, guid("turn", source.guid, start, end), start, end, machine_user,
                                 source.created)
            _coding(speaker, guid("turn coding", source.guid, start, end), machine_user, source.created,
                    guid("speaker", role))
        for (start, end), group in sorted(selections.items()):
            selection = _selection(element, guid("selection", source.guid, start, end), start, end, machine_user,
                                   _datetime(group[0]["created_at"]))
            machine = [c for c in group if c["source"] == "machine"]
            if machine:
                ET.SubElement(selection, _q("Description")).text = (
                    "; ".join(f"{c['code']} {c['score']:.2f}" for c in machine) + f" ({machine[0]['method']})"
                )
            for c in group:
                user = MACHINE_USER if c["source"] == "machine" else c["coder"]
                _coding(selection, guid("coding", source.guid, start, end, c["code"], user), user_guid[user],
                        _datetime(c["created_at"]), code_guid[c["code"]])
                report.codings += 1
            report.selections += 1
        for name, value_text, value_tag in (
            ("case", source.case_id, "TextValue"),
            ("kind", source.kind, "TextValue"),
            ("date", source.date, "DateValue"),
        ):
            if value_text:
                value = _sub(element, "VariableValue")
                _sub(value, "VariableRef", targetGUID=variable_guid[name])
                ET.SubElement(value, _q(value_tag)).text = value_text
        files[f"sources/{source.guid}.txt"] = source.text
        report.sources += 1

    ET.register_namespace("", NS)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    validate_project_xml(xml)
    # the sources are the transcripts: owner only, like the store
    with private_file(path, "wb") as handle, zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _write(archive, "project.qde", xml)
        for name in sorted(files):
            _write(archive, name, files[name].replace("\r\n", "\n").encode("utf-8"))
    return report


def _write(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    archive.writestr(info, data)


def _source_name(document, pseudonymised: bool = False) -> str:
    """The source's name in the QDA program; pseudonymised, it never shows the file name, which often
    names the person interviewed ("samtale med Søren Madsen.txt")."""
    if document["kind"] == "logbook":
        return f"{document['case_id']} logbog {document['date'] or ''} ({document['doc_key'].split(':', 1)[1]})".strip()
    if pseudonymised:
        return f"{document['case_id'] or 'uden sag'} interview {document['date'] or ''} (#{document['id']})".strip()
    return Path(document["source_path"].split("#", 1)[0]).name


@dataclass
class Piece:
    """A stored document inside an exported source: its text starts at `offset`; `view` is the document
    as exported (pseudonymised or not), with `mapping` back to the stored text when pseudonymised."""

    document_id: int
    offset: int
    view_text: str
    mapping: object = None

    def outward(self, start: int, end: int) -> tuple[int, int]:
        """Stored positions to the source's."""
        if self.mapping is not None:
            start, end = self.mapping.from_original(start, end)
        return start + self.offset, end + self.offset

    def inward(self, start: int, end: int) -> tuple[int, int]:
        """The source's positions (inside this piece) to the stored text's."""
        start, end = max(start - self.offset, 0), min(end - self.offset, len(self.view_text))
        if self.mapping is not None and start < end:
            return self.mapping.to_original(start, end)
        return start, end


@dataclass
class ExportSource:
    guid: str
    name: str
    kind: str
    case_id: str | None
    date: str | None
    created: str
    text: str
    pieces: list[Piece]


def export_sources(documents, pseudonyms, logbooks_per_case: bool) -> list[ExportSource]:
    """The sources of an export: each interview on its own; each case's logbook entries together (or each
    entry on its own), "DATE" as a line above each entry and a blank line between entries."""

    def view(d) -> tuple[str, object]:
        if pseudonyms is None:
            return d["text"], None
        result = pseudonyms.document(d["id"])
        return result.text, result.mapping

    sources, grouped = [], defaultdict(list)
    for d in documents:
        if d["kind"] == "logbook" and logbooks_per_case and d["case_id"]:
            grouped[d["case_id"]].append(d)
            continue
        text, mapping = view(d)
        sources.append(
            ExportSource(
                guid("source", d["doc_key"], d["version"]),
                _source_name(d, pseudonyms is not None),
                d["kind"],
                d["case_id"],
                d["date"],
                _datetime(d["ingested_at"]),
                text,
                [Piece(d["id"], 0, text, mapping)],
            )
        )
    for case_id, entries in grouped.items():
        entries = sorted(entries, key=lambda d: (d["date"] or "", d["id"]))
        parts, pieces, at = [], [], 0
        for d in entries:
            header = f"{d['date'] or 'uden dato'}\n"
            text, mapping = view(d)
            pieces.append(Piece(d["id"], at + len(header), text, mapping))
            parts.append(header + text + "\n\n")
            at += len(parts[-1])
        keys = "|".join(f"{d['doc_key']}@{d['version']}" for d in entries)
        sources.append(
            ExportSource(
                guid("case logbook", case_id, keys),
                case_logbook_name(case_id),
                "logbook",
                case_id,
                None,
                _datetime(max(d["ingested_at"] for d in entries)),
                "".join(parts),
                pieces,
            )
        )
    return sorted(sources, key=lambda src: (src.case_id or "", src.kind, src.date or "", src.name))


def case_logbook_name(case_id: str) -> str:
    return f"{case_id} logbog"


@dataclass
class ImportReport:
    sources: int = 0
    matched_sources: int = 0
    human_codings: int = 0
    machine_codings_skipped: int = 0
    unknown_codes: set[str] = field(default_factory=set)
    unmatched_sources: list[str] = field(default_factory=list)
    matched_by: dict[str, int] = field(default_factory=dict)  # "guid", "name", "text", "pseudonymised text"
    machine_codings_new: int = 0  # codings under the machine's name that qualpipe did not make
    rejected_machine_codes: int = 0  # machine codes the evaluator removed: stored as their "no"


def _source_texts(archive: zipfile.ZipFile, names: dict[str, str], root, path: Path, limit_mb: float) -> dict[str, str]:
    """The plain texts of the sources project.qde refers to, by lower-case guid: each read from its
    `plainTextPath` (internal://FILE.txt), or sources/GUID.txt; entries nothing refers to are never read,
    and an entry larger than the ingest limit is refused with one line, not read into memory."""
    texts = {}
    for source in root.iter(_q("TextSource")):
        guid = source.get("guid", "").strip("{}").lower()
        target = (source.get("plainTextPath") or "").removeprefix("internal://")
        for candidate in (f"sources/{target}" if target else "", f"sources/{guid}.txt"):
            name = names.get(candidate.lower())
            if not candidate or name is None:
                continue
            size = archive.getinfo(name).file_size
            if size > limit_mb * 1024 * 1024:
                raise UserError(
                    f"{path}: {name} holds {size / 1024 / 1024:.0f} MB of text, over the limit "
                    f"[ingest] max_unzipped_mb = {limit_mb:g}; raise it in qualpipe.toml if the file is yours"
                )
            texts[guid] = archive.read(name).decode("utf-8-sig")
            break
    return texts


def import_qdpx(store, codebook, path: Path, *, pseudonyms: Callable, max_unzipped_mb: int = 100) -> ImportReport:
    """Read human codings back from a .qdpx (ours, or one an evaluator re-exported from a QDA program)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError(f"{path}: not a REFI-QDA .qdpx file ({type(exc).__name__}); export the project again")
    with archive:
        names = {n.lower(): n for n in archive.namelist()}
        if "project.qde" not in names:
            raise UserError(f"{path}: holds no project.qde; it is not a REFI-QDA project")
        try:
            root = ET.fromstring(archive.read(names["project.qde"]))
        except ET.ParseError as exc:
            raise UserError(f"{path}: project.qde is not valid XML ({exc}); export the project again")
        texts = _source_texts(archive, names, root, path, max_unzipped_mb)
    users = {u.get("guid"): u.get("name") or u.get("guid") for u in root.iter(_q("User"))}
    codes: dict[str, str] = {}
    report = ImportReport()
    for element in root.iter(_q("Code")):
        description = next((c.text or "" for c in element if c.tag == _q("Description")), "")
        if description.startswith("[taler:"):
            continue  # qualpipe's speaker codes: not themes; their codings are skipped below
        code_id = (
            description[1 : description.index("]")] if description.startswith("[") and "]" in description else None
        )
        found = codebook.find(code_id) if code_id else None
        found = found or codebook.find(element.get("name", ""))
        if found is None:
            report.unknown_codes.add(element.get("name", ""))
        codes[element.get("guid")] = found.id if found else (code_id or element.get("name", ""))
    matcher = SourceMatcher(store, pseudonyms)
    machine_rows = store.query(
        "SELECT c.segment_id, c.code, s.document_id FROM codings c JOIN segments s ON s.id = c.segment_id "
        "WHERE c.source = 'machine'"
    )
    machine_now = {(r["segment_id"], r["code"]) for r in machine_rows}
    rows, coders_of, machine_seen, matched = [], defaultdict(set), set(), []
    now = utc_now()
    for source in root.iter(_q("TextSource")):
        report.sources += 1
        source_id = source.get("guid", "")
        text = texts.get(source_id.strip("{}").lower())
        samples = [
            (sel.get("startPosition"), sel.get("endPosition"), sel.get("name"))
            for sel in source.iter(_q("PlainTextSelection"))
        ][:20]
        found = matcher.match(source_id, source.get("name", ""), text, samples)
        if found is None:
            report.unmatched_sources.append(source.get("name") or source_id)
            continue
        how, resolve, documents_in_source = found
        matched.extend(documents_in_source)
        report.matched_sources += 1
        report.matched_by[how] = report.matched_by.get(how, 0) + 1
        for selection in source.iter(_q("PlainTextSelection")):
            try:
                start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            except (TypeError, ValueError):
                continue
            placed = resolve(start, end)
            if placed is None:
                continue
            document, start, end = placed
            for coding in selection.iter(_q("Coding")):
                user = users.get(coding.get("creatingUser") or selection.get("creatingUser"), "evaluator")
                code_ref = coding.find(_q("CodeRef"))
                code = codes.get(code_ref.get("targetGUID")) if code_ref is not None else None
                if code is None:
                    continue
                segments = _overlapping_segments(store, document, start, end)
                if user in MACHINE_USERS:
                    report.machine_codings_skipped += 1
                    report.machine_codings_new += not any((s, code) in machine_now for s in segments)
                    machine_seen.update((s, code) for s in segments)
                    continue
                for segment_id in segments:
                    rows.append((segment_id, code, None, "human", user, "qdpx", start, end, now))
                coders_of[document].add(user)
    # Negatives only where the evaluator decided: a machine code that was in our export and is gone from
    # theirs was removed by the evaluator (when the file carries machine codes at all); untouched ones say nothing.
    rejected = []
    if machine_seen:
        matched_set = set(matched)
        for r in machine_rows:
            if r["document_id"] in matched_set and (r["segment_id"], r["code"]) not in machine_seen:
                for coder in sorted(coders_of[r["document_id"]]) or [EVALUATOR]:
                    rejected.append((r["segment_id"], r["code"], coder, now))
    with store.transaction() as conn:
        report.human_codings = insert_codings(conn, rows)
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO code_decisions (segment_id, code, coder, decision, decided_at) "
            "VALUES (?, ?, ?, 'no', ?)",
            rejected,
        )
        report.rejected_machine_codes = conn.total_changes - before
    return report


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class SourceMatcher:
    """Finds what a source of a .qdpx stands for: an interview, a logbook entry, or a case's logbook (several
    entries). By our GUID; else by the name we gave it; else by its text, line endings normalised, as stored
    or as our pseudonymised export showed it (a QDA program writes new GUIDs and may rename). `match` returns
    how it matched and a function from the source's positions to (document, stored start, stored end)."""

    def __init__(self, store, pseudonyms: Callable):
        self.make_pseudonyms = pseudonyms  # the project's CasePseudonyms, made only if a source needs them
        self.rows = store.query(
            "SELECT id, doc_key, version, kind, case_id, date, source_path, text, ingested_at "
            "FROM documents WHERE superseded_at IS NULL ORDER BY case_id, date, id"
        )
        self.plain = self._index(
            [
                *export_sources(self.rows, None, True),
                *export_sources([r for r in self.rows if r["kind"] == "logbook"], None, False),
            ]
        )
        self.pseudonymised = None

    @staticmethod
    def _index(sources: list[ExportSource]) -> dict[str, dict]:
        index = {"guid": {}, "name": {}, "text": {}}
        for source in sources:
            index["guid"].setdefault(source.guid, source)
            index["name"].setdefault(source.name, source)
            index["text"].setdefault(_lf(source.text), source)
        return index

    def _pseudonymised(self) -> dict[str, dict]:
        if self.pseudonymised is None:
            pseudonyms = self.make_pseudonyms()
            self.pseudonymised = self._index(
                [
                    *export_sources(self.rows, pseudonyms, True),
                    *export_sources([r for r in self.rows if r["kind"] == "logbook"], pseudonyms, False),
                ]
            )
        return self.pseudonymised

    def match(self, source_guid: str, name: str, text: str | None, samples=()):
        key = source_guid.strip("{}").lower()
        found, how = None, None
        for variant in ("plain", "pseudonymised"):
            index = self.plain if variant == "plain" else self._pseudonymised()
            for way, value in (("guid", key), ("name", name), ("text", _lf(text) if text is not None else None)):
                candidate = index[way].get(value) if value is not None else None
                if candidate is not None and (text is None or _lf(candidate.text) == _lf(text)):
                    found, how = candidate, way + (" (pseudonymised)" if variant == "pseudonymised" else "")
                    break
            if found is not None:
                break
        if found is None:
            return None
        # Positions count the source file's characters (\r\n as two), unless the selections' names (the
        # selected text, as QualCoder writes it) show they count the text with LF line endings: QualCoder's
        # MAXQDA option writes CRLF files with LF positions.
        shift = _crlf_shift(text if text is not None and _positions_count_crlf(text, samples) else "")
        starts = [piece.offset for piece in found.pieces]

        def resolve(a: int, b: int):
            a, b = shift.to_lf(a), shift.to_lf(b)
            k = bisect.bisect_right(starts, a) - 1
            if k < 0 or a >= starts[k] + len(found.pieces[k].view_text):
                return None  # a date line between entries
            piece = found.pieces[k]
            return (piece.document_id, *piece.inward(a, b))

        return how, resolve, [piece.document_id for piece in found.pieces]


def _positions_count_crlf(text: str, samples) -> bool:
    if "\r\n" not in text:
        return False
    lf, crlf_hits, lf_hits = _lf(text), 0, 0
    for start, end, name in samples:
        try:
            a, b = int(start), int(end)
        except (TypeError, ValueError):
            continue
        if name:
            crlf_hits += _lf(text[a:b]).strip() == _lf(name).strip()
            lf_hits += lf[a:b].strip() == _lf(name).strip()
    return not (lf_hits > crlf_hits)


class _crlf_shift:
    """Positions in a text with CRLF line endings to and from the same text with LF only."""

    def __init__(self, text: str):
        self.returns = [i for i, ch in enumerate(text) if ch == "\r" and text[i + 1 : i + 2] == "\n"]

    def to_lf(self, position: int) -> int:
        return position - bisect.bisect_left(self.returns, position)


def _overlapping_segments(store, document_id: int, start: int, end: int) -> list[int]:
    rows = store.query(
        "SELECT id FROM segments WHERE document_id = ? AND start < ? AND end > ? ORDER BY idx",
        (document_id, end, start),
    )
    return [r["id"] for r in rows]
