"""qualpipe's packaged data files (lexicons, codebook, catalogues, word lists, models), read one way.

Every module reads its data file through these functions, so the package's data has one reader and a
test can see where each domain fact comes from. Nothing here caches: the modules that own a file keep
their parsed form (most in an lru_cache), so a returned dict is never shared between owners.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_path(name: str) -> Path:
    """A packaged file as a filesystem path, for readers that open files themselves (numpy, xmlschema).

    qualpipe is installed as files on disk (a wheel or an editable install), never run from a zip, so the
    path is the file itself; it is not checked, as the callers' own errors say which file is missing."""
    return Path(str(resources.files(__name__).joinpath(name)))


def read_text(name: str) -> str:
    """A packaged text file, as UTF-8."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def read_yaml(name: str):
    """A packaged YAML file, parsed (a new object on every call)."""
    return parse_yaml(read_text(name))


def parse_yaml(text: str):
    """YAML text parsed as `yaml.safe_load` parses it, by libyaml's C parser where PyYAML was built with it
    (about ten times faster: the lexicon alone took 0.24 s of every command that flags)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def read_lines(name: str) -> list[str]:
    """A packaged word or sentence list: one item a line, stripped; blank lines and lines starting with `#` skipped.

    A tab-separated file keeps its tabs inside a line; only the line's ends are stripped."""
    return [line.strip() for line in read_text(name).splitlines() if line.strip() and not line.startswith("#")]
