"""Every table, imported in one place so Alembic and tests see the whole schema."""

from services.core.audit.orm import AuditEvent
from services.core.calibration.orm import (
    LabelAssignment,
    LabelBatch,
    ModelPromotion,
    TrainingSnapshot,
)
from services.core.db import Base
from services.core.fairness.orm import SelfIdentification
from services.core.interviews.orm import (
    Answer,
    AnswerChunk,
    Candidate,
    CandidateCv,
    Consent,
    Decision,
    Interview,
    Invitation,
    Note,
    OpenLink,
    Score,
    Transcript,
)
from services.core.organisations.orm import Organisation, StaffSession, User
from services.core.ratelimit.orm import RateEvent
from services.core.roles.orm import CompetencyThreshold, JobRole, Question, ScriptItem
from services.core.rubrics.orm import AnchoredLevel, Competency, Indicator, Rubric, RubricVersion
from services.core.scoring.orm import ScoreOverride, ScoringModelRecord, ScoringRun, TrainingRun
from services.core.webhooks.orm import WebhookDelivery, WebhookEndpoint

__all__ = [
    "AnchoredLevel",
    "Answer",
    "AnswerChunk",
    "AuditEvent",
    "Base",
    "Candidate",
    "CandidateCv",
    "Competency",
    "CompetencyThreshold",
    "Consent",
    "Decision",
    "Indicator",
    "Interview",
    "Invitation",
    "JobRole",
    "LabelAssignment",
    "LabelBatch",
    "ModelPromotion",
    "Note",
    "OpenLink",
    "Organisation",
    "Question",
    "RateEvent",
    "Rubric",
    "RubricVersion",
    "Score",
    "ScoreOverride",
    "ScoringModelRecord",
    "ScoringRun",
    "ScriptItem",
    "SelfIdentification",
    "StaffSession",
    "TrainingRun",
    "TrainingSnapshot",
    "Transcript",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
]
