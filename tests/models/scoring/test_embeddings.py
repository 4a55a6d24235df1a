"""The sentence encoders: the shipped MiniLM file and the one derived from it with its weight
products in int8, which is kept between processes and checked against its pinned hash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.scoring import embeddings
from models.scoring.seed import seed_rows
from models.scoring.text import split_sentences


@pytest.fixture
def kept_in(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh folder for derived encoders, and fresh encoders, for one test."""
    before = embeddings._derived_dir
    embeddings.keep_derived_in(tmp_path)
    embeddings.get_encoder.cache_clear()
    yield tmp_path
    embeddings.keep_derived_in(before)
    embeddings.get_encoder.cache_clear()


def _sentences() -> list[str]:
    return list(dict.fromkeys(s.text for r in seed_rows()[::7] for s in split_sentences(r["text"])))


def test_int8_products_agree_with_the_shipped_file(kept_in: Path) -> None:
    texts = _sentences()
    assert len(texts) > 250
    shipped = embeddings.get_encoder(embeddings.MINILM).encode(texts)
    derived = embeddings.get_encoder(embeddings.MINILM_INT8).encode(texts)
    cosine = (shipped * derived).sum(axis=1)
    assert cosine.mean() > 0.985
    assert cosine.min() > 0.95
    np.testing.assert_allclose(np.linalg.norm(derived, axis=1), 1.0, atol=1e-5)
    # Different sentences stay apart: each one's nearest shipped vector is its own.
    nearest = (derived @ shipped.T).argmax(axis=1)
    assert (nearest == np.arange(len(texts))).mean() > 0.99


def test_the_derived_file_is_kept_and_a_changed_one_derived_again(kept_in: Path) -> None:
    embeddings.get_encoder(embeddings.MINILM_INT8)
    (kept,) = kept_in.glob("minilm-int8-products-*.onnx")
    good = kept.read_bytes()
    kept.write_bytes(good[:1000] + b"tampered" + good[1008:])
    embeddings.get_encoder.cache_clear()
    vector = embeddings.get_encoder(embeddings.MINILM_INT8).encode(["I phoned her that day."])
    assert kept.read_bytes() == good  # derived again, same bytes (the derivation is pinned)
    assert vector.shape == (1, 384)


def test_a_folder_that_cannot_be_written_derives_in_memory(kept_in: Path) -> None:
    blocker = kept_in / "a-file"
    blocker.write_text("not a folder")
    embeddings.keep_derived_in(blocker / "models")  # cannot be created, even by root
    vector = embeddings.get_encoder(embeddings.MINILM_INT8).encode(["We shipped on time."])
    assert vector.shape == (1, 384)
    assert sorted(p.name for p in kept_in.iterdir()) == ["a-file"]


def test_an_unknown_encoder_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown sentence encoder"):
        embeddings.get_encoder("bge-small")
