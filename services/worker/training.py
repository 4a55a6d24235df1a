"""The training flow: an uploaded labelled CSV -> per-criterion models, an evaluation report,
and a locked artifact in the registry (not promoted: promotion is a person's act)."""

from __future__ import annotations

import logging
import statistics

from models.scoring import registry
from models.scoring.train import train_file
from services.core.db import unit_of_work
from services.core.fairness import service as fairness
from services.core.scoring import training_runs
from services.core.settings import get_settings
from services.core.storage import get_storage

log = logging.getLogger(__name__)


def run_training(run_id: str) -> str:
    """Train one run; returns what happened, for logs and tests."""
    with unit_of_work() as session:
        run = training_runs.claim(session, run_id=run_id)
        if run is None:
            return "skipped"
        key, options, org_id = run.data_key, dict(run.options), run.org_id
        snapshot = run.snapshot_id

    def progress(current: str, done: int, total: int) -> None:
        with unit_of_work() as session:
            training_runs.report_progress(session, run_id=run_id, done=done, total=total,
                                          current=current)

    try:
        with get_storage().local_copy(key) as path:
            result = train_file(path, aggregate=str(options.get("aggregate", "mean")),
                                per_prompt=bool(options.get("per_prompt")),
                                embeddings=_embeddings(options.get("embeddings", "auto")),
                                progress=progress)
        version = f"trained-{org_id[:8]}-{run_id[:12]}"
        settings = get_settings()
        assert settings.scoring_model_dir is not None
        registry.save(settings.scoring_model_dir, version, result.models,
                      {"name": f"Trained on {result.summary['data']}", "calibrated": False,
                       "org_id": org_id, "training_data": result.summary})
    except (ValueError, KeyError) as exc:
        return _fail(run_id, f"The labelled data could not be used: {exc}")
    except FileNotFoundError:
        return _fail(run_id, "The uploaded file could not be found in storage.")
    except Exception:
        log.exception("training run %s crashed", run_id)
        return _fail(run_id, "An unexpected error stopped the training.")
    subgroups = _subgroups(result.held_out) if snapshot else None
    with unit_of_work() as session:
        training_runs.finish(session, run_id=run_id,
                             report={**result.summary, "markdown": result.markdown,
                                     "subgroups": subgroups},
                             model_version=version)
    return "done"


MIN_GROUP = 2  # fewer held-out answers than this and a group's figures are not shown


def _subgroups(held_out: dict[str, tuple[tuple[str, float, float], ...]]
               ) -> dict[str, object] | None:
    """Model versus panel on the held-out answers, per group of the candidates' voluntary
    self-identification: n, the mean levels of each, and the mean absolute difference.

    None when no held-out candidate identified themselves. The groups are read here, after the
    model is trained, and never reach it.
    """
    pairs = [row for rows in held_out.values() for row in rows]
    with unit_of_work() as session:
        groups = fairness.groups_of_answers(session, answer_ids=sorted({p[0] for p in pairs}))
    if not any(v != "unknown" for g in groups.values() for v in g.values()):
        return None
    out: dict[str, object] = {}
    for dimension in fairness.OPTIONS:
        by_group: dict[str, list[tuple[float, float]]] = {}
        for item_id, model, panel in pairs:
            group = groups.get(item_id, {}).get(dimension, "unknown")
            by_group.setdefault(group, []).append((model, panel))
        out[dimension] = {
            group: {"n": len(rows),
                    **({"model_mean": round(statistics.fmean(m for m, _ in rows), 3),
                        "panel_mean": round(statistics.fmean(p for _, p in rows), 3),
                        "mean_abs_diff": round(statistics.fmean(abs(m - p) for m, p in rows), 3)}
                       if len(rows) >= MIN_GROUP else {})}
            for group, rows in sorted(by_group.items())
        }
    return out


def _embeddings(option: object) -> bool | str:
    return {"on": True, "off": False}.get(str(option), "auto")


def _fail(run_id: str, reason: str) -> str:
    with unit_of_work() as session:
        training_runs.fail(session, run_id=run_id, reason=reason)
    return "failed"
