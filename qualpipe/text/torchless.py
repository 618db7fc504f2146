"""spaCy without torch when nothing in the project needs it.

thinc, spaCy's machine-learning library, imports torch as soon as it is itself imported, whenever
torch is installed, so that torch-backed layers are at hand (explosion/thinc#894 made TensorFlow
opt-in for the same reason; torch still loads eagerly). qualpipe installs torch for
sentence-transformers and BERTopic, so every command that reads text paid for it: about 1.3 s to
import and 0.5 s at exit on this project's machine, a tenth of the weekly alerts run. The blank
Danish pipeline (tokenizer, sentencizer, lookup lemmas, Matcher) has no torch layers.

So thinc's own probe for torch is answered "not installed", and only that probe: while
`thinc.compat` is being imported and has not yet decided `has_torch`, for a project that configures
no trained spaCy pipeline (a transformer pipeline such as a DaCy model needs thinc's torch layers).
torch itself stays importable: the sentence-transformers backend, BERTopic and the ONNX export
import it as usual. Once thinc has been imported its choice holds for the process; a process that
imported torch first gives thinc torch as before.
"""

from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder


class _TorchlessThinc(MetaPathFinder):
    active = False

    def find_spec(self, name, path, target=None):
        if self.active and name.partition(".")[0] == "torch":
            compat = sys.modules.get("thinc.compat")
            if compat is not None and not hasattr(compat, "has_torch"):  # thinc.compat's probe, in progress
                raise ModuleNotFoundError(f"No module named '{name}' (torch held back from thinc by qualpipe)",
                                          name=name)
        return None


_FINDER = _TorchlessThinc()


def spacy_without_torch(pipelines: tuple[str, ...]) -> None:
    """Let thinc start without torch unless one of `pipelines` (configured spaCy pipelines) is set.

    Call it before spaCy is first imported (opening a Project does); afterwards it changes nothing."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    _FINDER.active = not any(pipelines)
