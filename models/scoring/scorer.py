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

from models.scoring.embeddings import MINILM, get_encoder
from models.scoring.features import FEATURE_NAMES, Answer, feature_matrix
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
        encoder: str | None = MINILM,
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
        vocabulary = get_encoder(self.encoder).vocabulary if self.encoder else frozenset()
        return feature_matrix(answers, vocabulary)

    def transform(self, X: Sequence[Answer], raw: np.ndarray | None = None) -> sp.csr_matrix:
        """The feature matrix; ``raw`` may hold ``interpretable(X)`` already computed."""
        check_is_fitted(self, "scaler_")
        answers = list(X)
        raw = self.interpretable(answers) if raw is None else raw
        blocks = [sp.csr_matrix(self.scaler_.transform(raw)) * self.interpretable_weight]
        if self.encoder:
            blocks.append(sp.csr_matrix(self._embedding_block(answers)) * self.embedding_weight)
        if self.ngrams_ is not None:
            blocks.append(self.ngrams_.transform([a.text for a in answers]) * self.ngram_weight)
        return sp.hstack(blocks, format="csr")

    def answer_vectors(self, answers: Sequence[Answer]) -> np.ndarray:
        """Each answer's unit-length mean sentence embedding (needs an encoder)."""
        return self._embedding_block(answers)[:, :-1]

    def _embedding_block(self, answers: Sequence[Answer]) -> np.ndarray:
        encoder = get_encoder(self.encoder)
        rows = []
        for answer in answers:
            sentences = [s.text for s in split_sentences(answer.text)] or [""]
            # One call, so the question rides in the same batch as the sentences.
            *vectors, question = encoder.encode([*sentences, answer.question or ""])
            vector = np.mean(vectors, axis=0)
            vector /= np.linalg.norm(vector) + 1e-9
            rows.append(np.append(vector, float(vector @ question)))
        return np.vstack(rows)


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

    def _off_topic(self, answers: Sequence[Answer]) -> np.ndarray:
        centroid = getattr(self, "topic_centroid_", None)
        if centroid is None:
            return np.zeros(len(answers), dtype=bool)
        return np.asarray(self.featurizer_.answer_vectors(answers) @ centroid < self.topic_floor_)

    def predict(self, X: Sequence[Answer]) -> np.ndarray:
        """Expected rubric level of each answer, capped where a gate rule fires."""
        check_is_fitted(self, "model_")
        answers = list(X)
        raw = self.featurizer_.interpretable(answers)
        levels = self.model_.predict(self.featurizer_.transform(answers, raw))
        if self.gate_cap is not None:
            gated = np.array([bool(codes) for codes in self._gates(answers, raw)])
            levels = np.where(gated, np.minimum(levels, self.gate_cap), levels)
        return levels

    def gates(self, X: Sequence[Answer]) -> list[tuple[str, ...]]:
        """The gate rules each answer trips, by code."""
        check_is_fitted(self, "model_")
        answers = list(X)
        return self._gates(answers, self.featurizer_.interpretable(answers))

    def _gates(self, answers: Sequence[Answer], raw: np.ndarray) -> list[tuple[str, ...]]:
        off_topic = self._off_topic(answers)
        return [
            (*_rules_tripped(row), *(("off_topic",) if far else ()))
            for row, far in zip(raw, off_topic, strict=True)
        ]

    def score_100(self, X: Sequence[Answer]) -> np.ndarray:
        """``predict`` on a 0-100 scale: the lowest level is 0, the highest 100."""
        return self.to_100(self.predict(X))

    def to_100(self, levels: np.ndarray) -> np.ndarray:
        """Rubric levels on the 0-100 scale."""
        low, high = self.levels[0], self.levels[-1]
        return np.clip((np.asarray(levels, dtype=float) - low) / (high - low) * 100, 0, 100)

    def evidence(self, answer: Answer, top: int = 3) -> list[Evidence]:
        """The sentences whose removal lowers the score most, strongest first.

        Leaving one sentence out at a time is exact for any model, and cheap here: sentence
        embeddings are cached by the encoder, so each variant costs no new embedding.
        """
        sentences = split_sentences(answer.text)
        if len(sentences) < 2:
            return [Evidence(s.start, s.end, s.text, 0.0) for s in sentences[:top]]
        variants = [Answer(_without(sentences, i), answer.question)
                    for i in range(len(sentences))]
        scores = self.score_100([answer, *variants])
        drops = scores[0] - scores[1:]
        order = np.argsort(-drops, kind="stable")
        return [
            Evidence(sentences[i].start, sentences[i].end, sentences[i].text,
                     round(float(drops[i]), 2))
            for i in order[:top]
            if drops[i] > 0
        ]


def _rules_tripped(row: np.ndarray) -> tuple[str, ...]:
    return tuple(
        rule.code
        for rule in GATE_RULES
        if (row[_F[rule.feature]] > rule.limit if rule.above else row[_F[rule.feature]] < rule.limit)
    )


def _without(sentences: Sequence[Sentence], index: int) -> str:
    return " ".join(s.text for i, s in enumerate(sentences) if i != index)
