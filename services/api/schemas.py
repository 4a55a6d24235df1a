"""The API's JSON contract (pydantic v2): what comes in and what goes out."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from services.core.fairness import service as self_id


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, object] = {}


class ErrorResponse(BaseModel):
    error: ErrorBody


class LoginIn(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(Out):
    id: str
    email: str
    name: str
    role: str
    org_id: str


class ScoringModelOut(BaseModel):
    version: str | None = Field(description="None until a model has scored an answer.")
    name: str
    calibrated: bool = Field(
        description="False for the seed model: every screen then says it is an uncalibrated "
        "demo model."
    )


class MeOut(BaseModel):
    user: UserOut
    organisation: str
    csrf_token: str
    scoring_model: ScoringModelOut


class LoginOut(MeOut):
    token: str = Field(
        description="Session token; also set as an HttpOnly cookie. Send it as "
        "'Authorization: Bearer <token>' from API clients."
    )


class UserIn(BaseModel):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(pattern="^(admin|recruiter|psychologist)$")
    password: str = Field(min_length=12, max_length=1024)


class LevelOut(Out):
    level: int
    label: str
    anchor: str
    examples: list[str]


class IndicatorOut(Out):
    key: str
    text: str
    levels: list[LevelOut]


class CompetencyOut(Out):
    key: str
    name: str
    description: str
    indicators: list[IndicatorOut]


class LevelIn(BaseModel):
    level: int = Field(ge=1, le=10)
    label: str = Field(min_length=1, max_length=64)
    anchor: str = Field(min_length=1, max_length=5000)
    examples: list[str] = Field(default_factory=list, max_length=50)


class IndicatorIn(BaseModel):
    key: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    text: str = Field(min_length=1, max_length=1000)
    levels: list[LevelIn] = Field(min_length=2, max_length=10)


class CompetencyIn(BaseModel):
    key: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    indicators: list[IndicatorIn] = Field(min_length=1, max_length=30)


class RubricDocumentIn(BaseModel):
    """A whole rubric as edited in the app; saved as the next version of ``name``."""

    name: str = Field(min_length=1, max_length=200)
    competencies: list[CompetencyIn] = Field(min_length=1, max_length=30)


class RubricVersionOut(Out):
    id: str
    rubric_id: str
    name: str
    version: int
    competencies: list[CompetencyOut]


class QuestionOut(Out):
    id: str
    key: str
    competency_key: str
    text: str


class QuestionIn(BaseModel):
    """A question of the organisation's own, for one competency of a rubric version."""

    rubric_version_id: str = Field(min_length=1, max_length=64)
    competency_key: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=2000, description="20 to 600 characters.")


class ThresholdIO(Out):
    competency_key: str
    required_level: float = Field(ge=1, le=5)
    exceeds_level: float = Field(ge=1, le=5)


class ScriptItemOut(Out):
    position: int
    question: QuestionOut


class RoleOut(Out):
    id: str
    title: str
    description: str
    rubric_version_id: str
    think_seconds: int
    answer_seconds: int
    retakes: int
    ai_scoring_paused: bool
    feedback_enabled: bool
    feedback_delay_days: int
    thresholds: list[ThresholdIO]
    script: list[ScriptItemOut]


class RoleDetailOut(RoleOut):
    candidates_started: bool = Field(
        description="A candidate has started: the script, rubric version and retakes are fixed."
    )


class CompetencyDistributionOut(BaseModel):
    competency_key: str
    counts: list[int] = Field(
        description="20 bins of 5 points: bin i holds scores in [5i, 5i+5), 100 the last one."
    )
    candidates: int


class ScoreDistributionOut(BaseModel):
    role_id: str
    bin_width: int = 5
    competencies: list[CompetencyDistributionOut]


class AiScoringIn(BaseModel):
    paused: bool
    reason: str = Field(min_length=5, max_length=2000, description="Logged with the change.")


class FeedbackSettingIn(BaseModel):
    enabled: bool
    delay_days: int = Field(default=3, ge=0, le=30, description="Days after completion.")


class StrengthOut(BaseModel):
    competency: str
    description: str
    example: str | None = Field(description="One of the candidate's own sentences.")


class FeedbackOut(BaseModel):
    available_at: dt.datetime
    strengths: list[StrengthOut] | None = Field(description="None until available_at.")


class RoleIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    rubric_version_id: str
    question_ids: list[str] = Field(min_length=1, max_length=12)
    thresholds: list[ThresholdIO]
    think_seconds: int = Field(default=30, ge=0, le=600)
    answer_seconds: int = Field(default=150, ge=15, le=900)
    retakes: int = Field(default=1, ge=0, le=2)


class ThresholdsIn(BaseModel):
    thresholds: list[ThresholdIO]


class InvitationIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class InvitationOut(BaseModel):
    interview_id: str
    invite_url: str = Field(description="Shown once: only a hash of the token is stored.")
    expires_at: dt.datetime


class BatchInvitationOut(InvitationOut):
    name: str
    email: str


class OpenLinkIn(BaseModel):
    expires_in_days: int | None = Field(
        default=None, ge=1, le=365, description="Null: open until a recruiter disables it."
    )
    max_candidates: int | None = Field(
        default=None, ge=1, le=100_000, description="Null: no cap on interviews made through it."
    )


class OpenLinkOut(BaseModel):
    id: str
    url: str | None = Field(
        description="Rebuilt from the secret key (only the token's hash is stored); null when "
        "the key has changed since: the link still works but cannot be shown again."
    )
    state: Literal["active", "disabled", "expired", "full"]
    expires_at: dt.datetime | None
    max_candidates: int | None
    candidates: int = Field(description="Interviews made through this link.")
    created_at: dt.datetime
    disabled_at: dt.datetime | None


class OpenLinkTokenIn(BaseModel):
    token: str = Field(min_length=16, max_length=128, description="From the link's #open= part.")


class OpenLinkJoinIn(OpenLinkTokenIn):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class OpenLinkRoleOut(BaseModel):
    organisation: str
    role_title: str
    role_description: str
    questions: int
    contact_email: str | None


class OpenLinkJoinOut(BaseModel):
    invite_token: str | None = Field(
        description="The new interview's token; null when this email already had an interview "
        "for the role (its own link was emailed to it instead)."
    )
    message: str


class InvitationExtendIn(BaseModel):
    days: int = Field(ge=1, le=90)
    reason: str = Field(min_length=5, max_length=1000, description="Logged with the change.")


class InvitationExtendOut(BaseModel):
    expires_at: dt.datetime
    invite_url: str = Field(description="Emailed to the candidate again.")


class InvitationStatusOut(BaseModel):
    expires_at: dt.datetime
    expired: bool = Field(description="The link no longer opens the interview for answering.")
    reminded_at: dt.datetime | None
    via_open_link: bool


class AnswerSummary(Out):
    id: str
    question_id: str
    state: str
    failure_code: str | None
    failure_reason: str | None
    retakes_used: int = Field(default=0, description="Takes the candidate chose to record again.")


class OverrideOut(BaseModel):
    value: float
    reason: str
    actor_id: str | None
    at: dt.datetime


class CompetencyResultOut(BaseModel):
    key: str
    score: float = Field(description="A person's override when there is one, else the model's.")
    band: str | None = Field(description="below, meets or exceeds the role's levels")
    required_level: float | None
    exceeds_level: float | None
    answers: int
    model_score: float | None = Field(default=None, description="The model's own mean, always.")
    override: OverrideOut | None = None
    overridden: bool = Field(default=False, description="A person's score replaces the model's.")


class OverrideIn(BaseModel):
    competency_key: str = Field(min_length=1, max_length=64)
    value: float | None = Field(ge=0, le=100, description="0-100; null puts the model's back.")
    reason: str = Field(min_length=5, max_length=5000)
    viewed: list[str] = Field(default_factory=list, max_length=100)


class OverrideResultOut(BaseModel):
    competencies: list[CompetencyResultOut]
    fit: float | None


class CandidateCount(BaseModel):
    total: int = Field(description="Candidates matching the filters, exactly.")


class CandidateRow(BaseModel):
    interview_id: str
    candidate_name: str
    candidate_email: str
    is_synthetic: bool
    state: str
    status: str
    answers: list[AnswerSummary]
    competencies: list[CompetencyResultOut]
    fit: float | None
    deletion_due_at: dt.datetime | None = Field(
        default=None, description="Set when the candidate asked for deletion: gone by then."
    )
    human_review_requested_at: dt.datetime | None = None
    invitation_expires_at: dt.datetime | None = None
    invitation_expired: bool = False


class CandidatePage(BaseModel):
    total: int | None = Field(
        description="Candidates matching the filters, on all pages together, counted up to "
        "1,000; on the first page only (null on the pages reached with a cursor)."
    )
    total_capped: bool = Field(
        False, description="More than `total` match; GET .../candidates/count counts them all.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")
    items: list[CandidateRow]


class WordOut(BaseModel):
    start: float
    end: float
    text: str
    probability: float


class TranscriptOut(Out):
    asr_version: str
    text: str
    language: str
    language_probability: float
    words: list[WordOut]
    quality_flags: list[str]
    processing_seconds: float


class EvidenceOut(BaseModel):
    text: str = Field(description="The sentence, as scored (personal data redacted).")
    weight: float = Field(description="Points the score loses without this sentence.")
    start: float | None = Field(description="Seconds into the recording where it begins.")
    end: float | None
    start_char: int
    end_char: int


class ScoreOut(Out):
    competency_key: str
    value: float = Field(description="0-100")
    level: float | None = Field(description="On the rubric's scale (1-5).")
    gates: list[str] = Field(description="Why the score is capped below 'meets', if it is.")
    evidence: list[EvidenceOut]
    model_version: str
    rubric_version_id: str
    asr_version: str
    created_at: dt.datetime


class AnswerDetail(AnswerSummary):
    content_type: str = Field(description="text/plain for a typed answer (an accommodation).")
    question_text: str
    competency_key: str
    duration_seconds: float | None
    speech_seconds: float | None
    media_url: str | None
    transcript: TranscriptOut | None
    scores: list[ScoreOut]


class DecisionOut(Out):
    id: str
    interview_id: str
    actor_id: str
    from_status: str
    to_status: str
    reason: str
    created_at: dt.datetime


class AccommodationsIn(BaseModel):
    extra_think_seconds: int = Field(default=0, ge=0, le=600)
    extra_answer_seconds: int = Field(default=0, ge=0, le=1800)
    extra_retakes: int = Field(default=0, ge=0, le=3)
    typed_answers: bool = False
    reason: str = Field(default="", max_length=1000, description="Logged with the change.")


class AccommodationsOut(BaseModel):
    extra_think_seconds: int
    extra_answer_seconds: int
    extra_retakes: int
    typed_answers: bool


class CvOut(BaseModel):
    """The candidate's CV as the page shows it (services/core/interviews/cv.py)."""

    filename: str
    size_bytes: int
    uploaded_at: dt.datetime
    uploaded_by_id: str | None
    url: str = Field(description="The PDF, served inline; add ?download=true to save it.")


class NoteIn(BaseModel):
    body: str = Field(description="Free text, 1 to 5000 characters once trimmed.")


class NoteOut(BaseModel):
    id: str
    body: str
    created_at: dt.datetime
    author_id: str
    author_name: str
    mine: bool = Field(description="True for the caller's own note: only they may delete it.")


class InterviewDetail(BaseModel):
    interview_id: str
    role_id: str
    candidate_name: str
    candidate_email: str
    is_synthetic: bool
    state: str
    status: str
    answers: list[AnswerDetail]
    decisions: list[DecisionOut]
    competencies: list[CompetencyResultOut]
    fit: float | None = Field(description="Mean of the competency scores, 0-100.")
    scoring_model: ScoringModelOut
    accommodations: AccommodationsOut
    data_requests: DataRequestsOut
    invitation: InvitationStatusOut | None = None


class DataRequestsOut(BaseModel):
    """What the candidate asked for from their link (services/core/interviews/privacy.py)."""

    deletion_requested_at: dt.datetime | None
    deletion_due_at: dt.datetime | None = Field(
        description="Everything about the candidate is deleted by then (at most 30 days on)."
    )
    human_review_requested_at: dt.datetime | None
    human_review_message: str | None


class CandidateRightsOut(DataRequestsOut):
    deletion_grace_days: int = Field(description="Days from a deletion request to the purge.")


class HumanReviewIn(BaseModel):
    message: str | None = Field(default=None, max_length=2000)


class DecisionIn(BaseModel):
    status: str = Field(pattern="^(new|in_review|advanced|on_hold|not_progressed)$")
    reason: str = Field(min_length=5, max_length=5000)
    viewed: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="What the person had opened before deciding.",
    )


class AuditOut(Out):
    seq: int
    created_at: dt.datetime
    actor: str
    action: str
    subject: str
    data: dict[str, object]


class AuditVerifyOut(BaseModel):
    intact: bool
    problems: list[str]


class CandidateQuestion(BaseModel):
    question_id: str
    position: int
    text: str
    answer_state: str | None
    retakes_left: int = Field(description="Takes this question may still be recorded again.")
    recorded: bool = Field(
        description="A whole take was recorded and waits for the candidate to keep it."
    )


class SpeechLine(BaseModel):
    id: str = Field(description="For GET /candidate/speech/{id}: the avatar's audio of it.")
    text: str = Field(description="The caption: exactly what the avatar says.")


class CompetencyName(BaseModel):
    key: str
    name: str
    description: str


class CandidateInterviewOut(BaseModel):
    organisation: str
    role_title: str
    competencies: list[CompetencyName] = Field(
        description="What the answers are assessed against (the role's rubric)."
    )
    retention_days: int
    contact_email: str | None = Field(
        description="Where to ask for an accommodation or a human-only review."
    )
    state: str
    notice_version: str
    think_seconds: int = Field(description="The role's think time plus any extra granted.")
    answer_seconds: int = Field(description="The role's answer time plus any extra granted.")
    retakes: int = Field(description="Retakes per question: the role's plus any extra granted.")
    typed_answers: bool = Field(description="The candidate may type answers instead.")
    feedback_offered: bool = Field(description="The role offers a feedback report later.")
    max_typed_answer_chars: int
    questions: list[CandidateQuestion]
    next_question: int | None = Field(description="Position of the next unanswered question.")
    lines: list[SpeechLine] = Field(description="What the avatar says, with its captions.")


class ConsentIn(BaseModel):
    accepted: bool
    notice_version: str = Field(min_length=1, max_length=32)


class ChunkOut(BaseModel):
    answer_id: str
    index: int
    duplicate: bool
    received_bytes: int


class CompleteIn(BaseModel):
    """Keep the recording. Both fields may be left out for a take whose final chunk has arrived
    (after a reload the page no longer has the chunks); each chunk was checked on arrival."""

    chunk_count: int | None = Field(default=None, ge=1, le=100_000)
    sha256: str | None = Field(default=None, pattern="^[0-9a-fA-F]{64}$")


class CandidateAnswerOut(BaseModel):
    answer_id: str
    state: str
    failure_code: str | None = None
    failure_reason: str | None = None
    received_chunks: list[int] = []
    recorded: bool = False
    retakes_left: int = 0


class TypedAnswerIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)


class BankQuestionOut(Out):
    key: str
    competency_key: str
    text: str


class BankInstallOut(BaseModel):
    added: int = Field(description="Shipped questions newly added; 0 when all were there already.")


class TrainingProgressOut(BaseModel):
    done: int = 0
    total: int = 0
    current: str = ""


class TrainingRunOut(Out):
    id: str
    state: str = Field(description="queued, running, done or failed")
    data_sha256: str
    options: dict[str, Any]
    progress: TrainingProgressOut
    report: dict[str, Any] | None = Field(
        description="Per criterion: model versus the aggregated label on held-out items, beside "
        "rater versus rater on the same items (QWK, Pearson r, exact, adjacent); and Markdown."
    )
    model_version: str | None = Field(description="The locked artifact; promoted only by a person.")
    failure_reason: str | None
    snapshot_id: str | None = Field(description="The psychologists' snapshot it was trained on.")
    created_at: dt.datetime


class SelfIdentificationIn(BaseModel):
    """Each answer is optional; "prefer_not_to_say" is an answer of its own."""

    # Literal[tuple] lists the tuple's values: the options are defined once, in core.
    sex: Literal[self_id.SEXES] | None = None  # type: ignore[valid-type]
    race_ethnicity: Literal[self_id.RACES_ETHNICITIES] | None = None  # type: ignore[valid-type]
    age_band: Literal[self_id.AGE_BANDS] | None = None  # type: ignore[valid-type]


class AdverseImpactRow(BaseModel):
    group: str
    applicants: int
    share_of_known: float | None
    scoring_rate: float | None = Field(description="Share scoring above the role's median.")
    scoring_impact_ratio: float | None
    selection_rate: float | None = Field(description="Share in the 'meets' band or better.")
    selection_impact_ratio: float | None
    four_fifths_flag: bool
    fisher_p: float | None = Field(description="Fisher's exact test against the reference group.")
    under_2_percent: bool
    reference: bool


class AdverseImpactTable(BaseModel):
    measure: str
    grouping: str
    median_score: float
    rows: list[AdverseImpactRow]
    unknown: int = Field(description="Assessed candidates who did not say, or preferred not to.")


class AdverseImpactOut(BaseModel):
    role_id: str
    role_title: str
    candidates: int
    tables: list[AdverseImpactTable]


# --- the psychologists' calibration workspace -------------------------------------------------


class RaterOut(Out):
    id: str
    name: str
    role: str


class BatchIn(BaseModel):
    name: str = Field("", max_length=200)
    role_id: str
    rater_ids: list[str] = Field(min_length=1, max_length=50)
    raters_per_answer: int = Field(3, ge=1, le=50)
    question_ids: list[str] | None = None
    sample: int | None = Field(None, ge=1, description="label a random sample of this many answers")
    seed: int | None = Field(None, description="the sample's random seed, to repeat it")


class RaterProgressOut(Out):
    rater_id: str
    name: str
    round: int = Field(description="1: the blind round; 2: the calibration re-score")
    assigned: int
    submitted: int


class BatchOut(Out):
    id: str
    name: str
    role_id: str | None
    rubric_version_id: str
    raters_per_answer: int
    rater_ids: list[str]
    session_started_at: dt.datetime | None
    created_at: dt.datetime
    progress: list[RaterProgressOut] = []


class AssignmentOut(Out):
    id: str
    batch_id: str
    answer_id: str
    round: int
    position: int
    competency_key: str
    state: str = Field(description="pending, draft or submitted")
    level: float | None
    comment: str
    updated_at: dt.datetime | None
    submitted_at: dt.datetime | None


class PeerOut(Out):
    rater_id: str
    name: str
    level: float | None
    comment: str


class AssignmentViewOut(Out):
    assignment: AssignmentOut
    batch_name: str
    question_text: str
    transcript: str = Field(description="without the candidate's name or email")
    words: list[dict[str, Any]]
    media_url: str | None
    media_type: str | None = Field(description="audio/... or video/...: how to play media_url")
    competency: CompetencyOut | None
    levels: list[int]
    peers: dict[int, list[PeerOut]] | None = Field(
        description="round -> every rater's label, once every assigned rater has submitted; "
        "null until then")


class LabelIn(BaseModel):
    level: float | None = None
    comment: str = Field("", max_length=4000)
    submit: bool = Field(False, description="false keeps a draft; true makes the label final")


class RevealedAnswerOut(Out):
    answer_id: str
    competency_key: str
    question_text: str
    spread: float
    rounds: dict[int, list[PeerOut]]
    rescore_pending: int


class SessionIn(BaseModel):
    answer_ids: list[str] | None = Field(
        None, description="the answers to re-score; by default every revealed disagreement")


class SessionOut(BaseModel):
    answers: int


class SnapshotIn(BaseModel):
    aggregate: Literal["mean", "median"] = "mean"


class SnapshotOut(Out):
    id: str
    batch_id: str | None
    version: int
    rubric_version_id: str
    aggregate: str
    rater_ids: list[str]
    answer_ids: list[str]
    rows: int
    data_sha256: str
    created_at: dt.datetime


class CriterionGateOut(BaseModel):
    criterion: str
    model_qwk: float | None
    raters_qwk: float | None
    required: float | None
    passes: bool
    reason: str


class GateOut(BaseModel):
    margin: float = Field(description="the organisation's allowance: model >= raters - margin")
    passes: bool
    criteria: list[CriterionGateOut]


class MarginIn(BaseModel):
    margin: float = Field(ge=0.0, le=0.5)
    reason: str = Field(min_length=1, max_length=2000)


class MarginOut(BaseModel):
    margin: float
    scoring_model_version: str | None


class PromoteIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class PromotionOut(Out):
    id: str
    training_run_id: str
    model_version: str
    reason: str
    margin: float
    gate: list[dict[str, Any]]
    actor_id: str | None
    created_at: dt.datetime
