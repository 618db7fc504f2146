"""The store's vector cache: what was embedded stays embedded."""

from __future__ import annotations


def test_an_embedding_run_that_is_stopped_keeps_the_chunks_it_finished(tmp_path):
    from qualpipe.embed.cache import cached_encode, known_vectors, text_key
    from qualpipe.engines import Engines
    from qualpipe.project import Project

    real = Engines().raw_embedder()

    class StoppedAfterOneChunk:
        """The real engine, stopped (as by Ctrl-C or a kill) when the second chunk starts."""
        model_id, dim, calls = real.model_id, real.dim, 0

        def encode(self, texts, **kwargs):
            self.calls += 1
            if self.calls > 1:
                raise KeyboardInterrupt
            return real.encode(texts, **kwargs)

    texts = [f"Besøg nummer {i} gik godt, og vi spillede kort." for i in range(12)]
    with Project.init(tmp_path / "p") as project:
        try:
            cached_encode(project.store, StoppedAfterOneChunk(), texts, chunk=5)
        except KeyboardInterrupt:
            pass
        kept = known_vectors(project.store, real.model_id, [text_key(t, "passage") for t in texts])
        assert len(kept) == 5
        vectors, new = cached_encode(project.store, real, texts, chunk=5)
        assert new == 7 and vectors.shape == (12, real.dim)
