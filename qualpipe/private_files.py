"""Files that can hold personal data about children: readable by their owner only, written whole or not at all.

Every output qualpipe writes that can quote a case file (exports, digests, reports, figures, batch outputs,
pseudonymised copies, the pseudonym key, the store) is made here: 0600 in folders qualpipe makes 0700. A file
is written to a hidden partial file beside its target and moved into place when complete, so a reader (or a
crash) never sees half an output, and an earlier output stays until the new one is whole.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator


def private_dir(path: Path) -> Path:
    """Make a folder for outputs readable by its owner only (0700); a folder that exists is left as it is."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700)
        os.chmod(path, 0o700)
    return path


def cache_dir() -> Path:
    """qualpipe's cache folder ($QUALPIPE_CACHE_DIR, else ~/.cache/qualpipe), its owner's only (0700): besides
    built graphs and compiled code it keeps vectors of training text and the zero-shot coder's fitted state.
    The default folder is narrowed to 0700 if an older qualpipe made it 0755; a folder the user named is
    created 0700, and one that exists is left as the user set it (a cache shared on purpose)."""
    configured = os.environ.get("QUALPIPE_CACHE_DIR")
    folder = Path(configured) if configured else Path.home() / ".cache" / "qualpipe"
    private_dir(folder)
    if not configured and folder.stat().st_mode & 0o077:
        os.chmod(folder, 0o700)
    return folder


def make_private(folder: Path) -> None:
    """Make a folder another library wrote (a saved topic model) its owner's only: 0700 folders, 0600 files."""
    for path in [Path(folder), *Path(folder).rglob("*")]:
        os.chmod(path, 0o700 if path.is_dir() else 0o600)


def create_private_file(path: Path) -> None:
    """Create `path` (empty, or as it is) readable and writable by its owner only: for a file another library
    then fills in place, such as the SQLite store."""
    private_dir(Path(path).parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


@contextmanager
def private_file(path: Path, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = None
                 ) -> Iterator[IO]:
    """Open an output for writing ("w" text or "wb" bytes); it replaces `path` only when the block ends without
    an error, and is 0600 from its first byte."""
    path = Path(path)
    private_dir(path.parent)
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.chmod(partial, 0o600)  # a partial file left by an earlier crash keeps its old mode otherwise
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": encoding, "newline": newline})) as handle:
            yield handle
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_private(path: Path, data: str | bytes) -> None:
    """Write a whole output (text as UTF-8) readable by its owner only."""
    with private_file(path, "wb") as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
