"""Writes name_words.da.txt: names of names.da.tsv that, typed in lower case, are also ordinary words.

A name typed in lower case ("i dag var emma her") is found by the name lists alone, unless the same letters
are a word the writer may mean: Danish "line", "mark", "lykke", "hagen" (the chin), "dans", "regner", the
months "maj" and "august", or English "said" in a Danish entry with English words. Those need a cue ("hedder
line") or a surname after them.

- Danish: a form that Stavekontrolden's Hunspell dictionary (Debian's hunspell-da, LGPL-2.1 / GPL-2 /
  MPL-1.1) accepts through an entry it writes in lower case, without compounding. A form ending in s counts
  only where it is a word by itself ("dans", "hans"), not a genitive ("mads" of "mad", "agnes"). The dictionary also
  writes some names in lower case with a genitive only ("jens", "søren", "mille"); those stay names, except
  the month names and their abbreviations ("jan").
- English: a name the en_US dictionary (hunspell-en-us, SCOWL) writes in lower case and that is among
  English's frequent words (wordfreq's Zipf frequency at least 5, about 10 in a million words): "said",
  "will", "hope", not "anna" (a coin) or "victor".

Usage (needs `apt-get install hunspell-da hunspell-en-us` and `pip install spylls wordfreq`; none of them is
needed at run time): python -m qualpipe.data.make_name_words
"""

from __future__ import annotations

import sys
from pathlib import Path

DICTIONARIES = Path("/usr/share/hunspell")
HEADER = (
    "# Names of names.da.tsv (and their genitives) that are also Danish or English words in lower case, from\n"
    "# the Hunspell dictionaries of hunspell-da (Stavekontrolden, LGPL-2.1 / GPL-2 / MPL-1.1) and hunspell-en-us\n"
    "# (SCOWL). Made by python -m qualpipe.data.make_name_words; see that file for how.\n"
)
# Stavekontrolden's affix flags that its lower-case names have too: 10 the genitive, 31 and 39 compounding.
NAME_FLAGS = frozenset({"10", "31", "39"})
MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "aug",
    "sep",
    "sept",
    "okt",
    "nov",
    "dec",
)  # with their usual abbreviations ("i jan.")


ENGLISH_ZIPF = 5.0


def is_word(lookup, form: str, name_flags: frozenset[str]) -> bool:
    """The dictionary accepts `form` through a lower-case entry that inflects like a word (or not at all),
    other than by adding a final s (a genitive)."""
    from spylls.hunspell.algo.capitalization import Type

    for found in lookup.affix_forms(form, captype=Type.NO):
        entry = found.in_dictionary
        if entry is None or not entry.stem[:1].islower() or (entry.flags and entry.flags <= name_flags):
            continue
        if found.suffix is not None and found.suffix.add.endswith("s") and form.endswith("s"):
            continue
        return True
    return False


def name_words(directory: Path) -> list[str]:
    from spylls.hunspell import Dictionary

    from qualpipe.privacy.detect import all_names

    danish = Dictionary.from_files(str(directory / "da_DK")).lookuper
    english = Dictionary.from_files(str(directory / "en_US")).lookuper
    from wordfreq import zipf_frequency

    words = set()
    for name in (n.lower() for n in all_names() if len(n) > 1):
        if name in MONTHS or is_word(danish, name, NAME_FLAGS):
            words.add(name)
        if is_word(danish, name + "s", NAME_FLAGS):
            words.add(name + "s")
        if zipf_frequency(name, "en") >= ENGLISH_ZIPF and is_word(english, name, frozenset()):
            words.add(name)
    return sorted(words)


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else DICTIONARIES
    if not (directory / "da_DK.dic").is_file() or not (directory / "en_US.dic").is_file():
        print(
            f"{directory}: da_DK.dic and en_US.dic not found; apt-get install hunspell-da hunspell-en-us",
            file=sys.stderr,
        )
        return 2
    target = Path(__file__).with_name("name_words.da.txt")
    target.write_text(HEADER + "\n".join(name_words(directory)) + "\n", encoding="utf-8")
    print(f"{target}: written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
