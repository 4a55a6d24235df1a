"""The psychologists' calibration workspace: blind labelling, agreement, the calibration session,
training snapshots, and promotion past the agreement gate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import select

from services.api import schemas
from services.api.deps import AdminOnly, DbSession, PublisherDep, RubricEditors, StorageDep
from services.api.routers.interviews import media_response
from services.core.calibration import promotion, report, service
from services.core.calibration.orm import LabelBatch, ModelPromotion, TrainingSnapshot
from services.core.organisations.orm import Organisation, StaffRole, User
from services.core.scoring import training_runs
from services.core.scoring.orm import TrainingRun

router = APIRouter(tags=["calibration"])


@router.get("/calibration/raters", response_model=list[schemas.RaterOut])
def raters(staff: RubricEditors, session: DbSession) -> list[User]:
    """Who can sit on a panel: the organisation's active psychologists and admins."""
    return list(session.scalars(
        select(User).where(User.role.in_([StaffRole.PSYCHOLOGIST, StaffRole.ADMIN]),
                           User.is_active.is_(True)).order_by(User.name)))


def _batch_out(session: DbSession, batch: LabelBatch) -> dict[str, Any]:
    out = schemas.BatchOut.model_validate(batch).model_dump()
    out["progress"] = service.progress(session, batch=batch)
    return out


@router.post("/calibration/batches", response_model=schemas.BatchOut, status_code=201)
def create_batch(body: schemas.BatchIn, staff: RubricEditors, session: DbSession
                 ) -> dict[str, Any]:
    batch = service.create_batch(
        session, org_id=staff.org_id, actor_id=staff.user.id, actor=staff.actor, name=body.name,
        role_id=body.role_id, rater_ids=body.rater_ids, raters_per_answer=body.raters_per_answer,
        question_ids=body.question_ids, sample=body.sample, seed=body.seed,
    )
    return _batch_out(session, batch)


@router.get("/calibration/batches", response_model=list[schemas.BatchOut])
def list_batches(staff: RubricEditors, session: DbSession) -> list[dict[str, Any]]:
    return [_batch_out(session, b) for b in service.list_batches(session)]


@router.get("/calibration/batches/{batch_id}", response_model=schemas.BatchOut)
def get_batch(batch_id: str, staff: RubricEditors, session: DbSession) -> dict[str, Any]:
    """The batch with every rater's progress: counts only, never a pending label."""
    return _batch_out(session, service.get_batch(session, batch_id=batch_id))


@router.get("/calibration/batches/{batch_id}/queue", response_model=list[schemas.AssignmentOut])
def my_queue(batch_id: str, staff: RubricEditors, session: DbSession) -> list[Any]:
    """The caller's own assignments in the batch, the re-score round first."""
    return service.queue(session, batch_id=batch_id, rater_id=staff.user.id)


@router.get("/calibration/assignments", response_model=list[schemas.AssignmentOut])
def my_assignments(staff: RubricEditors, session: DbSession) -> list[Any]:
    return service.my_assignments(session, rater_id=staff.user.id)


@router.get("/calibration/assignments/{assignment_id}", response_model=schemas.AssignmentViewOut)
def assignment(assignment_id: str, staff: RubricEditors, session: DbSession) -> dict[str, Any]:
    """The scoring screen of one of the caller's assignments."""
    view = service.assignment_view(session, assignment_id=assignment_id, rater_id=staff.user.id)
    return {
        "assignment": view.assignment, "batch_name": view.batch_name,
        "question_text": view.question_text, "transcript": view.transcript, "words": view.words,
        "media_url": (f"/api/v1/calibration/assignments/{assignment_id}/media"
                      if view.media_type else None),
        "media_type": view.media_type,
        "competency": view.competency, "levels": view.levels, "peers": view.peers,
    }


@router.put("/calibration/assignments/{assignment_id}", response_model=schemas.AssignmentOut)
def save_label(assignment_id: str, body: schemas.LabelIn, staff: RubricEditors,
               session: DbSession) -> Any:
    """Keep a draft (`submit` false) or submit the label, which is then final for its round."""
    return service.save_label(session, assignment_id=assignment_id, rater_id=staff.user.id,
                              actor=staff.actor, level=body.level, comment=body.comment,
                              submit=body.submit)


@router.get(
    "/calibration/assignments/{assignment_id}/media",
    response_class=Response,
    responses={200: {"content": {"audio/ogg": {}, "video/webm": {}}}},
)
def assignment_media(assignment_id: str, staff: RubricEditors, session: DbSession,
                     storage: StorageDep) -> Response:
    return media_response(storage, service.media_answer(
        session, assignment_id=assignment_id, rater_id=staff.user.id, actor=staff.actor))


@router.get(
    "/calibration/batches/{batch_id}/agreement",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def agreement(batch_id: str, staff: RubricEditors, session: DbSession,
              format: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Any:
    """Per criterion: ICC(2,1), ICC(2,k), Krippendorff's alpha (ordinal), pairwise quadratic
    weighted kappa, exact and adjacent agreement and each rater's drift from the panel, for the
    blind round, the session's answers before and after their re-score, and the final labels.
    Revealed answers only."""
    result = report.agreement_report(session, batch=service.get_batch(session, batch_id=batch_id))
    if format == "csv":
        return Response(report.agreement_csv(result), media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="agreement-{batch_id}.csv"'})
    return result


@router.get("/calibration/batches/{batch_id}/disagreements",
            response_model=list[schemas.RevealedAnswerOut])
def disagreements(batch_id: str, staff: RubricEditors, session: DbSession,
                  min_spread: Annotated[float, Query(ge=0, le=10)] = 1.0) -> list[Any]:
    """Revealed answers whose raters differ by at least `min_spread` levels, widest first."""
    batch = service.get_batch(session, batch_id=batch_id)
    return [_revealed(a) for a in service.disagreements(session, batch=batch,
                                                        min_spread=min_spread)]


def _revealed(item: service.RevealedAnswer) -> dict[str, Any]:
    return {"answer_id": item.answer_id, "competency_key": item.competency_key,
            "question_text": item.question_text, "spread": item.spread, "rounds": item.rounds,
            "rescore_pending": item.rescore_pending}


@router.post("/calibration/batches/{batch_id}/session", response_model=schemas.SessionOut,
             status_code=201)
def open_session(batch_id: str, body: schemas.SessionIn, staff: RubricEditors,
                 session: DbSession) -> dict[str, int]:
    """Open the re-score round: each rater of the chosen answers scores them again, apart."""
    batch = service.get_batch(session, batch_id=batch_id)
    return {"answers": service.open_session(session, batch=batch, actor=staff.actor,
                                            answer_ids=body.answer_ids)}


@router.get("/calibration/batches/{batch_id}/session",
            response_model=list[schemas.RevealedAnswerOut])
def session_view(batch_id: str, staff: RubricEditors, session: DbSession) -> list[Any]:
    """The session's answers side by side: everyone's first scores and comments, and the
    re-scores once all of an answer's are in."""
    batch = service.get_batch(session, batch_id=batch_id)
    return [_revealed(a) for a in service.session_answers(session, batch=batch)]


@router.post("/calibration/batches/{batch_id}/snapshots", response_model=schemas.SnapshotOut,
             status_code=201)
def create_snapshot(batch_id: str, body: schemas.SnapshotIn, staff: RubricEditors,
                    session: DbSession, storage: StorageDep) -> TrainingSnapshot:
    """Freeze the revealed labels, aggregated mechanically, as a versioned training snapshot."""
    return promotion.create_snapshot(
        session, batch=service.get_batch(session, batch_id=batch_id), storage=storage,
        actor_id=staff.user.id, actor=staff.actor, aggregate=body.aggregate)


@router.get("/calibration/snapshots", response_model=list[schemas.SnapshotOut])
def list_snapshots(staff: RubricEditors, session: DbSession) -> list[TrainingSnapshot]:
    return promotion.list_snapshots(session)


@router.post("/calibration/snapshots/{snapshot_id}/train", response_model=schemas.TrainingRunOut,
             status_code=202)
def train_snapshot(snapshot_id: str, staff: RubricEditors, session: DbSession,
                   storage: StorageDep, publisher: PublisherDep) -> TrainingRun:
    """Train and evaluate a candidate model on the snapshot; poll the run for progress."""
    return promotion.train_snapshot(
        session, snapshot=promotion.get_snapshot(session, snapshot_id=snapshot_id),
        storage=storage, publisher=publisher, actor_id=staff.user.id, actor=staff.actor)


@router.get("/calibration/gate", response_model=schemas.MarginOut)
def get_margin(staff: RubricEditors, session: DbSession) -> dict[str, Any]:
    org = session.get(Organisation, staff.org_id)
    assert org is not None
    return {"margin": org.promotion_margin, "scoring_model_version": org.scoring_model_version}


@router.put("/calibration/gate", response_model=schemas.MarginOut)
def set_margin(body: schemas.MarginIn, staff: AdminOnly, session: DbSession) -> dict[str, Any]:
    """The organisation's gate margin; an admin's decision, logged with the reason."""
    promotion.set_margin(session, org_id=staff.org_id, actor=staff.actor, margin=body.margin,
                         reason=body.reason)
    return get_margin(staff, session)


@router.get("/training-runs/{run_id}/gate", response_model=schemas.GateOut)
def run_gate(run_id: str, staff: RubricEditors, session: DbSession) -> dict[str, Any]:
    """Whether the run's model may be promoted, criterion by criterion, at today's margin."""
    run = training_runs.get_run(session, run_id=run_id)
    return promotion.gate(run.report, margin=promotion.margin_of(session, staff.org_id)).as_dict()


@router.post("/training-runs/{run_id}/promote", response_model=schemas.PromotionOut,
             status_code=201)
def promote(run_id: str, body: schemas.PromoteIn, staff: RubricEditors, session: DbSession,
            publisher: PublisherDep) -> ModelPromotion:
    """Make the run's model the organisation's scorer (409 `gate_failed` with the figures when
    a criterion fails the gate); every eligible answer is then scored again by it."""
    return promotion.promote(session, run_id=run_id, org_id=staff.org_id, actor_id=staff.user.id,
                             actor=staff.actor, reason=body.reason, publisher=publisher)


@router.get("/calibration/promotions", response_model=list[schemas.PromotionOut])
def promotions(staff: RubricEditors, session: DbSession) -> list[ModelPromotion]:
    return promotion.promotions(session)
