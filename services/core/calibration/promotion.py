"""From revealed labels to a scoring model: the versioned training snapshot, the training run
trained on it, and a person's promotion past the agreement gate, which starts the re-score."""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core import jobs
from services.core.audit import service as audit
from services.core.calibration import service
from services.core.calibration.orm import LabelBatch, ModelPromotion, TrainingSnapshot
from services.core.db import new_id
from services.core.errors import Conflict, Invalid, NotFound
from services.core.interviews.review import without_identity
from services.core.organisations.orm import Organisation
from services.core.roles.orm import Question
from services.core.scoring import service as scoring
from services.core.scoring import training_runs
from services.core.scoring.orm import ScoringModelRecord, TrainingRun
from services.core.storage import MediaStorage

AGGREGATES = ("mean", "median")


def create_snapshot(
    session: Session, *, batch: LabelBatch, storage: MediaStorage, actor_id: str, actor: str,
    aggregate: str = "mean",
) -> TrainingSnapshot:
    """Freeze the batch's revealed labels (a re-score replacing the blind round where it is
    complete) as a labelled CSV: one row per answer, criterion and rater."""
    if aggregate not in AGGREGATES:
        raise Invalid("Aggregate by mean or median.", code="aggregate", field="aggregate")
    items = service.revealed(session, batch=batch)
    final = service.final_ratings(items)
    answer_ids = sorted({a for ratings in final.values() for a in ratings})
    if not answer_ids:
        raise Invalid("No answer of this batch is revealed yet: every assigned rater must "
                      "submit before an answer's labels can be used.", code="nothing_revealed")
    answers = service.answers_of(session, ids=answer_ids)
    questions = {q.id: q for q in session.scalars(
        select(Question).where(Question.id.in_({a.question_id for a, _ in answers.values()})))}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["item_id", "text", "criterion", "rater", "score", "prompt", "split"])
    rows, raters = 0, set()
    for criterion in sorted(final):
        held_out = _held_out(final[criterion])
        for answer_id, ratings in sorted(final[criterion].items()):
            answer, interview = answers[answer_id]
            transcript = service.transcript_of(session, answer_id)
            text = without_identity(transcript.text if transcript else "", interview)
            prompt = questions[answer.question_id].key
            for rater, level in sorted(ratings.items()):
                writer.writerow([answer_id, text, criterion, rater, level, prompt,
                                 "test" if answer_id in held_out else "train"])
                rows += 1
                raters.add(rater)
    data = out.getvalue().encode()
    version = (session.scalar(select(func.max(TrainingSnapshot.version))) or 0) + 1
    snapshot_id = new_id()
    key = f"training/{batch.org_id}/snapshot-{snapshot_id}.csv"
    storage.put(key, data)
    snapshot = TrainingSnapshot(
        id=snapshot_id, org_id=batch.org_id, batch_id=batch.id, version=version,
        rubric_version_id=batch.rubric_version_id, aggregate=aggregate,
        rater_ids=sorted(raters), answer_ids=answer_ids, rows=rows, data_key=key,
        data_sha256=hashlib.sha256(data).hexdigest(), created_by_id=actor_id,
    )
    session.add(snapshot)
    session.flush()
    audit.record(session, org_id=batch.org_id, actor=actor, action="calibration.snapshot",
                 subject=f"training_snapshot:{snapshot.id}",
                 data={"version": version, "answers": len(answer_ids), "rows": rows,
                       "sha256": snapshot.data_sha256, "aggregate": aggregate})
    return snapshot


HELD_OUT_SHARE = 0.2


def _held_out(answers: dict[str, dict[str, float]]) -> set[str]:
    """The answers kept back to evaluate on: a fifth of each criterion's, at least two, chosen
    by a hash of their ids, so the same snapshot always splits the same way."""
    ranked = sorted(answers, key=lambda a: hashlib.sha256(a.encode()).hexdigest())
    return set(ranked[:max(2, round(HELD_OUT_SHARE * len(ranked)))])


def get_snapshot(session: Session, *, snapshot_id: str) -> TrainingSnapshot:
    snapshot = session.get(TrainingSnapshot, snapshot_id)
    if snapshot is None:
        raise NotFound("No such training snapshot.")
    return snapshot


def list_snapshots(session: Session) -> list[TrainingSnapshot]:
    return list(session.scalars(select(TrainingSnapshot).order_by(TrainingSnapshot.version.desc())))


def train_snapshot(
    session: Session, *, snapshot: TrainingSnapshot, storage: MediaStorage,
    publisher: jobs.JobPublisher, actor_id: str, actor: str,
) -> TrainingRun:
    """Queue a training run on the snapshot's labels; the worker reports progress on it."""
    data = storage.get(snapshot.data_key)
    run = training_runs.start_run(
        session, storage=storage, publisher=publisher, org_id=snapshot.org_id,
        actor_id=actor_id, actor=actor, data=data,
        options=training_runs.TrainingOptions(aggregate=snapshot.aggregate),
    )
    run.snapshot_id = snapshot.id
    session.flush()
    return run


# --- the gate and promotion ------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionGate:
    criterion: str
    model_qwk: float | None
    raters_qwk: float | None
    required: float | None
    passes: bool
    reason: str


@dataclass(frozen=True)
class Gate:
    margin: float
    passes: bool
    criteria: list[CriterionGate]

    def as_dict(self) -> dict[str, Any]:
        return {"margin": self.margin, "passes": self.passes,
                "criteria": [asdict(c) for c in self.criteria]}


def gate(report: dict[str, Any] | None, *, margin: float) -> Gate:
    """Every criterion's model-versus-panel weighted kappa on held-out answers must reach the
    raters' own agreement on them minus `margin`; a criterion without both figures fails."""
    checks = []
    for entry in (report or {}).get("criteria", []):
        model = _finite((entry.get("model_vs_panel") or {}).get("qwk"))
        raters = _finite((entry.get("rater_vs_rater") or {}).get("qwk"))
        if model is None:
            checks.append(CriterionGate(entry["criterion"], None, raters, None, False,
                                        "no model-versus-panel agreement on held-out answers"))
        elif raters is None:
            checks.append(CriterionGate(entry["criterion"], model, None, None, False,
                                        "no two raters share held-out answers to compare with"))
        else:
            required = round(raters - margin, 4)
            ok = model >= required
            checks.append(CriterionGate(
                entry["criterion"], model, raters, required, ok,
                "passes" if ok else f"model {model:.3f} is below raters {raters:.3f} minus {margin}"))
    return Gate(margin, bool(checks) and all(c.passes for c in checks), checks)


def _finite(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def margin_of(session: Session, org_id: str) -> float:
    org = session.get(Organisation, org_id)
    assert org is not None
    return float(org.promotion_margin)


def set_margin(session: Session, *, org_id: str, actor: str, margin: float, reason: str) -> float:
    """An organisation's gate margin; an admin's act, logged with the reason."""
    if not 0.0 <= margin <= 0.5:
        raise Invalid("The margin must lie between 0 and 0.5.", code="margin", field="margin")
    if not reason.strip():
        raise Invalid("Say why the gate changes.", code="reason_required", field="reason")
    org = session.get(Organisation, org_id)
    assert org is not None
    before, org.promotion_margin = org.promotion_margin, margin
    audit.record(session, org_id=org_id, actor=actor, action="calibration.gate.margin",
                 subject=f"organisation:{org_id}",
                 data={"before": before, "after": margin, "reason": reason.strip()})
    return margin


def promote(
    session: Session, *, run_id: str, org_id: str, actor_id: str, actor: str, reason: str,
    publisher: jobs.JobPublisher,
) -> ModelPromotion:
    """Make a trained model the organisation's scorer; refused unless every criterion passes
    the gate. Every eligible answer is then scored again by it (the worker's re-score)."""
    run = training_runs.get_run(session, run_id=run_id)
    if run.state != training_runs.DONE or not run.model_version:
        raise Conflict("Only a finished training run can be promoted.", code="not_trained")
    if not reason.strip():
        raise Invalid("Say why this model should score candidates.", code="reason_required",
                      field="reason")
    org = session.get(Organisation, org_id)
    assert org is not None
    if org.scoring_model_version == run.model_version:
        raise Conflict("This model already scores for the organisation.", code="already_promoted")
    result = gate(run.report, margin=float(org.promotion_margin))
    if not result.passes:
        audit.record(session, org_id=org_id, actor=actor, action="calibration.promote.refused",
                     subject=f"training_run:{run.id}", data=result.as_dict())
        raise Conflict("The model does not agree with the panel well enough on every criterion.",
                       code="gate_failed", keep_changes=True,
                       gate=result.as_dict())
    before, org.scoring_model_version = org.scoring_model_version, run.model_version
    scoring.register_model(session, version=run.model_version,
                           name=f"Calibrated model {run.model_version}", calibrated=True,
                           card={"training_run_id": run.id, "snapshot_id": run.snapshot_id,
                                 "report": {k: v for k, v in (run.report or {}).items()
                                            if k != "markdown"}})
    record = session.scalar(select(ScoringModelRecord)
                            .where(ScoringModelRecord.version == run.model_version))
    assert record is not None
    record.calibrated = True
    promotion = ModelPromotion(id=new_id(), org_id=org_id, training_run_id=run.id,
                               model_version=run.model_version, reason=reason.strip(),
                               margin=float(org.promotion_margin),
                               gate=[asdict(c) for c in result.criteria], actor_id=actor_id)
    session.add(promotion)
    session.flush()
    audit.record(session, org_id=org_id, actor=actor, action="calibration.promote",
                 subject=f"training_run:{run.id}",
                 data={"before": before, "after": run.model_version, "reason": reason.strip(),
                       "gate": result.as_dict()})
    jobs.publish_after_commit(session, publisher, jobs.RESCORE_ALL, org_id)
    return promotion


def promotions(session: Session) -> list[ModelPromotion]:
    return list(session.scalars(select(ModelPromotion).order_by(ModelPromotion.created_at.desc())))
