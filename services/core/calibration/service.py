"""Blind labelling by a panel of psychologists, the reveal, and the calibration session.

The one rule every reader of labels goes through: another rater's level or comment for an
answer is readable only once every rater assigned to that answer in that round has submitted
(`revealed`). Until then a rater sees their own draft, and everyone else sees counts only.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.calibration.orm import LabelAssignment, LabelBatch
from services.core.db import new_id, utcnow
from services.core.errors import Conflict, Invalid, NotFound
from services.core.interviews.media import playback_type
from services.core.interviews.orm import Answer, Consent, Interview, Transcript
from services.core.interviews.review import without_identity
from services.core.interviews.states import AnswerState
from services.core.organisations.orm import StaffRole, User
from services.core.roles.orm import JobRole, Question
from services.core.rubrics.orm import Competency, RubricVersion

PENDING, DRAFT, SUBMITTED = "pending", "draft", "submitted"
BLIND, RESCORE = 1, 2
MAX_BATCH_ANSWERS = 2_000
LABELLABLE = (AnswerState.TRANSCRIBED,)  # scored answers stay "transcribed"


# --- batches and assignment -----------------------------------------------------------------


def create_batch(
    session: Session, *, org_id: str, actor_id: str, actor: str, name: str, role_id: str,
    rater_ids: Sequence[str], raters_per_answer: int = 3,
    question_ids: Sequence[str] | None = None, sample: int | None = None, seed: int | None = None,
) -> LabelBatch:
    """Send a role's transcribed answers (or a random sample of them) to `raters_per_answer`
    raters each, spreading the work evenly over the panel."""
    role = session.get(JobRole, role_id)
    if role is None:
        raise NotFound("No such role.")
    panel = _panel(session, rater_ids)
    if not 1 <= raters_per_answer <= len(panel):
        raise Invalid(f"Each answer can go to between 1 and {len(panel)} raters (the panel's size).",
                      code="raters_per_answer", field="raters_per_answer")
    answers = _labellable_answers(session, role_id=role_id, question_ids=question_ids)
    if sample is not None:
        if sample < 1:
            raise Invalid("The sample must hold at least one answer.", code="sample", field="sample")
        answers = sorted(random.Random(seed).sample(answers, min(sample, len(answers))),
                         key=lambda a: a[0].created_at)
    if not answers:
        raise Invalid("This role has no transcribed answers with consent to label yet.",
                      code="no_answers")
    if len(answers) > MAX_BATCH_ANSWERS:
        raise Invalid(f"A batch holds at most {MAX_BATCH_ANSWERS} answers; take a sample.",
                      code="too_many_answers", field="sample")
    batch = LabelBatch(id=new_id(), org_id=org_id, name=name.strip() or role.title,
                       role_id=role_id, rubric_version_id=role.rubric_version_id,
                       raters_per_answer=raters_per_answer, rater_ids=[u.id for u in panel],
                       created_by_id=actor_id)
    session.add(batch)
    session.flush()
    load = {u.id: 0 for u in panel}
    for answer, competency_key in answers:
        # the least loaded raters first; the panel's order breaks ties, so it is reproducible
        chosen = sorted(load, key=lambda r: (load[r], batch.rater_ids.index(r)))[:raters_per_answer]
        for rater_id in chosen:
            session.add(LabelAssignment(
                org_id=org_id, batch_id=batch.id, answer_id=answer.id, rater_id=rater_id,
                round=BLIND, position=load[rater_id], competency_key=competency_key,
                state=PENDING, comment="",
            ))
            load[rater_id] += 1
    session.flush()
    audit.record(session, org_id=org_id, actor=actor, action="calibration.batch.create",
                 subject=f"label_batch:{batch.id}",
                 data={"answers": len(answers), "raters": batch.rater_ids,
                       "raters_per_answer": raters_per_answer, "sample": sample})
    return batch


def _panel(session: Session, rater_ids: Sequence[str]) -> list[User]:
    ids = list(dict.fromkeys(rater_ids))
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    panel = [users[i] for i in ids if i in users]
    if len(panel) != len(ids) or not panel:
        raise Invalid("Every rater must be a member of this organisation.", code="raters",
                      field="rater_ids")
    if any(u.role not in (StaffRole.PSYCHOLOGIST, StaffRole.ADMIN) or not u.is_active
           for u in panel):
        raise Invalid("Raters must be active psychologists (or admins).", code="raters",
                      field="rater_ids")
    return panel


def _labellable_answers(
    session: Session, *, role_id: str, question_ids: Sequence[str] | None
) -> list[tuple[Answer, str]]:
    consented = select(Consent.interview_id).where(Consent.accepted.is_(True))
    query = (
        select(Answer, Question.competency_key)
        .join(Interview, Interview.id == Answer.interview_id)
        .join(Question, Question.id == Answer.question_id)
        .where(Interview.role_id == role_id, Answer.state.in_(LABELLABLE),
               Interview.id.in_(consented), Interview.deletion_requested_at.is_(None))
        .order_by(Answer.created_at, Answer.id)
    )
    if question_ids:
        query = query.where(Answer.question_id.in_(list(question_ids)))
    return [(a, key) for a, key in session.execute(query)]


def list_batches(session: Session) -> list[LabelBatch]:
    return list(session.scalars(select(LabelBatch).order_by(LabelBatch.created_at.desc())))


def get_batch(session: Session, *, batch_id: str) -> LabelBatch:
    batch = session.get(LabelBatch, batch_id)
    if batch is None:
        raise NotFound("No such labelling batch.")
    return batch


@dataclass(frozen=True)
class RaterProgress:
    rater_id: str
    name: str
    round: int
    assigned: int
    submitted: int


def progress(session: Session, *, batch: LabelBatch) -> list[RaterProgress]:
    """Per rater and round: how many answers are assigned and submitted. Counts only."""
    rows = session.execute(
        select(LabelAssignment.rater_id, LabelAssignment.round, func.count(),
               func.sum(case((LabelAssignment.state == SUBMITTED, 1), else_=0)))
        .where(LabelAssignment.batch_id == batch.id)
        .group_by(LabelAssignment.rater_id, LabelAssignment.round)
    ).all()
    names = dict(session.execute(select(User.id, User.name)
                                 .where(User.id.in_(batch.rater_ids))).all())
    order = {r: i for i, r in enumerate(batch.rater_ids)}
    return sorted(
        (RaterProgress(rater, names.get(rater, "(removed)"), rnd, int(n), int(done or 0))
         for rater, rnd, n, done in rows),
        key=lambda p: (p.round, order.get(p.rater_id, len(order))),
    )


# --- one rater's work ------------------------------------------------------------------------


def queue(session: Session, *, batch_id: str, rater_id: str) -> list[LabelAssignment]:
    """The rater's own assignments in a batch: the re-score round first once it is open."""
    get_batch(session, batch_id=batch_id)
    return list(session.scalars(
        select(LabelAssignment)
        .where(LabelAssignment.batch_id == batch_id, LabelAssignment.rater_id == rater_id)
        .order_by(LabelAssignment.round.desc(), LabelAssignment.position)
    ))


def my_assignments(session: Session, *, rater_id: str) -> list[LabelAssignment]:
    return list(session.scalars(
        select(LabelAssignment).where(LabelAssignment.rater_id == rater_id)
        .order_by(LabelAssignment.batch_id, LabelAssignment.round.desc(), LabelAssignment.position)
    ))


def own_assignment(session: Session, *, assignment_id: str, rater_id: str) -> LabelAssignment:
    """An assignment of this rater; another rater's is reported as not found, not forbidden."""
    assignment = session.get(LabelAssignment, assignment_id)
    if assignment is None or assignment.rater_id != rater_id:
        raise NotFound("No such assignment of yours.")
    return assignment


@dataclass(frozen=True)
class Peer:
    rater_id: str
    name: str
    level: float | None
    comment: str


@dataclass(frozen=True)
class AssignmentView:
    assignment: LabelAssignment
    batch_name: str
    question_text: str
    transcript: str
    words: list[dict[str, object]]
    media_type: str | None  # how the recording plays; None when there is none (a typed answer)
    competency: Competency | None
    levels: list[int]
    # Everyone's round-1 labels once the answer is revealed; in round 2 also the re-scores, once
    # all are in. None while any assigned rater has still to submit.
    peers: dict[int, list[Peer]] | None


def assignment_view(session: Session, *, assignment_id: str, rater_id: str) -> AssignmentView:
    """What the scoring screen shows: the question, the words (without the candidate's name),
    the rubric's anchors, the rater's own draft, and the others' labels only once revealed."""
    assignment = own_assignment(session, assignment_id=assignment_id, rater_id=rater_id)
    batch = get_batch(session, batch_id=assignment.batch_id)
    answer = session.get(Answer, assignment.answer_id)
    assert answer is not None
    interview = session.get(Interview, answer.interview_id)
    question = session.get(Question, answer.question_id)
    assert interview is not None and question is not None
    transcript = transcript_of(session, answer.id)
    competency = competency_of(session, batch.rubric_version_id, assignment.competency_key)
    peers: dict[int, list[Peer]] = {}
    for rnd in range(BLIND, assignment.round + 1):
        revealed = _labels(session, batch_id=batch.id, round=rnd, answer_ids=[answer.id])
        if answer.id in revealed:
            peers[rnd] = revealed[answer.id]
    return AssignmentView(
        assignment=assignment,
        batch_name=batch.name,
        question_text=question.text,
        transcript=without_identity(transcript.text, interview) if transcript else "",
        words=[{**w, "text": without_identity(str(w.get("text", "")), interview)}
               for w in (transcript.words if transcript else [])],
        media_type=playback_type(answer.media_key) if answer.media_key else None,
        competency=competency,
        levels=levels_of(competency),
        peers=peers if BLIND in peers else None,
    )


def save_label(
    session: Session, *, assignment_id: str, rater_id: str, actor: str, level: float | None,
    comment: str, submit: bool,
) -> LabelAssignment:
    """Keep a draft, or submit it; a submitted label is final for its round."""
    assignment = own_assignment(session, assignment_id=assignment_id, rater_id=rater_id)
    if assignment.state == SUBMITTED:
        raise Conflict("This label is submitted; it can change only in a calibration re-score.",
                       code="already_submitted")
    batch = get_batch(session, batch_id=assignment.batch_id)
    allowed = levels_of(competency_of(session, batch.rubric_version_id, assignment.competency_key))
    if level is not None and level not in allowed:
        raise Invalid(f"The level must be one of {', '.join(map(str, allowed))}.", code="level",
                      field="level")
    if submit and level is None:
        raise Invalid("Choose a level before submitting.", code="level_required", field="level")
    assignment.level, assignment.comment = level, comment.strip()[:4000]
    assignment.updated_at = utcnow()
    assignment.state = SUBMITTED if submit else DRAFT
    if submit:
        assignment.submitted_at = assignment.updated_at
        audit.record(session, org_id=assignment.org_id, actor=actor, action="calibration.label",
                     subject=f"label_assignment:{assignment.id}",
                     data={"batch_id": batch.id, "answer_id": assignment.answer_id,
                           "round": assignment.round, "level": level})
    session.flush()
    return assignment


def media_answer(session: Session, *, assignment_id: str, rater_id: str, actor: str) -> Answer:
    """The recording an assigned rater plays while scoring; the view is logged."""
    assignment = own_assignment(session, assignment_id=assignment_id, rater_id=rater_id)
    answer = session.get(Answer, assignment.answer_id)
    if answer is None or answer.media_key is None:
        raise NotFound("No recording for this answer.")
    audit.record(session, org_id=answer.org_id, actor=actor, action="answer.media.view",
                 subject=f"answer:{answer.id}", data={"for": "calibration"})
    return answer


def transcript_of(session: Session, answer_id: str) -> Transcript | None:
    return session.scalars(select(Transcript).where(Transcript.answer_id == answer_id)
                           .order_by(Transcript.created_at.desc())).first()


def competency_of(session: Session, rubric_version_id: str, key: str) -> Competency | None:
    version = session.get(RubricVersion, rubric_version_id)
    return next((c for c in version.competencies if c.key == key), None) if version else None


def levels_of(competency: Competency | None) -> list[int]:
    """The levels a rater may choose: those the rubric anchors (1-5 when it anchors none)."""
    found = sorted({lvl.level for ind in (competency.indicators if competency else [])
                    for lvl in ind.levels})
    return found or [1, 2, 3, 4, 5]


# --- revealed labels: the only way any report reads them -----------------------------------


def _labels(
    session: Session, *, batch_id: str, round: int, answer_ids: Iterable[str] | None = None
) -> dict[str, list[Peer]]:
    """Answer -> every rater's label, for the answers whose raters have all submitted."""
    query = (
        select(LabelAssignment, User.name)
        .join(User, User.id == LabelAssignment.rater_id)
        .where(LabelAssignment.batch_id == batch_id, LabelAssignment.round == round)
        .order_by(LabelAssignment.answer_id, User.name)
    )
    if answer_ids is not None:
        query = query.where(LabelAssignment.answer_id.in_(list(answer_ids)))
    grouped: dict[str, list[tuple[LabelAssignment, str]]] = defaultdict(list)
    for assignment, name in session.execute(query):
        grouped[assignment.answer_id].append((assignment, name))
    return {
        answer_id: [Peer(a.rater_id, name, a.level, a.comment) for a, name in rows]
        for answer_id, rows in grouped.items()
        if all(a.state == SUBMITTED for a, _ in rows)
    }


@dataclass
class RevealedAnswer:
    answer_id: str
    competency_key: str
    question_text: str
    rounds: dict[int, list[Peer]] = field(default_factory=dict)
    rescore_pending: int = 0  # round-2 labels still to come (their values stay hidden)

    def ratings(self, round: int) -> dict[str, float]:
        return {p.rater_id: float(p.level) for p in self.rounds.get(round, [])
                if p.level is not None}

    @property
    def spread(self) -> float:
        values = list(self.ratings(BLIND).values())
        return max(values) - min(values) if values else 0.0


def revealed(session: Session, *, batch: LabelBatch) -> list[RevealedAnswer]:
    """Every revealed answer of the batch with its labels per round, in the batch's order."""
    first = _labels(session, batch_id=batch.id, round=BLIND)
    second = _labels(session, batch_id=batch.id, round=RESCORE)
    rows = session.execute(
        select(LabelAssignment.answer_id, LabelAssignment.competency_key, Question.text,
               func.sum(case(((LabelAssignment.round == RESCORE)
                              & (LabelAssignment.state != SUBMITTED), 1), else_=0)))
        .join(Answer, Answer.id == LabelAssignment.answer_id)
        .join(Question, Question.id == Answer.question_id)
        .where(LabelAssignment.batch_id == batch.id)
        .group_by(LabelAssignment.answer_id, LabelAssignment.competency_key, Question.text,
                  Answer.created_at)
        .order_by(Answer.created_at, LabelAssignment.answer_id)
    )
    out = []
    for answer_id, key, text, pending in rows:
        if answer_id not in first:
            continue
        item = RevealedAnswer(answer_id, key, text, {BLIND: first[answer_id]}, int(pending or 0))
        if answer_id in second:
            item.rounds[RESCORE] = second[answer_id]
        out.append(item)
    return out


def disagreements(session: Session, *, batch: LabelBatch, min_spread: float = 1.0
                  ) -> list[RevealedAnswer]:
    """Revealed answers whose raters differ by at least `min_spread` levels, widest first."""
    found = [a for a in revealed(session, batch=batch) if a.spread >= min_spread]
    return sorted(found, key=lambda a: -a.spread)


def session_answers(session: Session, *, batch: LabelBatch) -> list[RevealedAnswer]:
    """The calibration session's answers: first scores side by side, re-scores once all are in."""
    return [a for a in revealed(session, batch=batch)
            if RESCORE in a.rounds or a.rescore_pending]


def open_session(
    session: Session, *, batch: LabelBatch, actor: str, answer_ids: Sequence[str] | None = None,
) -> int:
    """Open the re-score round on the chosen revealed answers (by default every disagreement):
    each of their raters scores them again, kept apart from the first round."""
    if batch.session_started_at is not None:
        raise Conflict("This batch's calibration session is already open.", code="session_open")
    chosen = revealed(session, batch=batch)
    if answer_ids is not None:
        wanted = set(answer_ids)
        unknown = wanted - {a.answer_id for a in chosen}
        if unknown:
            raise Invalid("Only revealed answers of this batch can be re-scored.",
                          code="not_revealed", field="answer_ids")
        chosen = [a for a in chosen if a.answer_id in wanted]
    else:
        chosen = [a for a in chosen if a.spread >= 1.0]
    if not chosen:
        raise Invalid("There is nothing to re-score: no revealed answer was chosen.",
                      code="nothing_to_rescore")
    positions: dict[str, int] = defaultdict(int)
    for item in chosen:
        for peer in item.rounds[BLIND]:
            session.add(LabelAssignment(
                org_id=batch.org_id, batch_id=batch.id, answer_id=item.answer_id,
                rater_id=peer.rater_id, round=RESCORE, position=positions[peer.rater_id],
                competency_key=item.competency_key, state=PENDING, comment="",
            ))
            positions[peer.rater_id] += 1
    batch.session_started_at = utcnow()
    session.flush()
    audit.record(session, org_id=batch.org_id, actor=actor, action="calibration.session.open",
                 subject=f"label_batch:{batch.id}", data={"answers": len(chosen)})
    return len(chosen)


def final_ratings(items: Iterable[RevealedAnswer]) -> dict[str, dict[str, dict[str, float]]]:
    """Criterion -> answer -> rater -> level, the re-score replacing the first round where
    the whole re-score is in."""
    out: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for item in items:
        ratings = item.ratings(RESCORE) if RESCORE in item.rounds else item.ratings(BLIND)
        if ratings:
            out[item.competency_key][item.answer_id] = ratings
    return dict(out)


def answers_of(session: Session, *, ids: Sequence[str]) -> dict[str, tuple[Answer, Interview]]:
    rows = session.execute(
        select(Answer, Interview).join(Interview, Interview.id == Answer.interview_id)
        .where(Answer.id.in_(list(ids)))
    )
    return {a.id: (a, i) for a, i in rows}

