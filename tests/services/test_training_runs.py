"""Training runs through the API and a real worker: refusals at the door, progress, a report
beside the raters, a locked artifact, and organisation isolation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.scoring import registry
from services.api.app import create_app
from services.core.settings import get_settings
from tests.models.scoring.labelled import labelled_csv
from tests.services.conftest import PASSWORD, World, seed_organisation
from tests.services.pipeline import RealWorker

CSV = {"Content-Type": "text/csv"}


def test_a_file_without_the_needed_columns_is_refused_and_names_them(world: World) -> None:
    psychologist = world.staff(world.a, "psychologist")

    response = psychologist.post("/api/v1/training-runs",
                                 content=b"id,answer,mark\n1,hello,3\n", headers=CSV)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "missing_columns" and "item_id" in error["message"]
    assert psychologist.get("/api/v1/training-runs").json() == []  # nothing half-started


def test_an_empty_file_is_refused(world: World) -> None:
    response = world.staff(world.a, "admin").post("/api/v1/training-runs", content=b"",
                                                  headers=CSV)

    assert response.status_code == 422 and response.json()["error"]["code"] == "empty_file"


def test_a_run_is_queued_and_invisible_to_another_organisation(
    world: World, tmp_path: Path
) -> None:
    data = labelled_csv(tmp_path / "labels.csv", items=12).read_bytes()

    started = world.staff(world.a, "psychologist").post(
        "/api/v1/training-runs?embeddings=off", content=data, headers=CSV)

    assert started.status_code == 202, started.text
    run = started.json()
    assert run["state"] == "queued" and run["options"]["embeddings"] == "off"
    assert [name for name, _ in world.publisher.published][-1] == "training.run"
    other = world.staff(world.b, "psychologist")
    assert other.get(f"/api/v1/training-runs/{run['id']}").status_code == 404
    assert other.get("/api/v1/training-runs").json() == []


@pytest.mark.slow
def test_a_real_worker_trains_reports_beside_the_raters_and_locks_the_model(
    stack: RealWorker, tmp_path: Path
) -> None:
    stack.start()
    org = seed_organisation("a")
    client = TestClient(create_app())
    login = client.post("/api/v1/auth/login",
                        json={"email": org.emails["psychologist"], "password": PASSWORD})
    assert login.status_code == 200, login.text
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    data = labelled_csv(tmp_path / "labels.csv", items=60).read_bytes()

    run = client.post("/api/v1/training-runs?embeddings=off", content=data,
                      headers=CSV).json()
    deadline = time.monotonic() + 180
    while run["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        run = client.get(f"/api/v1/training-runs/{run['id']}").json()

    assert run["state"] == "done", (run, stack.log_tail())
    assert run["progress"]["done"] == run["progress"]["total"] == 1
    (criterion,) = run["report"]["criteria"]
    assert criterion["model_vs_panel"]["n"] >= 2 and criterion["rater_vs_rater"]["n"] >= 2
    assert "| essay |" in run["report"]["markdown"]
    model_dir = get_settings().scoring_model_dir
    assert model_dir is not None
    model = registry.load(model_dir / run["model_version"])
    assert set(model.scorers) == {"essay"} and not model.calibrated
