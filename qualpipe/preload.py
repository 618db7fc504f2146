"""Models built once per process, optionally started early in a background thread.

A command that will need the embedder or lingua's language models can start building them before it
imports spaCy and reads its input. lingua's model loading, sentencepiece's model file and ONNX
Runtime's session set-up run in native code that releases the GIL, so on two cores they overlap the
rest of the command's start. Asking for a model that is still being built waits for it; an error
while building is raised to whoever asks for the model, as if it had built it itself, and the next
request tries again.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_built: dict[Hashable, Future] = {}


class Loader:
    """One kind of model: `get(*args)` returns `build(*args)`, built once per process for each distinct
    `args` (hashable); `start(*args)` begins that build in a background thread. A caller that asks
    while the model is being built waits for it."""

    def __init__(self, kind: str, build: Callable[..., T]):
        self.kind = kind
        self.build = build

    def get(self, *args) -> T:
        key = (self.kind, *args)
        future, mine = _claim(key)
        if mine:
            _run(key, future, lambda: self.build(*args))
        return future.result()

    def start(self, *args) -> None:
        """Begin `get(*args)` in a background thread, unless it is built or being built already.

        The thread is not a daemon: a command that ends before asking for the model waits for the
        build to finish, rather than tearing the interpreter down under native code still running."""
        key = (self.kind, *args)
        future, mine = _claim(key)
        if mine:
            threading.Thread(target=_run, args=(key, future, lambda: self.build(*args)),
                             name=f"qualpipe-preload-{self.kind}").start()


def _claim(key: Hashable) -> tuple[Future, bool]:
    with _lock:
        if key in _built:
            return _built[key], False
        future = _built[key] = Future()
        return future, True


def _run(key: Hashable, future: Future, build: Callable[[], object]) -> None:
    try:
        future.set_result(build())
    except BaseException as exc:  # re-raised by future.result() in whoever asks, once
        with _lock:
            if _built.get(key) is future:
                del _built[key]  # a failed build is not kept: the next request builds again
        future.set_exception(exc)
