"""The training flow: an uploaded labelled CSV -> per-criterion models, an evaluation report,
and a locked artifact in the registry (not promoted: promotion is a person's act)."""

from __future__ import annotations

import logging

from models.scoring import registry
from models.scoring.train import train_file
from services.core.db import unit_of_work
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
    with unit_of_work() as session:
        training_runs.finish(session, run_id=run_id,
                             report={**result.summary, "markdown": result.markdown},
                             model_version=version)
    return "done"


def _embeddings(option: object) -> bool | str:
    return {"on": True, "off": False}.get(str(option), "auto")


def _fail(run_id: str, reason: str) -> str:
    with unit_of_work() as session:
        training_runs.fail(session, run_id=run_id, reason=reason)
    return "failed"
