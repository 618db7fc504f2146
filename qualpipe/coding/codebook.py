"""Codebooks: qualpipe's YAML format, the default Danish codebook, and REFI-QDA codebook (.qdc) import."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from qualpipe.errors import UserError

DEFAULT_CODEBOOK = "codebook.da.yaml"
_PALETTE = ("#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22", "#17BECF")


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
        """What the code 'sounds like': its definition and each example sentence."""
        return [t for t in (self.definition.strip(), *self.examples) if t]


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


def slugify(name: str) -> str:
    """A code id from a label: 'Barnets eget tempo' -> 'barnets_eget_tempo', æ/ø/å spelt out."""
    text = name.strip().lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
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
        codes.append(Code(
            id=str(item["id"]),
            label_da=str(item.get("label_da") or item["id"]),
            label_en=str(item.get("label_en", "")),
            definition=str(item.get("definition", "")).strip(),
            include=str(item.get("include", "")),
            exclude=str(item.get("exclude", "")),
            examples=tuple(str(e) for e in item.get("examples", []) or []),
            cues=tuple(str(c) for c in item.get("cues", []) or []),
            color=str(item.get("color") or _PALETTE[(index - 1) % len(_PALETTE)]),
        ))
    return Codebook(str(data.get("name", "codebook")), tuple(codes), source)


def load_codebook(path: str | Path | None = None) -> Codebook:
    """The YAML codebook at `path` (a .qdc is imported), or qualpipe's default Danish codebook."""
    if path is None or str(path) == "":
        text = resources.files("qualpipe.data").joinpath(DEFAULT_CODEBOOK).read_text(encoding="utf-8")
        return codebook_from_dict(yaml.safe_load(text), f"qualpipe/data/{DEFAULT_CODEBOOK}")
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: codebook not found; check [coding] codebook in qualpipe.toml")
    if path.suffix.lower() == ".qdc":
        return import_qdc(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
        codes.append({"id": slugify(name), "label_da": name, "definition": description, "color": element.get("color")})
    if not codes:
        raise UserError(f"{path}: the codebook holds no codable codes")
    return codebook_from_dict({"name": path.stem, "codes": codes}, str(path))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
