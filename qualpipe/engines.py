"""The one factory for qualpipe's engines: the embedder, the theme coder and the concern flagger.

A project (`Project.engines`), batch mode (`code --input`, `flag --input`), Dask workers, the benches
and the tests all build their engines here, from the same `EngineSettings`, so an engine is wired one way
only. Each engine is built once per `Engines` and reused; Dask workers keep one `Engines` per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qualpipe.embed.registry import DEFAULT_MODEL, ModelEntry, load_registry, resolve_model

# Batch mode has no project: a registry in the working folder's models/ adds to the built-in models.
BATCH_REGISTRY = Path("models/registry.yaml")


@dataclass(frozen=True)
class EngineSettings:
    """What building the engines takes from a configuration (small, hashable and picklable)."""

    embedding_model: str = DEFAULT_MODEL
    registry_files: tuple[Path, ...] = ()
    pipeline: str = ""
    batch_size: int = 64
    codebook: Path | None = None  # None: qualpipe's built-in Danish codebook
    coder: str = "trained"  # or "zero-shot"
    coding_threshold: float = 0.5
    detector: str = "learned"  # or "lexicon"
    check_fraction: float | None = None  # how far "Tjek disse" reaches (flagger.check_band; None: its default)
    concern_model: Path | None = None  # a project's own concern model, used when the file exists

    @classmethod
    def from_config(cls, config) -> "EngineSettings":
        """A project's settings (`config` is a `qualpipe.config.Config`)."""
        return cls(
            embedding_model=config.embedding_model,
            registry_files=(config.model_registry,) if config.model_registry else (),
            pipeline=config.pipeline,
            batch_size=config.embedding_batch_size,
            codebook=config.codebook,
            coder=config.coder,
            coding_threshold=config.coding_threshold,
            detector=config.detector,
            check_fraction=config.check_fraction,
            concern_model=project_concern_model(config.root),
        )

    @classmethod
    def for_batch(cls, model: str | None = None, codebook: Path | None = None) -> "EngineSettings":
        """Batch mode's settings: the defaults, with the model and codebook given on the command line."""
        return cls(embedding_model=model or DEFAULT_MODEL, registry_files=(BATCH_REGISTRY,), codebook=codebook)


def known_models(project_dir: Path) -> dict[str, ModelEntry]:
    """The models `qualpipe models` lists: built-in ones and the project's registry (outside a project: the
    working folder's models/registry.yaml)."""
    from qualpipe.config import load_config
    from qualpipe.errors import UserError

    try:
        registry_file = load_config(Path(project_dir)).model_registry
    except UserError:
        registry_file = BATCH_REGISTRY
    return load_registry([registry_file] if registry_file else [])


def project_concern_model(root: Path) -> Path:
    """Where a project's own concern model goes (`flag train --with-feedback`)."""
    return Path(root) / "models" / "concern_model.npz"


@dataclass(frozen=True)
class WorkerSpec:
    """What a Dask worker needs to build the same engines as this process: the settings, with the codebook
    and the model registry already read (a remote worker need not see this machine's files)."""

    settings: EngineSettings
    codebook: object  # coding.codebook.Codebook
    registry: tuple[tuple[str, ModelEntry], ...]


class Engines:
    """Builds each engine once from `settings`. With a `store`, embeddings are read from and written to its
    cache; without one (batch mode, workers) every text is embedded."""

    def __init__(self, settings: EngineSettings = EngineSettings(), store=None, *, codebook=None,
                 registry: dict[str, ModelEntry] | None = None):
        self.settings = settings
        self.store = store
        self._codebook = codebook
        self._registry = registry
        self._built: dict = {}

    @classmethod
    def for_worker(cls, spec: WorkerSpec) -> "Engines":
        return cls(spec.settings, codebook=spec.codebook, registry=dict(spec.registry))

    def worker_spec(self) -> WorkerSpec:
        return WorkerSpec(self.settings, self.codebook(), tuple(sorted(self.registry().items())))

    def _once(self, key, build):
        if key not in self._built:
            self._built[key] = build()
        return self._built[key]

    # -- parts ---------------------------------------------------------------------------------

    def registry(self) -> dict[str, ModelEntry]:
        if self._registry is None:
            self._registry = load_registry(list(self.settings.registry_files))
        return self._registry

    def model_entry(self, model: str | None = None) -> ModelEntry:
        """A model name (default: the configured one) or a sentence-transformers folder, resolved."""
        return resolve_model(model or self.settings.embedding_model, self.registry())

    def start_loading(self, model: str | None = None) -> None:
        """Start loading an embedder in the background, for a command that needs it after other work."""
        from qualpipe.embed import start_loading

        start_loading(self.model_entry(model))

    def raw_embedder(self, model: str | None = None):
        """The embedding model itself, without the store's cache."""
        from qualpipe.embed import load_embedder

        return load_embedder(self.model_entry(model))

    def embedder(self, model: str | None = None):
        """The embedder the engines use: through the store's cache when there is a store."""
        if self.store is None:
            return self.raw_embedder(model)

        def build():
            from qualpipe.embed.cache import CachedEmbedder

            return CachedEmbedder(self.store, self.raw_embedder(model), self.settings.batch_size)

        return self._once(("embedder", self.model_entry(model)), build)

    def nlp(self):
        from qualpipe.text.nlp import load_nlp

        return load_nlp(self.settings.pipeline)

    def codebook(self):
        if self._codebook is None:
            from qualpipe.coding.codebook import load_codebook

            self._codebook = load_codebook(self.settings.codebook)
        return self._codebook

    # -- engines -------------------------------------------------------------------------------

    def coding_engine(self, model: str | None = None):
        """The theme coder: the shipped trained coder when the settings ask for it and the embedder is the one
        it was trained on (another model gets zero-shot), with the codebook and threshold configured."""

        def build():
            self.start_loading(model)  # it loads while spaCy is imported
            from qualpipe.coding.engine import CodingEngine

            trained = None
            if self.settings.coder == "trained":
                from qualpipe.coding.trained import TrainedCoder, shipped_theme_model

                head = shipped_theme_model()
                if (model or self.settings.embedding_model) == head.embedder:
                    trained = TrainedCoder(head)
            from qualpipe.private_files import cache_dir

            return CodingEngine(self.codebook(), self.embedder(model), self.nlp(),
                                threshold=self.settings.coding_threshold, trained=trained,
                                zero_shot_cache=cache_dir() / "zero-shot")

        return self._once(("coding", model), build)

    def start_loading_flagger(self) -> None:
        """Start loading the flagger's embedder and, when it is the shipped one, its learned head in the
        background, for a command that ingests first (the weekly run)."""
        self.start_loading()
        if self.settings.detector == "learned" and self._own_concern_model() is None:
            from qualpipe.flagging.model import start_loading_shipped_model

            start_loading_shipped_model()

    def _own_concern_model(self) -> Path | None:
        own = self.settings.concern_model
        return own if own is not None and own.is_file() else None

    def concern_head(self):
        """The learned detector's head (the project's own model when it exists, else the shipped one), or
        None for the lexicon detector."""
        if self.settings.detector != "learned":
            return None
        from qualpipe.flagging.model import load_concern_model

        return load_concern_model(self._own_concern_model())

    def flagger(self):
        """The configured concern flagger on its model's embedder."""

        def build():
            head = self.concern_head()
            model = head.embedder if head is not None else None
            self.start_loading(model)  # it loads while spaCy is imported
            from qualpipe.flagging.flagger import ConcernFlagger

            return ConcernFlagger(self.nlp(), self.embedder(model), model=head,
                                  check_fraction=self.settings.check_fraction)

        return self._once(("flagger",), build)
