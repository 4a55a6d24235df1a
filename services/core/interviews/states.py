"""The explicit state machines of interviews and answers."""

from __future__ import annotations

import enum

from services.core.errors import Conflict


class InterviewState(enum.StrEnum):
    INVITED = "invited"
    CONSENTED = "consented"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    HUMAN_REVIEW = "human_review"  # the candidate declined AI assessment and asked for a person
    EXPIRED = "expired"


class AnswerState(enum.StrEnum):
    RECEIVING = "receiving"  # chunks arriving
    UPLOADED = "uploaded"  # complete and checksummed; waiting for the `asr` queue
    TRANSCRIBING = "transcribing"
    TRANSCRIBED = "transcribed"
    NO_SPEECH = "no_speech"
    FAILED = "failed"


INTERVIEW_TRANSITIONS: dict[InterviewState, frozenset[InterviewState]] = {
    InterviewState.INVITED: frozenset(
        {InterviewState.CONSENTED, InterviewState.HUMAN_REVIEW, InterviewState.EXPIRED}
    ),
    InterviewState.CONSENTED: frozenset({InterviewState.IN_PROGRESS, InterviewState.EXPIRED}),
    InterviewState.IN_PROGRESS: frozenset({InterviewState.COMPLETED, InterviewState.EXPIRED}),
    InterviewState.COMPLETED: frozenset(),
    InterviewState.HUMAN_REVIEW: frozenset(),
    InterviewState.EXPIRED: frozenset(),
}

ANSWER_TRANSITIONS: dict[AnswerState, frozenset[AnswerState]] = {
    AnswerState.RECEIVING: frozenset({AnswerState.UPLOADED, AnswerState.FAILED}),
    AnswerState.UPLOADED: frozenset({AnswerState.TRANSCRIBING, AnswerState.FAILED}),
    # A stuck or crashed transcription goes back to UPLOADED for another attempt.
    AnswerState.TRANSCRIBING: frozenset(
        {AnswerState.TRANSCRIBED, AnswerState.NO_SPEECH, AnswerState.FAILED, AnswerState.UPLOADED}
    ),
    AnswerState.TRANSCRIBED: frozenset(),
    # A silent or unreadable recording may be recorded again, without using a retake.
    AnswerState.NO_SPEECH: frozenset({AnswerState.RECEIVING}),
    AnswerState.FAILED: frozenset({AnswerState.RECEIVING}),
}

ANSWER_DONE = frozenset({AnswerState.TRANSCRIBED, AnswerState.NO_SPEECH, AnswerState.FAILED})


def check_interview_transition(current: InterviewState, target: InterviewState) -> None:
    if target not in INTERVIEW_TRANSITIONS[current]:
        raise Conflict(
            f"An interview that is {current.value} cannot become {target.value}.",
            code="illegal_transition",
        )


def check_answer_transition(current: AnswerState, target: AnswerState) -> None:
    if target not in ANSWER_TRANSITIONS[current]:
        raise Conflict(
            f"An answer that is {current.value} cannot become {target.value}.",
            code="illegal_transition",
        )
