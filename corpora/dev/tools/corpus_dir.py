"""The corpus folder the tools work on: corpora/dev, or another laid out the same way (`--corpus DIR`)."""

import sys
from pathlib import Path


def corpus_dir() -> Path:
    """`--corpus DIR` from the command line (taken out of sys.argv), else the folder above tools/."""
    if "--corpus" in sys.argv:
        at = sys.argv.index("--corpus")
        folder = Path(sys.argv[at + 1]).resolve()
        del sys.argv[at : at + 2]
        return folder
    return Path(__file__).resolve().parent.parent
