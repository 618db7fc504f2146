"""Models built once per process, optionally started early in a background thread.

A command that will need the embedder or lingua's language models can start building them before it
imports spaCy and reads its input. lingua's model loading, sentencepiece's model file and ONNX
Runtime's session set-up run in native code that releases the GIL, so on two cores they overlap the
rest of the command's start. Asking for a model that is still being built waits for it; an error while building
is raised to whoever asks for the model, as if it had built it itself, and the next request tries again.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_built: dict[Hashable, Future] = {}


def once(key: Hashable, build: Callable[[], T]) -> T:
    """`build()` once per process for `key`; a caller that comes while it is being built waits for it."""
    future, mine = _claim(key)
    if mine:
        _run(key, future, build)
    return future.result()


def start(key: Hashable, build: Callable[[], T]) -> None:
    """Begin `once(key, build)` in a background thread, unless it is built or being built already.

    The thread is not a daemon: a command that ends before asking for the model waits for the build
    to finish, rather than tearing the interpreter down under native code that is still running."""
    future, mine = _claim(key)
    if mine:
        name = f"qualpipe-preload-{key[0] if isinstance(key, tuple) else key}"
        threading.Thread(target=_run, args=(key, future, build), name=name).start()


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
