"""Codebooks: qualpipe's YAML format, the default Danish codebook, and REFI-QDA codebook (.qdc) import."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from qualpipe.data import parse_yaml, read_yaml
from qualpipe.errors import UserError
from qualpipe.text.normalize import DANISH_LETTERS_SPELT_OUT

DEFAULT_CODEBOOK = "codebook.da.yaml"
_PALETTE = (
    "#1F77B4",
    "#FF7F0E",
    "#2CA02C",
    "#D62728",
    "#9467BD",
    "#8C564B",
    "#E377C2",
    "#7F7F7F",
    "#BCBD22",
    "#17BECF",
)


@dataclass(frozen=True)
class Code:
    id: str
    label_da: str
    label_en: str = ""
    definition: str = ""
    include: str = ""
    exclude: str = ""
    examples: tuple[str, ...] = ()
    cues: tuple[str, ...] = ()
    color: str = "#7F7F7F"

    def prototype_texts(self) -> list[str]:
        """What the code 'sounds like': its definition and each example sentence (its name, when a
        codebook from another program gives neither)."""
        return [t for t in (self.definition.strip(), *self.examples) if t] or [self.label_da]

    @property
    def defined(self) -> bool:
        return bool(self.definition.strip() or self.examples)


@dataclass(frozen=True)
class Codebook:
    name: str
    codes: tuple[Code, ...]
    source: str = field(default="", compare=False)

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.codes]

    def get(self, code_id: str) -> Code:
        for code in self.codes:
            if code.id == code_id:
                return code
        raise KeyError(code_id)

    def find(self, name: str) -> Code | None:
        """A code by id, Danish or English label (case-insensitive), or slug of the name."""
        wanted = name.strip().lower()
        for code in self.codes:
            if wanted in (code.id.lower(), code.label_da.lower(), code.label_en.lower()) or slugify(name) == code.id:
                return code
        return None


_SPELT_OUT = str.maketrans(DANISH_LETTERS_SPELT_OUT)


def slugify(name: str) -> str:
    """A code id from a label: 'Barnets eget tempo' -> 'barnets_eget_tempo', æ/ø/å spelt out."""
    text = name.strip().lower().translate(_SPELT_OUT)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "code"


def codebook_from_dict(data: dict, source: str) -> Codebook:
    if not isinstance(data, dict) or not isinstance(data.get("codes"), list) or not data["codes"]:
        raise UserError(f"{source}: a codebook needs a 'codes' list; see qualpipe/data/{DEFAULT_CODEBOOK}")
    codes = []
    seen = set()
    for index, item in enumerate(data["codes"], start=1):
        if not isinstance(item, dict) or not item.get("id"):
            raise UserError(f"{source}: code {index} has no 'id'; give every code an id such as 'stabilitet'")
        if item["id"] in seen:
            raise UserError(f"{source}: code id '{item['id']}' is used twice; ids must be unique")
        seen.add(item["id"])
        codes.append(
            Code(
                id=str(item["id"]),
                label_da=str(item.get("label_da") or item["id"]),
                label_en=str(item.get("label_en", "")),
                definition=str(item.get("definition", "")).strip(),
                include=str(item.get("include", "")),
                exclude=str(item.get("exclude", "")),
                examples=tuple(str(e) for e in item.get("examples", []) or []),
                cues=tuple(str(c) for c in item.get("cues", []) or []),
                color=str(item.get("color") or _PALETTE[(index - 1) % len(_PALETTE)]),
            )
        )
    return Codebook(str(data.get("name", "codebook")), tuple(codes), source)


def load_codebook(path: str | Path | None = None) -> Codebook:
    """The YAML codebook at `path` (a .qdc is imported), or qualpipe's default Danish codebook."""
    if path is None or str(path) == "":
        return codebook_from_dict(read_yaml(DEFAULT_CODEBOOK), f"qualpipe/data/{DEFAULT_CODEBOOK}")
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: codebook not found; check [coding] codebook in qualpipe.toml")
    if path.suffix.lower() == ".qdc":
        return import_qdc(path)
    if path.suffix.lower() == ".csv":
        return import_codebook_csv(path)
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a readable YAML codebook ({type(exc).__name__}); check the file")
    return codebook_from_dict(data, str(path))


def import_qdc(path: Path) -> Codebook:
    """A REFI-QDA codebook export (NVivo, ATLAS.ti, MAXQDA, QualCoder): codes, descriptions, colours."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as exc:
        raise UserError(f"{path}: not a REFI-QDA codebook (XML error: {exc}); export the codebook again")
    codes = []
    for element in root.iter():
        if _local(element.tag) != "Code" or element.get("isCodable", "true").lower() != "true":
            continue
        description = next((c.text or "" for c in element if _local(c.tag) == "Description"), "")
        name = element.get("name", "")
        code_id, definition = _id_and_definition(name, description)
        codes.append({"id": code_id, "label_da": name, "definition": definition, "color": element.get("color")})
    if not codes:
        raise UserError(f"{path}: the codebook holds no codable codes")
    return codebook_from_dict({"name": path.stem, "codes": codes}, str(path))


def import_codebook_csv(path: Path) -> Codebook:
    """A CSV codebook as Taguette writes and reads it: a header with one of `tag`, `name` or `path` (the
    code's name) and optionally `description` (its definition) and `parent` (ignored: qualpipe's codebook
    is flat); other columns (Taguette's `number of highlights`) are ignored."""
    import csv

    from qualpipe.ingest.decode import read_text_file

    text, _ = read_text_file(path)
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise UserError(f"{path}: empty; a CSV codebook needs a header row with a 'tag' (or 'name') column")
    header = [cell.strip().lower() for cell in rows[0]]
    names = [c for c in ("tag", "name", "path") if c in header]
    if len(names) != 1:
        raise UserError(
            f"{path}: the header needs exactly one of 'tag', 'name' or 'path' for the code names "
            f"(found {', '.join(header) or 'nothing'})"
        )
    name_col = header.index(names[0])
    description_col = header.index("description") if "description" in header else None
    codes = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        name = row[name_col].strip() if name_col < len(row) else ""
        if not name:
            raise UserError(f"{path}:{number}: a row without a code name; fill it in or delete the row")
        description = row[description_col].strip() if description_col is not None and description_col < len(row) else ""
        code_id, definition = _id_and_definition(name, description)
        codes.append({"id": code_id, "label_da": name, "definition": definition})
    if not codes:
        raise UserError(f"{path}: the codebook holds no codes")
    return codebook_from_dict({"name": path.stem, "codes": codes}, str(path))


def _id_and_definition(name: str, description: str) -> tuple[str, str]:
    """qualpipe writes "[id] definition" into descriptions, so a codebook that went out comes back with its ids."""
    match = re.match(r"\[([a-z0-9_]+)\]\s*", description)
    if match:
        return match.group(1), description[match.end() :].strip()
    return slugify(name), description.strip()


def write_codebook_csv(codebook: Codebook, path: Path) -> None:
    """The codebook as a CSV Taguette imports (`tag`, `description`), with qualpipe's id in the description."""
    import csv

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tag", "description"])
        for code in codebook.codes:
            writer.writerow([code.label_da, f"[{code.id}] {code.definition}".strip()])


def write_codebook_qdc(codebook: Codebook, path: Path) -> None:
    """The codebook as a REFI-QDA codebook (.qdc) that NVivo, ATLAS.ti, MAXQDA and QualCoder import."""
    from xml.etree import ElementTree as ET

    from qualpipe.exchange.qdpx import guid

    namespace = "urn:QDA-XML:codebook:1.0"
    ET.register_namespace("", namespace)
    root = ET.Element(f"{{{namespace}}}CodeBook", {"origin": "qualpipe"})
    codes = ET.SubElement(root, f"{{{namespace}}}Codes")
    for code in codebook.codes:
        element = ET.SubElement(
            codes,
            f"{{{namespace}}}Code",
            {"guid": guid("code", code.id), "name": code.label_da, "isCodable": "true", "color": code.color},
        )
        ET.SubElement(element, f"{{{namespace}}}Description").text = f"[{code.id}] {code.definition}".strip()
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
