"""Personal data in Danish text: person names, CPR numbers, phones, e-mails, addresses, postcodes, institutions."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from qualpipe.data import read_lines

KINDS = ("PERSON", "CPR", "PHONE", "EMAIL", "ADDRESS", "POSTCODE_TOWN", "INSTITUTION")

CPR_RE = re.compile(r"(?<![\d-])(\d{2})(\d{2})(\d{2})[-\s]?(\d{4})(?![\d-])")
PHONE_RE = re.compile(
    r"(?<![\d+])(?:\+45[\s-]?|0045[\s-]?)?(?:\d{2}[\s-]?\d{2}[\s-]?\d{2}[\s-]?\d{2}|\d{4}[\s-]\d{4})(?![\d])"
)
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_STREET = (
    r"(?:(?:Gl\.|Ny|Store|Lille|Nørre|Sønder|Øster|Vester|[A-ZÆØÅ][a-zæøåéü]+) )?"
    r"[A-ZÆØÅ][a-zæøåéü]*(?:gade|vej|allé|alle|plads|stræde|boulevard|vænge|have|park|torv|bakke|sti|gyde|toften|engen|højen|parken)"
)
ADDRESS_RE = re.compile(
    rf"\b{_STREET}\s+\d{{1,4}}\s?[A-Za-z]?\b(?:,?\s*(?:st\.?|\d{{1,2}}\.?)\s*(?:sal|th|tv|mf)?\.?)?"
)
POSTCODE_RE = re.compile(r"\b(?:DK-?)?[1-9]\d{3} [A-ZÆØÅ][a-zæøå]+(?: (?:[A-ZÆØÅ][a-zæøå]+|[NSVØCK]))?\b")
INSTITUTION_RE = re.compile(
    r"\b(?:[A-ZÆØÅ][a-zæøå]+[ -]?)+(?:[Ss]kole|[Ss]kolen|[Bb]ørnehave|[Bb]ørnehaven|[Vv]uggestue|[Vv]uggestuen|"
    r"[Ff]ritidshjem|[Ff]ritidsklub|[Kk]lub|[Kk]lubben|[Ee]fterskole|[Gg]ymnasium|SFO|[Ii]nstitution|[Bb]ørnehus|"
    r"[Bb]ørnehuset|[Dd]agtilbud)\b"
)
_NAMING = r"hedder|hed|kaldes|navnet"  # words that name someone: "hun hedder Sofie"
# Words before a name: "hun hedder Sofie", "min søn Emil".
NAME_CUES = re.compile(
    rf"\b(?:{_NAMING}|min søn|min datter|hans søn|hendes søn|hans datter|hendes datter|"
    r"lillebror|lillesøster|storebror|storesøster|kæreste|veninde|ven|mor|far)\s+$",
    re.IGNORECASE,
)
# Only naming makes a word that is also a name one ("hun hedder line"); "mor said" is English.
NAMING_CUES = re.compile(rf"\b(?:{_NAMING}|kaldte)\s+$", re.IGNORECASE)
_TOKEN_RE = re.compile(r"(?:[A-ZÆØÅ]\.\s?)+(?=\s*[A-ZÆØÅ])|[A-ZÀ-ÖØ-Þ][^\W\d_]*(?:['-][^\W\d_]+)*")
# A word in lower case, for names typed without capitals ("i dag var emma og jonas her").
_LOWER_RE = re.compile(r"(?<![\w@#.-])[a-zß-öø-ÿ]+(?:-[a-zß-öø-ÿ]+)*(?![\w@-])")
# A social-media handle names a person ("@larsloekke"); an e-mail address is found as EMAIL first.
HANDLE_RE = re.compile(r"(?<![\w.])@[A-Za-z0-9_]{2,}")


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    kind: str
    text: str


@lru_cache(maxsize=1)
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    first, last = set(), set()
    for line in read_lines("names.da.tsv"):
        name, kind = line.split("\t")
        (first if kind == "first" else last).add(name)
    return frozenset(first), frozenset(last)


@lru_cache(maxsize=1)
def all_names() -> frozenset[str]:
    first, last = name_lists()
    return first | last


@lru_cache(maxsize=1)
def name_words() -> frozenset[str]:
    """Names that are also Danish or English words in lower case ("line", "august", "said"; make_name_words.py)."""
    return frozenset(read_lines("name_words.da.txt"))


class DanishWords:
    """Membership in spaCy's Danish lemma table (forms and lemmas), its stop words, and qualpipe's role
    words (mor, far, venskabsfamilien): a capitalised Danish word is no name by itself, and role words stay."""

    def __init__(self) -> None:
        from spacy.lang.da.stop_words import STOP_WORDS

        from qualpipe.text.nlp import danish_lemma_table
        from qualpipe.text.roles import builtin_role_words

        self.table = danish_lemma_table()
        self.extra = frozenset(STOP_WORDS) | frozenset(builtin_role_words())

    def __contains__(self, word: str) -> bool:
        return word in self.extra or word in self.table


@lru_cache(maxsize=1)
def common_words() -> DanishWords:
    return DanishWords()


_SUFFIXES = ("erne", "ene", "ens", "ets", "et", "en", "er", "es", "ne", "e", "s")


def is_danish_word(lower: str, words: DanishWords) -> bool:
    """In the word list, or an inflected form of a listed word ("besøget", "drengene")."""
    if lower in words:
        return True
    for suffix in _SUFFIXES:
        if lower.endswith(suffix) and len(lower) - len(suffix) >= 3:
            stem = lower[: -len(suffix)]
            if stem in words or stem + "e" in words:
                return True
    return False


def valid_cpr_date(day: str, month: str, year: str) -> bool:
    for century in (1900, 2000):
        try:
            dt.date(century + int(year), int(month), int(day))
            return True
        except ValueError:
            continue
    return False


def _regex_entities(text: str, institutions: Iterable[str]) -> list[Entity]:
    found = []
    for m in CPR_RE.finditer(text):
        if valid_cpr_date(m.group(1), m.group(2), m.group(3)):
            found.append(Entity(m.start(), m.end(), "CPR", m.group()))
    for kind, pattern in (
        ("EMAIL", EMAIL_RE),
        ("PHONE", PHONE_RE),
        ("ADDRESS", ADDRESS_RE),
        ("POSTCODE_TOWN", POSTCODE_RE),
        ("INSTITUTION", INSTITUTION_RE),
    ):
        found += [Entity(m.start(), m.end(), kind, m.group()) for m in pattern.finditer(text)]
    for name in institutions:
        for m in re.finditer(rf"\b{re.escape(name)}\b", text, re.IGNORECASE):
            found.append(Entity(m.start(), m.end(), "INSTITUTION", m.group()))
    return found


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in '.!?:\n"“-' or text[:start].endswith("\n")


def _name_entities(text: str, extra_names: frozenset[str]) -> list[Entity]:
    last = name_lists()[1]
    known = all_names() | extra_names if extra_names else all_names()
    words = common_words()
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(text)]
    found: list[Entity] = []
    i = 0
    while i < len(tokens):
        start, end, word = tokens[i]
        if word.isupper() and word.isalpha() and len(word) > 2:
            word = word.title()  # "JENS" is Jens; an unknown all-caps word is an acronym, not a name
            if word not in known and word.rstrip("s") not in known:
                i += 1
                continue
        if "-" in word and word.split("-")[0].isupper() and word not in known:
            i += 1  # "CPR-nummer", "FN-operationen": compounds with an acronym, not names
            continue
        initials = word.endswith(".") or word.endswith(". ")
        if len(word) == 1:
            i += 1  # a lone capital ("R:", "I:", "A)") is a speaker label or a list marker, not a name
            continue
        bare = word[:-1] if word.endswith("s") and word[:-1] in known else word  # "Emmas" -> "Emma"
        cued = bool(NAME_CUES.search(text[max(0, start - 25) : start]))
        is_common = is_danish_word(bare.lower(), words)
        initial = _sentence_initial(text, start)
        # A listed name is a name unless it opens a sentence and is also a Danish function or role word
        # ("Hans" = his, "Mor") with no surname after it ("Hans Jensen"). Recall comes first here.
        followed_by_surname = (
            i + 1 < len(tokens) and tokens[i + 1][2].rstrip("s") in last and text[end : tokens[i + 1][0]] == " "
        )
        blocked = initial and bare.lower() in words.extra and not followed_by_surname
        name_like = initials or (bare in known and not blocked) or (cued and not is_common)
        # A capitalised word that is no Danish word at all is most likely a name, also first in a sentence.
        if not name_like and not is_common and len(bare) > 2:
            name_like = True
        if not name_like:
            i += 1
            continue
        j = i
        # A capitalised word right after a name belongs to it: "Anne Marie Hansen", "H. C. Andersen", "Victor Borge".
        while j + 1 < len(tokens) and text[tokens[j][1] : tokens[j + 1][0]] in (" ", ""):
            j += 1
        if initials and j == i:
            i += 1
            continue
        found.append(Entity(start, tokens[j][1], "PERSON", text[start : tokens[j][1]]))
        i = j + 1
    return found


def _lower_case_names(text: str, extra_names: frozenset[str]) -> list[Entity]:
    """Names typed in lower case. A listed first name (or a project's own name) is one unless it is also a
    word (name_words.da.txt: "line", "mark", "august"); such a word is a name only when named ("hun hedder
    line") or with a listed surname after it ("line hansen"). Listed names right after a name belong to it
    ("sarah jean petersen"), unless they are words too ("noah frisk igen"). Recall comes first, as with
    capitals: a writer who types without capitals writes the children's names that way too."""
    first, last = name_lists()
    extra = {name.lower() for name in extra_names}
    ambiguous = name_words()
    stop = common_words().extra

    def bare(word: str, names: frozenset[str]) -> str | None:
        """The listed name a word is, with a genitive s taken off ("emmas"), or None."""
        for form in (word, word[:-1] if word.endswith("s") else ""):
            if len(form) > 1 and form not in stop and all(p.title() in names or p in extra for p in form.split("-")):
                return form
        return None

    def plain_name(word: str, names: frozenset[str]) -> bool:
        return word not in ambiguous and bare(word, names) is not None

    tokens = [(m.start(), m.end(), m.group()) for m in _LOWER_RE.finditer(text)]
    found: list[Entity] = []
    i = 0
    while i < len(tokens):
        start, end, word = tokens[i]
        name = bare(word, first)
        if name is None or (
            (word in ambiguous or name in ambiguous)
            and not NAMING_CUES.search(text[max(0, start - 25) : start])
            and not (i + 1 < len(tokens) and text[end : tokens[i + 1][0]] == " " and plain_name(tokens[i + 1][2], last))
        ):
            i += 1
            continue
        j = i
        while (
            j + 1 < len(tokens)
            and text[tokens[j][1] : tokens[j + 1][0]] == " "
            and (plain_name(tokens[j + 1][2], last) or plain_name(tokens[j + 1][2], first))
        ):
            j += 1
        found.append(Entity(start, tokens[j][1], "PERSON", text[start : tokens[j][1]]))
        i = j + 1
    return found


NER_PERSON_LABELS = ("PER", "PERSON")


@lru_cache(maxsize=2)
def load_ner(pipeline: str):
    """A spaCy pipeline with named entities (a trained Danish model such as DaCy's, or any with PER ents)."""
    import spacy

    from qualpipe.errors import UserError

    try:
        return spacy.load(pipeline)
    except OSError:
        raise UserError(
            f"qualpipe.toml: [privacy] ner_pipeline '{pipeline}' is not installed; install it or set it to \"\""
        ) from None


def _ner_entities(text: str, pipeline: str) -> list[Entity]:
    doc = load_ner(pipeline)(text)
    return [Entity(e.start_char, e.end_char, "PERSON", e.text) for e in doc.ents if e.label_ in NER_PERSON_LABELS]


def find_personal_data(
    text: str, *, institutions: Iterable[str] = (), extra_names: Iterable[str] = (), ner_pipeline: str = ""
) -> list[Entity]:
    """Non-overlapping entities, earliest (then longest) first; structured kinds beat names.

    With `ner_pipeline`, that spaCy pipeline's person entities are added to the rule-based ones."""
    candidates = _regex_entities(text, institutions)
    candidates += _name_entities(text, frozenset(extra_names))
    candidates += _lower_case_names(text, frozenset(extra_names))
    candidates += [Entity(m.start(), m.end(), "PERSON", m.group()) for m in HANDLE_RE.finditer(text)]
    if ner_pipeline:
        candidates += _ner_entities(text, ner_pipeline)
    priority = {
        kind: rank
        for rank, kind in enumerate(("CPR", "EMAIL", "PHONE", "ADDRESS", "POSTCODE_TOWN", "INSTITUTION", "PERSON"))
    }
    chosen: list[Entity] = []
    for entity in sorted(candidates, key=lambda e: (priority[e.kind], e.start, -(e.end - e.start))):
        if all(entity.end <= c.start or entity.start >= c.end for c in chosen):
            chosen.append(entity)
    return sorted(chosen, key=lambda e: e.start)
