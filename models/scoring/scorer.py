"""The per-competency scorer: text features in, a 0-100 score and its supporting sentences out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from models.scoring.embeddings import MINILM_INT8, get_encoder
from models.scoring.features import FEATURE_NAMES, Answer, feature_matrix, leave_one_out_features
from models.scoring.ordinal import OrdinalRegressor
from models.scoring.text import Sentence, split_sentences

_F = {name: i for i, name in enumerate(FEATURE_NAMES)}


class AnswerFeaturizer(TransformerMixin, BaseEstimator):
    """Answers to one matrix: interpretable features, a sentence embedding, word n-grams.

    The answer's embedding is the mean of its sentences' embeddings, so it describes what the
    sentences say rather than how many there are; its cosine to the question's embedding is a
    relevance feature. N-grams are sublinear TF-IDF rows of unit length, for the same reason.

    Parameters:
        encoder: Name of a sentence encoder (``models.scoring.embeddings``), or None for none.
        ngram_range: Word n-gram sizes; None for no n-grams.
        min_df: Fewest answers an n-gram must appear in to be kept.
        interpretable_weight, embedding_weight, ngram_weight: Scale of each block.
    """

    def __init__(
        self,
        encoder: str | None = MINILM_INT8,
        ngram_range: tuple[int, int] | None = (1, 2),
        min_df: int = 2,
        interpretable_weight: float = 1.0,
        embedding_weight: float = 1.0,
        ngram_weight: float = 1.0,
    ) -> None:
        self.encoder = encoder
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.interpretable_weight = interpretable_weight
        self.embedding_weight = embedding_weight
        self.ngram_weight = ngram_weight

    def fit(self, X: Sequence[Answer], y=None):  # type: ignore[no-untyped-def]
        answers = list(X)
        self.scaler_ = StandardScaler().fit(self.interpretable(answers))
        self.ngrams_ = None
        if self.ngram_range is not None:
            self.ngrams_ = TfidfVectorizer(
                ngram_range=self.ngram_range,
                min_df=min(self.min_df, max(len(answers) // 2, 1)),
                sublinear_tf=True,
                max_features=30_000,
            ).fit([a.text for a in answers])
        self.n_features_in_ = len(FEATURE_NAMES)
        return self

    def interpretable(self, answers: Sequence[Answer]) -> np.ndarray:
        """The raw ``FEATURE_NAMES`` columns of each answer."""
        return feature_matrix(answers, self._vocabulary())

    def _vocabulary(self) -> frozenset[str]:
        return get_encoder(self.encoder).vocabulary if self.encoder else frozenset()

    def transform(self, X: Sequence[Answer], raw: np.ndarray | None = None) -> sp.csr_matrix:
        """The feature matrix; ``raw`` may hold ``interpretable(X)`` already computed."""
        return self.featurize(X, raw)[0]

    def featurize(
        self, X: Sequence[Answer], raw: np.ndarray | None = None
    ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray | None]:
        """The feature matrix, with the interpretable columns and the embedding block in it."""
        check_is_fitted(self, "scaler_")
        answers = list(X)
        raw = self.interpretable(answers) if raw is None else raw
        embedded = self._embedding_block(answers) if self.encoder else None
        return self._assemble([a.text for a in answers], raw, embedded), raw, embedded

    def leave_one_out(
        self, answer: Answer, sentences: Sequence[Sentence]
    ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray | None]:
        """``featurize`` of the answer (row 0) and of it without each of its ``sentences``
        (row i + 1 leaves sentence i out), with each sentence read and embedded once."""
        check_is_fitted(self, "scaler_")
        raw = leave_one_out_features(answer, sentences, self._vocabulary(), variants=True)
        texts = [answer.text, *(_without(sentences, i) for i in range(len(sentences)))]
        embedded = None
        if self.encoder:
            embedded = self._pooled([s.text for s in sentences], answer.question, variants=True)
        return self._assemble(texts, raw, embedded), raw, embedded

    def _assemble(
        self, texts: Sequence[str], raw: np.ndarray, embedded: np.ndarray | None
    ) -> sp.csr_matrix:
        blocks = [sp.csr_matrix(self.scaler_.transform(raw)) * self.interpretable_weight]
        if embedded is not None:
            blocks.append(sp.csr_matrix(embedded) * self.embedding_weight)
        if self.ngrams_ is not None:
            blocks.append(self.ngrams_.transform(texts) * self.ngram_weight)
        return sp.hstack(blocks, format="csr")

    def answer_vectors(self, answers: Sequence[Answer]) -> np.ndarray:
        """Each answer's unit-length mean sentence embedding (needs an encoder)."""
        return self._embedding_block(answers)[:, :-1]

    def _embedding_block(self, answers: Sequence[Answer]) -> np.ndarray:
        return np.vstack([
            self._pooled([s.text for s in split_sentences(a.text)], a.question)
            for a in answers
        ])

    def _pooled(self, sentences: Sequence[str], question: str, *,
                variants: bool = False) -> np.ndarray:
        """The unit-length mean of the sentences' vectors and its cosine to the question's; with
        ``variants``, one more row per sentence for the mean without it."""
        # One call, so the question rides in the same batch as the sentences.
        *vectors, asked = get_encoder(self.encoder).encode([*sentences, question or ""])
        if not vectors:
            vectors = list(get_encoder(self.encoder).encode([""]))
        stacked = np.vstack(vectors).astype(np.float64)
        total = stacked.sum(axis=0)
        means = [total / len(stacked)]
        if variants:
            means += [(total - row) / (len(stacked) - 1) for row in stacked]
        pooled = np.vstack(means)
        pooled /= np.linalg.norm(pooled, axis=1, keepdims=True) + 1e-9
        return np.hstack([pooled, (pooled @ asked)[:, None]])


@dataclass(frozen=True)
class Evidence:
    """A sentence that supports a score, and how much the score falls without it.

    Attributes:
        start: Offset of the sentence's first character in the scored (redacted) text.
        end: Offset just past it.
        text: The sentence.
        weight: Points (0-100 scale) the score loses when the sentence is left out.
    """

    start: int
    end: int
    text: str
    weight: float


@dataclass(frozen=True)
class GateRule:
    """A reason the words cannot show a competency, whatever the model says."""

    code: str
    feature: str
    above: bool
    limit: float


# Answers these rules catch hold too little evidence to meet any level: they are capped below
# "meets" (level 3 by default), and the cap is named with the score so a person can see why.
GATE_RULES: tuple[GateRule, ...] = (
    GateRule("too_little_content", "content", above=False, limit=0.62),
    GateRule("mostly_unknown_words", "unknown_words", above=True, limit=0.3),
    GateRule("repetitive", "repetition", above=True, limit=0.45),
    GateRule("buzzwords_without_substance", "abstract_words", above=True, limit=0.2),
    GateRule("no_personal_action", "own_actions", above=False, limit=0.01),
)


# Answers less like the competency's strong answers than this (cosine of mean sentence
# embeddings) are about something else; the fitted floor may sit lower, never higher.
TOPIC_FLOOR = 0.45


class CompetencyScorer(RegressorMixin, BaseEstimator):
    """One competency's model: answers in, expected rubric level out (``score_100`` for 0-100).

    Parameters:
        featurizer: How answers become features (cloned when fitting).
        levels: The rubric's levels, lowest first.
        C: Regularisation of the ordinal model's steps.
        gate_cap: The highest level an answer caught by ``GATE_RULES`` can get; None: no gate.
    """

    def __init__(
        self,
        featurizer: AnswerFeaturizer | None = None,
        levels: tuple[float, ...] = (1, 2, 3, 4, 5),
        C: float = 0.5,
        gate_cap: float | None = 2.0,
    ) -> None:
        self.featurizer = featurizer
        self.levels = levels
        self.C = C
        self.gate_cap = gate_cap

    def fit(self, X: Sequence[Answer], y, sample_weight=None):  # type: ignore[no-untyped-def]
        answers = list(X)
        self.featurizer_ = clone(self.featurizer or AnswerFeaturizer()).fit(answers)
        labels = np.asarray(y, dtype=float)
        self.model_ = OrdinalRegressor(levels=self.levels, C=self.C).fit(
            self.featurizer_.transform(answers), labels, sample_weight
        )
        self.n_features_in_ = self.featurizer_.n_features_in_
        self._fit_topic(answers, labels)
        return self

    def _fit_topic(self, answers: list[Answer], labels: np.ndarray) -> None:
        """Where answers that show the competency lie in embedding space, for the off-topic gate.

        The floor sits just below the least typical of the answers labelled at the middle level
        or above, and never above ``TOPIC_FLOOR``.
        """
        self.topic_centroid_: np.ndarray | None = None
        self.topic_floor_ = -1.0
        strong = labels >= self.levels[len(self.levels) // 2]
        if not self.featurizer_.encoder or strong.sum() < 3:
            return
        vectors = self.featurizer_.answer_vectors(
            [a for a, s in zip(answers, strong, strict=True) if s]
        )
        centroid = vectors.mean(axis=0)
        self.topic_centroid_ = centroid / (np.linalg.norm(centroid) + 1e-9)
        similarity = vectors @ self.topic_centroid_
        self.topic_floor_ = min(TOPIC_FLOOR, float(np.quantile(similarity, 0.01)) - 0.05)

    def predict(self, X: Sequence[Answer]) -> np.ndarray:
        """Expected rubric level of each answer, capped where a gate rule fires."""
        check_is_fitted(self, "model_")
        return self._levels(*self.featurizer_.featurize(list(X)))[0]

    def _levels(
        self, matrix: sp.csr_matrix, raw: np.ndarray, embedded: np.ndarray | None
    ) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        """The levels of featurized answers, capped by the gate rules, and the rules tripped."""
        levels = self.model_.predict(matrix)
        centroid = getattr(self, "topic_centroid_", None)
        off_topic = (
            embedded[:, :-1] @ centroid < self.topic_floor_
            if centroid is not None and embedded is not None
            else np.zeros(len(raw), dtype=bool)
        )
        gates = [
            (*_rules_tripped(row), *(("off_topic",) if far else ()))
            for row, far in zip(raw, off_topic, strict=True)
        ]
        if self.gate_cap is not None:
            gated = np.array([bool(codes) for codes in gates])
            levels = np.where(gated, np.minimum(levels, self.gate_cap), levels)
        return levels, gates

    def score_100(self, X: Sequence[Answer]) -> np.ndarray:
        """``predict`` on a 0-100 scale: the lowest level is 0, the highest 100."""
        return self.to_100(self.predict(X))

    def to_100(self, levels: np.ndarray) -> np.ndarray:
        """Rubric levels on the 0-100 scale."""
        low, high = self.levels[0], self.levels[-1]
        return np.clip((np.asarray(levels, dtype=float) - low) / (high - low) * 100, 0, 100)

    def assess(self, answer: Answer, top: int = 3) -> Assessment:
        """One answer's level, the gate rules it trips, and its ``top`` evidence sentences:
        those whose removal lowers the score most, strongest first.

        Leaving one sentence out at a time is exact for any model, and cheap here: each
        sentence is read and embedded once, and every variant is a sum without it.
        """
        check_is_fitted(self, "model_")
        sentences = split_sentences(answer.text)
        if top > 0 and len(sentences) >= 2:
            levels, gates = self._levels(*self.featurizer_.leave_one_out(answer, sentences))
        else:
            levels, gates = self._levels(*self.featurizer_.featurize([answer]))
        scores = self.to_100(levels)
        if len(sentences) < 2:
            evidence = [Evidence(s.start, s.end, s.text, 0.0) for s in sentences[:top]]
        else:
            drops = np.round(scores[0] - scores[1:], 6)  # equal drops: the earlier sentence first
            evidence = [
                Evidence(sentences[i].start, sentences[i].end, sentences[i].text,
                         round(float(drops[i]), 2))
                for i in np.argsort(-drops, kind="stable")[:top]
                if drops[i] > 0
            ]
        return Assessment(float(levels[0]), float(scores[0]), gates[0], tuple(evidence))


@dataclass(frozen=True)
class Assessment:
    """What ``CompetencyScorer.assess`` finds in one answer."""

    level: float
    score: float
    gates: tuple[str, ...]
    evidence: tuple[Evidence, ...]


def _rules_tripped(row: np.ndarray) -> tuple[str, ...]:
    return tuple(
        rule.code
        for rule in GATE_RULES
        if (row[_F[rule.feature]] > rule.limit if rule.above else row[_F[rule.feature]] < rule.limit)
    )


def _without(sentences: Sequence[Sentence], index: int) -> str:
    return " ".join(s.text for i, s in enumerate(sentences) if i != index)
