"""Consistent replacement of personal data, with offsets that map back to the original text."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from qualpipe.errors import InputError, UserError
from qualpipe.privacy.detect import Entity, find_personal_data, name_lists
from qualpipe.private_files import private_dir, private_file, write_private
from qualpipe.text.normalize import Edit, NormalizedText, apply_edits

TAGS = {"PERSON": "NAVN", "CPR": "CPR", "PHONE": "TLF", "EMAIL": "EMAIL", "ADDRESS": "ADRESSE",
        "POSTCODE_TOWN": "POSTNR-BY", "INSTITUTION": "INSTITUTION"}
# Substitute names for style="name": common Danish first names, used in order of first appearance.
SUBSTITUTES = ("Alex", "Kim", "Robin", "Sam", "Charlie", "Noa", "Vic", "Eli", "Billie", "Luca", "Mika", "Toni")


TITLES = frozenset({"fru", "hr", "hr.", "frk", "frk.", "fr.", "herr"})


def person_parts(surface: str) -> tuple[str | None, str | None]:
    """(first name, last name) of a person's surface form, lower case; a first name may be an initial
    ("e."); "Fru Nielsen" has no first name, "Emma" no last name, "Emma Sofie Nielsen" is emma/nielsen."""
    words = surface.lower().split()
    titled = bool(words) and words[0] in TITLES
    words = [w for w in words if w not in TITLES]
    if not words:
        return None, None
    if titled and len(words) == 1:
        return None, words[0]
    return words[0], (words[-1] if len(words) > 1 else None)


def _same_first(a: str, b: str) -> bool:
    """Equal first names, or an initial ("e.") and a name it abbreviates."""
    if a.endswith(".") or b.endswith("."):
        return a[0] == b[0]
    return a == b


def linked_person(table: dict[str, str], surface: str) -> str | None:
    """The pseudonym already given to the same person under another form in this scope, when exactly one
    person fits: "Emma", "Fru Nielsen", "E. Nielsen" and "Emma Sofie Nielsen" after "Emma Nielsen"
    (or "Emma Nielsen" after "Emma"). Two people who could both be meant ("Emma" with Emma Nielsen and
    Emma Hansen in the case) keep apart: a new pseudonym rather than the wrong person's."""
    first, last = person_parts(surface)
    people: dict[str, tuple[set, set]] = {}
    for key, pseudonym in table.items():
        if key.startswith("PERSON:"):
            f, l_ = person_parts(key[len("PERSON:"):])
            firsts, lasts = people.setdefault(pseudonym, (set(), set()))
            firsts.update([f] if f else [])
            lasts.update([l_] if l_ else [])
    fits = []
    for pseudonym, (firsts, lasts) in people.items():
        first_fits = first is None or not firsts or any(_same_first(first, f) for f in firsts)
        if last is not None and lasts:
            ok = last in lasts and first_fits
        elif last is not None:  # a known first name only, now with a last name
            ok = first is not None and any(_same_first(first, f) for f in firsts)
        else:  # a first name alone
            ok = first is not None and any(first == f for f in firsts)
        if ok:
            fits.append(pseudonym)
    return fits[0] if len(fits) == 1 else None


@dataclass
class Pseudonymised:
    text: str
    mapping: NormalizedText  # pseudonymised character i came from original[starts[i]:ends[i]]
    entities: list[Entity]


@dataclass
class Pseudonymiser:
    """Same person, same pseudonym, within a scope (a case, or a file): `[NAVN-1]`, or a substitute name."""

    style: str = "tag"
    institutions: tuple[str, ...] = ()
    extra_names: tuple[str, ...] = ()
    ner_pipeline: str = ""
    key: dict[str, dict[str, str]] = field(default_factory=dict)  # scope -> {normalised surface: pseudonym}
    originals: dict[str, dict[str, str]] = field(default_factory=dict)  # scope -> {pseudonym: surface as first seen}
    documents: dict[str, list[int]] = field(default_factory=dict)  # scope -> stored documents already read into it

    def __post_init__(self) -> None:
        if self.style not in ("tag", "name"):
            raise UserError(f"pseudonym style '{self.style}': use 'tag' or 'name'")

    def _label(self, scope: str, entity: Entity) -> str:
        first, last = name_lists()
        surface = entity.text
        if entity.kind == "PERSON" and surface.endswith("s") and (surface[:-1] in first or surface[:-1] in last):
            surface = surface[:-1]
        key = f"{entity.kind}:{' '.join(surface.lower().split())}"
        table = self.key.setdefault(scope, {})
        if key not in table and entity.kind == "PERSON":
            same = linked_person(table, surface)
            if same is not None:
                table[key] = same
        if key not in table:
            # Every kind is numbered, so the key can map each pseudonym back to one original.
            n = len({v for k, v in table.items() if k.startswith(f"{entity.kind}:")}) + 1
            if entity.kind == "PERSON" and self.style == "name":
                table[key] = SUBSTITUTES[(n - 1) % len(SUBSTITUTES)] + (
                    f"{(n - 1) // len(SUBSTITUTES) + 1}" if n > len(SUBSTITUTES) else ""
                )
            else:
                table[key] = f"[{TAGS[entity.kind]}-{n}]"
            self.originals.setdefault(scope, {}).setdefault(table[key], surface)
        label = table[key]
        return label + ("s" if surface != entity.text else "")

    def pseudonymise(self, text: str, scope: str = "") -> Pseudonymised:
        entities = find_personal_data(
            text, institutions=self.institutions, extra_names=self.extra_names, ner_pipeline=self.ner_pipeline
        )
        edits = [Edit(e.start, e.end, self._label(scope, e)) for e in entities]
        mapping = apply_edits(text, edits)
        return Pseudonymised(mapping.text, mapping, entities)

    def write_key(self, path: Path) -> None:
        """The re-identification key, per scope: pseudonym -> original (and the lookup that keeps later
        runs consistent). Readable by its owner only, in a folder of its owner only; written whole or not at all."""
        # json.dumps without indent runs the C encoder (json.dump and indent run Python's, 0.3 s for 50k documents)
        content = json.dumps(
            {"originals": self.originals, "labels": self.key, "documents": self.documents}, ensure_ascii=False
        )
        with private_file(path, "w") as handle:
            handle.write(content)

    def save_key(self, path: Path) -> None:
        """Write the key, keeping the scopes another process added to the file since this one read it."""
        with key_lock(path):
            saved = Pseudonymiser.from_key(path)
            for mine, theirs in (
                (self.key, saved.key),
                (self.originals, saved.originals),
                (self.documents, saved.documents),
            ):
                for scope, value in theirs.items():
                    mine.setdefault(scope, value)
            self.write_key(path)

    @classmethod
    def from_key(cls, path: Path, **options) -> "Pseudonymiser":
        """A pseudonymiser that continues a key written earlier (same people, same pseudonyms)."""
        pseudonymiser = cls(**options)
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                pseudonymiser.key, pseudonymiser.originals = data["labels"], data["originals"]
                pseudonymiser.documents = data.get("documents", {})
            except (json.JSONDecodeError, KeyError, TypeError):
                raise UserError(f"{path}: not a qualpipe pseudonym key; restore it from backup or remove [privacy] key")
        return pseudonymiser


def redact(text: str) -> str:
    """`text` with personal data replaced by its kind ("[NAVN]", "[TLF]"): for what the store keeps beside
    the text (an alert's evidence), which needs no key and maps back to nobody."""
    entities = find_personal_data(text)
    return apply_edits(text, [Edit(e.start, e.end, f"[{TAGS[e.kind]}]") for e in entities]).text if entities else text


@contextmanager
def key_lock(path: Path) -> Iterator[None]:
    """Exclusive use of the key at `path` (read, extend, write) between processes: a lock file beside it."""
    import fcntl

    private_dir(path.parent)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


PLAIN_SUFFIXES = (".txt", ".vtt", ".srt", ".jsonl")


def pseudonymise_files(
    paths: Iterable[Path], output: Path, pseudonymiser: Pseudonymiser
) -> tuple[list[Path], list[str]]:
    """Pseudonymised copies of .txt, .vtt, .srt and .jsonl (field `text`) files in `output`; no project needed."""
    from qualpipe.ingest.decode import jsonl_records, read_text_file

    written, errors = [], []
    private_dir(output)
    for path in paths:
        try:
            if path.suffix.lower() not in PLAIN_SUFFIXES:
                raise InputError(
                    path, f"unknown file type '{path.suffix}'; pseudonymise reads {', '.join(PLAIN_SUFFIXES)}"
                )
            if output.resolve() == path.parent.resolve():
                raise InputError(
                    path, "the output folder is the file's own folder; choose another --output so originals stay"
                )
            text, _ = read_text_file(path)
            if path.suffix.lower() == ".jsonl":
                lines = []
                for _number, record in jsonl_records(text, path):
                    if isinstance(record, InputError):
                        raise record
                    if isinstance(record.get("text"), str):
                        scope = f"{path.name}:{record.get('case_id', '')}"
                        record["text"] = pseudonymiser.pseudonymise(record["text"], scope).text
                    lines.append(json.dumps(record, ensure_ascii=False))
                result = "\n".join(lines) + "\n"
            else:
                result = pseudonymiser.pseudonymise(text, path.name).text
            target = output / path.name
            write_private(target, result)
            written.append(target)
        except InputError as exc:
            errors.append(str(exc))
    return written, errors
