"""Speaker labels to roles: interviewer, parent, child, volunteer, professional or unknown."""

from __future__ import annotations

import re
from functools import lru_cache

from qualpipe.data import read_yaml

_WORD_RE = re.compile(r"[^\W\d_]+(?:/[^\W\d_]+)?")
_PAREN_RE = re.compile(r"\(([^)]*)\)")


@lru_cache(maxsize=1)
def builtin_role_words() -> dict[str, str]:
    data = read_yaml("roles.da.yaml")
    return {word.lower(): role for role, words in data.items() for word in words}


class RoleResolver:
    """Maps a speaker label to a role; the project's own mapping wins over the built-in words."""

    def __init__(self, speakers: dict[str, str] | None = None):
        self.speakers = {k.strip().lower(): v for k, v in (speakers or {}).items()}
        self.words = builtin_role_words()

    def configured(self, label: str) -> str | None:
        return self.speakers.get(label.strip().lower())

    def role_of(self, label: str | None) -> str:
        if not label:
            return "unknown"
        key = label.strip().lower()
        if key in self.speakers:
            return self.speakers[key]
        outside = _PAREN_RE.sub(" ", key)
        # "I2", "Interviewer 1": numbering does not change who speaks.
        bare = re.sub(r"[\s\d]+$", "", outside).strip()
        if bare in self.speakers:
            return self.speakers[bare]
        if bare in self.words:
            return self.words[bare]
        for words in (_WORD_RE.findall(outside), _WORD_RE.findall(" ".join(_PAREN_RE.findall(key)))):
            for word in words:
                if word in self.words and len(word) > 1:
                    return self.words[word]
        return "unknown"

    def is_known(self, label: str) -> bool:
        return self.role_of(label) != "unknown"
