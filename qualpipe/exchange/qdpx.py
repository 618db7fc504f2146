"""REFI-QDA projects (.qdpx): export for NVivo, ATLAS.ti, MAXQDA and QualCoder, and import of human codes.

The traps the standard's readers fall into, and how we meet them: sources live in a flat lower-case
`sources/` folder as `<GUID>.txt`; selection positions count Unicode code points on exactly the
text written (our stored text, LF line endings); cases refer to sources with `SourceRef`; the
children of `Project` come in the schema's fixed order; every file is validated against the
REFI-QDA project schema before it is written. GUIDs are derived from stable keys (uuid5), so the
same store exports the same file and an import finds its documents and codes again.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree as ET

from qualpipe.errors import UserError
from qualpipe.store import create_private_file, insert_codings, utc_now

NS = "urn:QDA-XML:project:1.0"
GUID_NAMESPACE = uuid.UUID("6f1c2a52-8e0b-4c39-9c3a-5b0f8f4b7a10")
MACHINE_USER = "qualpipe"
_FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def guid(*parts: object) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(str(p) for p in parts)))


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    return ET.SubElement(parent, _q(tag), {k: v for k, v in attributes.items() if v is not None})


def _datetime(value: str | None) -> str:
    value = value or "2020-01-01T00:00:00+00:00"
    return dt.datetime.fromisoformat(value).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=1)
def project_schema():
    import xmlschema

    with resources.as_file(resources.files("qualpipe.data").joinpath("refi-qda-project.xsd")) as path:
        return xmlschema.XMLSchema(str(path))


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


def export_qdpx(project, path: Path, *, kind: str | None = None, include_machine: bool = True,
                pseudonyms=None) -> ExportReport:
    """Write the project's current documents, codebook, codings and cases as a .qdpx file.

    With `pseudonyms` (a CasePseudonyms) the sources are pseudonymised and every selection is moved
    to the same words in the pseudonymised text."""
    store = project.store
    codebook = project.codebook()
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
        + ("" if include_machine else "WHERE c.source = 'human' ") + "ORDER BY s.document_id, c.start, c.end, c.code, c.coder")
    report = ExportReport(path)
    coders = sorted({c["coder"] for c in codings if c["source"] == "human"})
    user_guid = {MACHINE_USER: guid("user", MACHINE_USER), **{name: guid("user", name) for name in coders}}
    created = _datetime(max(d["ingested_at"] for d in documents))

    root = ET.Element(_q("Project"), {
        "name": project.root.resolve().name or "qualpipe", "origin": "qualpipe",
        "creatingUserGUID": user_guid[MACHINE_USER], "creationDateTime": created})
    users = _sub(root, "Users")
    for name, value in user_guid.items():
        _sub(users, "User", guid=value, name=name)

    code_guid = {code.id: guid("code", code.id) for code in codebook.codes}
    extra_codes = sorted({c["code"] for c in codings} - set(code_guid))
    codes_el = _sub(_sub(root, "CodeBook"), "Codes")
    for code in codebook.codes:
        element = _sub(codes_el, "Code", guid=code_guid[code.id], name=code.label_da, isCodable="true", color=code.color)
        ET.SubElement(element, _q("Description")).text = f"[{code.id}] {code.definition}".strip()
    for code_id in extra_codes:
        code_guid[code_id] = guid("code", code_id)
        element = _sub(codes_el, "Code", guid=code_guid[code_id], name=code_id, isCodable="true")
        ET.SubElement(element, _q("Description")).text = f"[{code_id}]"

    variables = {"kind": "Text", "date": "Date", "logbook_entries": "Integer", "interviews": "Integer"}
    variable_guid = {name: guid("variable", name) for name in variables}
    variables_el = _sub(root, "Variables")
    for name, kind_of in variables.items():
        _sub(variables_el, "Variable", guid=variable_guid[name], name=name, typeOfVariable=kind_of)

    source_guid = {d["id"]: guid("source", d["doc_key"], d["version"]) for d in documents}
    by_case: dict[str, list] = defaultdict(list)
    for d in documents:
        if d["case_id"]:
            by_case[d["case_id"]].append(d)
    if by_case:
        cases_el = _sub(root, "Cases")
        for case_id in sorted(by_case):
            docs = by_case[case_id]
            case_el = _sub(cases_el, "Case", guid=guid("case", case_id), name=case_id)
            for name, count in (("logbook_entries", sum(d["kind"] == "logbook" for d in docs)),
                                ("interviews", sum(d["kind"] == "interview" for d in docs))):
                value = _sub(case_el, "VariableValue")
                _sub(value, "VariableRef", targetGUID=variable_guid[name])
                ET.SubElement(value, _q("IntegerValue")).text = str(count)
            for d in docs:
                _sub(case_el, "SourceRef", targetGUID=source_guid[d["id"]])
            report.cases += 1

    by_document: dict[int, list] = defaultdict(list)
    for c in codings:
        by_document[c["document_id"]].append(c)
    sources_el = _sub(root, "Sources")
    files: dict[str, str] = {}
    for d in documents:
        source = source_guid[d["id"]]
        element = _sub(sources_el, "TextSource", guid=source, name=_source_name(d, pseudonymised=pseudonyms is not None),
                       plainTextPath=f"internal://{source}.txt", creatingUser=user_guid[MACHINE_USER],
                       creationDateTime=_datetime(d["ingested_at"]))
        selections: dict[tuple[int, int], list] = defaultdict(list)
        text = d["text"]
        for c in by_document.get(d["id"], []):
            start, end = c["start"], c["end"]
            if pseudonyms is not None:
                text, start, end = pseudonyms.span(d["id"], start, end)
            selections[(start, end)].append(c)
        if pseudonyms is not None:
            text = pseudonyms.document(d["id"]).text
        for (start, end), group in sorted(selections.items()):
            selection = _sub(element, "PlainTextSelection", guid=guid("selection", source, start, end),
                             name=f"{start}-{end}", startPosition=str(start), endPosition=str(end),
                             creatingUser=user_guid[MACHINE_USER], creationDateTime=_datetime(group[0]["created_at"]))
            machine = [c for c in group if c["source"] == "machine"]
            if machine:
                ET.SubElement(selection, _q("Description")).text = "; ".join(
                    f"{c['code']} {c['score']:.2f}" for c in machine) + f" ({machine[0]['method']})"
            for c in group:
                user = MACHINE_USER if c["source"] == "machine" else c["coder"]
                coding = _sub(selection, "Coding", guid=guid("coding", source, start, end, c["code"], user),
                              creatingUser=user_guid[user], creationDateTime=_datetime(c["created_at"]))
                _sub(coding, "CodeRef", targetGUID=code_guid[c["code"]])
                report.codings += 1
            report.selections += 1
        for name, value_text, value_tag in (("kind", d["kind"], "TextValue"), ("date", d["date"], "DateValue")):
            if value_text:
                value = _sub(element, "VariableValue")
                _sub(value, "VariableRef", targetGUID=variable_guid[name])
                ET.SubElement(value, _q(value_tag)).text = value_text
        files[f"sources/{source}.txt"] = text
        report.sources += 1

    ET.register_namespace("", NS)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    validate_project_xml(xml)
    partial = path.with_name(path.name + ".partial")
    create_private_file(partial)  # the sources are the transcripts: owner only, like the store
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _write(archive, "project.qde", xml)
        for name in sorted(files):
            _write(archive, name, files[name].replace("\r\n", "\n").encode("utf-8"))
    partial.replace(path)
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
class ImportReport:
    sources: int = 0
    matched_sources: int = 0
    human_codings: int = 0
    machine_codings_skipped: int = 0
    unknown_codes: set[str] = field(default_factory=set)
    unmatched_sources: list[str] = field(default_factory=list)


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
                raise UserError(f"{path}: {name} holds {size / 1024 / 1024:.0f} MB of text, over the limit "
                                f"[ingest] max_unzipped_mb = {limit_mb:g}; raise it in qualpipe.toml if the file is yours")
            texts[guid] = archive.read(name).decode("utf-8-sig")
            break
    return texts


def import_qdpx(project, path: Path) -> ImportReport:
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
        texts = _source_texts(archive, names, root, path, project.config.max_unzipped_mb)
    users = {u.get("guid"): u.get("name") or u.get("guid") for u in root.iter(_q("User"))}
    codebook = project.codebook()
    codes: dict[str, str] = {}
    report = ImportReport()
    for element in root.iter(_q("Code")):
        description = next((c.text or "" for c in element if c.tag == _q("Description")), "")
        code_id = description[1:description.index("]")] if description.startswith("[") and "]" in description else None
        found = codebook.find(code_id) if code_id else None
        found = found or codebook.find(element.get("name", ""))
        if found is None:
            report.unknown_codes.add(element.get("name", ""))
        codes[element.get("guid")] = found.id if found else (code_id or element.get("name", ""))
    documents = _documents_by_guid_and_text(project)
    pseudonyms = None
    rows, reviewed = [], set()
    now = utc_now()
    for source in root.iter(_q("TextSource")):
        report.sources += 1
        source_id = source.get("guid", "")
        text = texts.get(source_id.strip("{}").lower())
        document = documents["guid"].get(source_id.strip("{}").lower()) or (documents["text"].get(text) if text else None)
        if document is None:
            report.unmatched_sources.append(source.get("name") or source_id)
            continue
        to_original = None
        if text is not None and text != documents["text_of"][document]:
            # Our own pseudonymised export: positions refer to the pseudonymised text.
            from qualpipe.privacy.outputs import CasePseudonyms

            pseudonyms = pseudonyms or CasePseudonyms(project)
            view = pseudonyms.document(document)
            if view.text != text:
                report.unmatched_sources.append(source.get("name") or source_id)
                continue
            to_original = view.mapping.to_original
        report.matched_sources += 1
        for selection in source.iter(_q("PlainTextSelection")):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            if to_original is not None and start < end:
                start, end = to_original(start, end)
            for coding in selection.iter(_q("Coding")):
                user = users.get(coding.get("creatingUser") or selection.get("creatingUser"), "evaluator")
                code_ref = coding.find(_q("CodeRef"))
                code = codes.get(code_ref.get("targetGUID")) if code_ref is not None else None
                if code is None:
                    continue
                if user == MACHINE_USER:
                    report.machine_codings_skipped += 1
                    continue
                for segment_id in _overlapping_segments(project, document, start, end):
                    rows.append((segment_id, code, None, "human", user, "qdpx", start, end, now))
                reviewed.add((document, user))
    with project.store.transaction() as conn:
        report.human_codings = insert_codings(conn, rows)
        for document, user in reviewed:
            conn.execute(
                "INSERT OR IGNORE INTO reviews (segment_id, coder, reviewed_at) "
                "SELECT id, ?, ? FROM segments WHERE document_id = ? AND role != 'interviewer'", (user, now, document))
    return report


def _documents_by_guid_and_text(project) -> dict[str, dict]:
    by_guid, by_text, text_of = {}, {}, {}
    for d in project.store.query("SELECT id, doc_key, version, text FROM documents WHERE superseded_at IS NULL"):
        by_guid[guid("source", d["doc_key"], d["version"])] = d["id"]
        by_text.setdefault(d["text"], d["id"])
        text_of[d["id"]] = d["text"]
    return {"guid": by_guid, "text": by_text, "text_of": text_of}


def _overlapping_segments(project, document_id: int, start: int, end: int) -> list[int]:
    rows = project.store.query(
        "SELECT id FROM segments WHERE document_id = ? AND start < ? AND end > ? ORDER BY idx", (document_id, end, start))
    return [r["id"] for r in rows]
