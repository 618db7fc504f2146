"""Models built once per process, also when a background load and a caller ask at the same time."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from qualpipe import preload


def test_a_model_asked_for_while_it_loads_in_the_background_is_built_once_and_shared():
    builds = []
    release = threading.Event()

    def build():
        builds.append(threading.current_thread().name)
        release.wait(5)
        return object()

    models = preload.Loader("test-shared", build)
    models.start()
    results = []
    askers = [threading.Thread(target=lambda: results.append(models.get())) for _ in range(3)]
    for asker in askers:
        asker.start()
    time.sleep(0.05)
    assert not results  # the askers wait for the background build
    release.set()
    for asker in askers:
        asker.join(5)
    assert len(builds) == 1 and builds[0].startswith("qualpipe-preload")
    assert len(results) == 3 and results[0] is results[1] is results[2] is models.get()


def test_an_error_while_loading_in_the_background_reaches_whoever_asks_for_the_model():
    broken = [True]

    def build():
        if broken[0]:
            raise ValueError("no such model")
        return "fixed"

    models = preload.Loader("test-broken", build)
    models.start()
    with pytest.raises(ValueError, match="no such model"):
        models.get()
    broken[0] = False
    assert models.get() == "fixed"  # a failed load is tried again


def test_the_language_detector_and_the_embedder_started_early_are_the_ones_used_later():
    from qualpipe.embed import load_embedder, start_loading
    from qualpipe.embed.registry import DEFAULT_MODEL, load_registry, resolve_model
    from qualpipe.text import language

    entry, codes = resolve_model(DEFAULT_MODEL, load_registry([])), ("da", "en")
    start_loading(entry)
    language.start_loading(codes)
    assert language._detector(codes) is preload._built[("lingua", codes)].result()
    assert load_embedder(entry) is preload._built[("embedder", entry, None)].result()
    assert language.detect_language("Vi bagte boller og gik en tur i skoven bagefter.", codes) == "da"
    assert load_embedder(entry).encode(["Vi bagte boller."]).shape == (1, 384)


def test_the_weekly_run_starts_the_shipped_concern_model_early_and_the_flagger_uses_that_one(project):
    from qualpipe.flagging import model

    project.start_loading_flagger()
    started = preload._built[("concern-model",)]
    assert project.flagger().model is started.result() is model.load_concern_model(None)


def test_a_project_with_its_own_concern_model_does_not_start_loading_the_shipped_one(project, tmp_path):
    from qualpipe.flagging import model

    own = tmp_path / "own.npz"
    model.load_concern_model(None).save(own)
    project.engines.settings = replace(project.engines.settings, concern_model=own)
    with preload._lock:
        preload._built.pop(("concern-model",), None)
    project.start_loading_flagger()
    assert ("concern-model",) not in preload._built
    assert project.flagger().model is not model.load_concern_model(None)  # its own, read from its file
