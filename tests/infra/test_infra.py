"""The deployment files in infra/: images, compose stack, Kubernetes manifests, settings names."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

from services.core import jobs
from services.core.settings import Settings

INFRA = Path(__file__).resolve().parents[2] / "infra"
K8S = INFRA / "k8s"
QUEUES = (jobs.QUEUE_ASR, jobs.QUEUE_SCORING, jobs.QUEUE_DEFAULT)
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE")
PLACEHOLDER = "CHANGE_ME"
_COMPOSE_VAR = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
_REQUIRED_VAR = re.compile(r"^\$\{\w+:?\?[^}]*\}$")
_PARLEY_VAR = re.compile(r"\bPARLEY_[A-Z0-9_]+\b")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Resolves compose's ${VAR}, ${VAR:-default}, ${VAR:?error} (and the colon-less forms)."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op") or "", match.group("arg")
        value = env.get(name)
        if value is not None and not (op.startswith(":") and value == ""):
            return value
        if op.endswith("-"):
            return arg
        if op.endswith("?"):
            raise KeyError(f"{name} is required: {arg}")
        return ""

    return _COMPOSE_VAR.sub(substitute, text)


@functools.cache
def compose() -> dict[str, Any]:
    return yaml.safe_load((INFRA / "compose.yaml").read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def parley_services() -> dict[str, dict[str, Any]]:
    """The services that run the Parley image (built from infra/Dockerfile*)."""
    return {name: s for name, s in services().items() if "build" in s}


def required_env(text: str) -> dict[str, str]:
    """A value for every ${VAR:?...} in ``text``, long and URL-safe like a real secret."""
    names = {m.group("name") for m in _COMPOSE_VAR.finditer(text) if "?" in (m.group("op") or "")}
    return {name: "x" * 48 for name in names}


def resolved_environment(service: Mapping[str, Any]) -> dict[str, str]:
    raw = service.get("environment", {})
    env = required_env(str(raw))
    return {key: interpolate(str(value), env) for key, value in raw.items()}


def queues_of(args: list[str]) -> list[str]:
    return args[args.index("--queues") + 1].split(",")


def settings_from(environ: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Builds Settings the way a container does: from PARLEY_* variables only."""
    for key in list(os.environ):
        if key.startswith("PARLEY_"):
            monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    return Settings()


@functools.cache
def k8s_documents() -> tuple[tuple[str, dict[str, Any]], ...]:
    found = []
    for path in sorted(K8S.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                found.append((str(path.relative_to(K8S)), doc))
    return tuple(found)


def k8s_objects(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in k8s_documents() if doc["kind"] == kind}


def pod_spec(workload: Mapping[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def k8s_workers() -> dict[str, list[str]]:
    """Worker Deployment name -> the queues its container consumes."""
    workers = {}
    for name, deployment in k8s_objects("Deployment").items():
        args = pod_spec(deployment)["containers"][0]["args"]
        if args[0] == "worker":
            workers[name] = queues_of(args)
    return workers


def secret_values(replacement: str) -> dict[str, str]:
    data = k8s_objects("Secret")["parley"]["stringData"]
    return {key: value.replace(PLACEHOLDER, replacement) for key, value in data.items()}


def dockerfile_stages(name: str) -> list[list[tuple[str, str]]]:
    """The (INSTRUCTION, arguments) of each stage; continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (INFRA / name).read_text())
    stages: list[list[tuple[str, str]]] = [[]]
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        keyword, _, rest = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), rest.strip()))
    return stages


def base_image(stages: list[list[tuple[str, str]]], stage: int) -> str:
    """The FROM image of a stage, with ${ARG} replaced by the ARG's default."""
    defaults = dict(rest.split("=", 1) for kw, rest in stages[0] if kw == "ARG" and "=" in rest)
    image = stages[stage][0][1].split()[0]
    return re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], image)


def instructions(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    return [rest for kw, rest in stage if kw == keyword]


def test_image_is_multi_stage_on_python_311_slim_and_runs_as_non_root() -> None:
    stages = dockerfile_stages("Dockerfile")
    assert len(stages) >= 3, "a build stage and a runtime stage"
    assert all(base_image(stages, i).startswith("python:3.11-slim") for i in (1, -1))
    final = stages[-1]
    user = instructions(final, "USER")
    assert user and user[-1].split(":")[0] not in {"root", "0"}
    assert "/app" in instructions(final, "WORKDIR")
    assert ". ." in instructions(final, "COPY"), "the source tree (with web/) is kept in /app"
    assert any("/healthz" in hc for hc in instructions(final, "HEALTHCHECK"))
    assert instructions(final, "ENTRYPOINT") == ['["parley"]']


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_image_assembles_the_whisper_model_at_build_time(name: str) -> None:
    stages = dockerfile_stages(name)
    build_steps = " ".join(rest for stage in stages[1:-1] for kw, rest in stage)
    assert "resolve_model_dir(WhisperOptions(cache_dir='/models'))" in build_steps
    assert "PARLEY_MODEL_CACHE_DIR=/models" in build_steps
    final = " ".join(rest for kw, rest in stages[-1])
    assert "--from=build /models /models" in final
    assert "PARLEY_MODEL_CACHE_DIR=/models" in final
    assert "PYTHONPATH=/app" in final, "web/ is found next to the imported source"


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_final_stage_has_no_build_tools(name: str) -> None:
    final = " ".join(rest for kw, rest in dockerfile_stages(name)[-1] if kw == "RUN")
    tools = re.findall(r"\b(build-essential|gcc|g\+\+|make|\S+-dev|pip install)\b", final)
    assert tools == []


def test_gpu_image_runs_the_asr_worker_on_cuda() -> None:
    stages = dockerfile_stages("Dockerfile.gpu")
    image = base_image(stages, -1)
    assert image.startswith("nvidia/cuda:") and "cudnn" in image and "runtime" in image
    final = " ".join(rest for kw, rest in stages[-1])
    assert "python3.11" in final
    assert "PARLEY_ASR_DEVICE=cuda" in final and "PARLEY_ASR_COMPUTE_TYPE=float16" in final
    assert instructions(stages[-1], "CMD") == [
        '["worker", "--queues", "asr", "--concurrency", "1"]'
    ]


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_build_context_keeps_the_sources_and_drops_the_local_venv(name: str) -> None:
    ignore_file = INFRA / f"{name}.dockerignore"
    patterns = [
        line.strip()
        for line in ignore_file.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ".venv" in patterns and ".git" in patterns
    for needed in ("web", "services", "models", "pyproject.toml", "README.md"):
        assert not any(fnmatch.fnmatch(needed, p) for p in patterns), needed


def test_compose_defines_every_process() -> None:
    stores = {"postgres", "redis", "minio", "minio-bucket"}
    processes = {"migrate", "api", "beat", *(f"worker-{queue}" for queue in QUEUES)}
    assert stores | processes <= services().keys()
    assert {"postgres-data", "redis-data", "minio-data"} <= compose()["volumes"].keys()


def test_compose_runs_one_worker_service_per_queue() -> None:
    workers = {
        name: queues_of(s["command"])
        for name, s in services().items()
        if s.get("command", [None])[0] == "worker"
    }
    for queue in QUEUES:
        assert workers[f"worker-{queue}"] == [queue]
    always_on = {
        q for name, qs in workers.items() if not services()[name].get("profiles") for q in qs
    }
    assert always_on == set(QUEUES) and set(jobs.TASK_QUEUES.values()) <= always_on


def test_compose_runs_exactly_one_beat() -> None:
    beat = services()["beat"]
    assert beat["command"] == ["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    for name, service in services().items():
        if name != "beat":
            assert not {"beat", "-B", "--beat"} & set(service.get("command") or []), name


def test_compose_api_runs_two_uvicorn_workers_on_port_8000() -> None:
    api = services()["api"]
    command = api["command"]
    assert command[0] == "api" and command[command.index("--workers") + 1] == "2"
    assert command[command.index("--port") + 1] == "8000"
    assert any(str(p).endswith(":8000") for p in api["ports"])
    assert not api.get("healthcheck", {}).get("disable"), "the image's /healthz check stays on"


def test_compose_parley_services_use_postgres_redis_and_minio() -> None:
    assert {"migrate", "api", "beat", "worker-asr"} <= parley_services().keys()
    for name, service in parley_services().items():
        env = resolved_environment(service)
        assert env["PARLEY_ENV"] == "production", name
        database_url = env["PARLEY_DATABASE_URL"]
        assert re.match(r"postgresql\+psycopg://[^@]+@postgres:5432/", database_url), name
        assert env["PARLEY_BROKER_URL"].startswith("redis://redis:6379/"), name
        assert env["PARLEY_MEDIA_BACKEND"] == "s3", name
        assert env["PARLEY_S3_ENDPOINT_URL"] == "http://minio:9000", name
        build = service["build"]
        assert (INFRA / build["context"] / build["dockerfile"]).is_file(), name


def test_compose_services_start_after_healthy_stores_and_migrations() -> None:
    for name in ("postgres", "redis", "minio"):
        assert services()[name]["healthcheck"]["test"], name
    assert "pg_isready" in str(services()["postgres"]["healthcheck"]["test"])
    assert services()["migrate"]["command"] == ["migrate"]
    assert services()["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, service in parley_services().items():
        if name == "migrate":
            continue
        depends = service["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_compose_creates_the_bucket_parley_uses() -> None:
    env = resolved_environment(services()["api"])
    bucket_job = services()["minio-bucket"]
    assert bucket_job["image"].startswith("minio/mc")
    assert f"mb --ignore-existing parley/{env['PARLEY_S3_BUCKET']}" in " ".join(
        bucket_job["command"]
    )
    raw = services()["api"]["environment"]
    minio_env = services()["minio"]["environment"]
    assert raw["PARLEY_S3_SECRET_ACCESS_KEY"] == minio_env["MINIO_ROOT_PASSWORD"]
    assert raw["PARLEY_S3_ACCESS_KEY_ID"] == minio_env["MINIO_ROOT_USER"]


def test_compose_holds_no_secret_values() -> None:
    for name, service in services().items():
        for key, value in (service.get("environment") or {}).items():
            text = str(value)
            if SECRET_NAME.search(key):
                assert _REQUIRED_VAR.match(text), f"{name}.{key} must be ${{VAR:?message}}"
            if "://" in text and "@" in text:
                password = text.split("://", 1)[1].split("@", 1)[0].partition(":")[2]
                assert _REQUIRED_VAR.match(password), f"{name}.{key} embeds a password"


def test_compose_refuses_to_start_without_the_secret_key() -> None:
    raw = services()["api"]["environment"]["PARLEY_SECRET_KEY"]
    with pytest.raises(KeyError, match="PARLEY_SECRET_KEY"):
        interpolate(raw, {})


def test_compose_gpu_worker_is_optional_and_reserves_a_gpu() -> None:
    gpu = services()["worker-asr-gpu"]
    assert gpu["profiles"] == ["gpu"]
    assert gpu["build"]["dockerfile"] == "infra/Dockerfile.gpu"
    assert queues_of(gpu["command"]) == [jobs.QUEUE_ASR]
    device = gpu["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert resolved_environment(gpu).get("PARLEY_ASR_DEVICE", "cuda") == "cuda"


def test_compose_environment_is_accepted_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(resolved_environment(services()["api"]), monkeypatch)
    assert settings.env == "production" and not settings.is_sqlite
    assert settings.media_backend == "s3" and settings.cookie_secure is False


def test_every_k8s_document_has_api_version_kind_and_name() -> None:
    problems = []
    for path, doc in k8s_documents():
        if not (doc.get("apiVersion") and doc.get("kind")):
            problems.append(f"{path}: no apiVersion/kind")
        elif doc["kind"] != "Kustomization":
            metadata = doc.get("metadata") or {}
            if not metadata.get("name"):
                problems.append(f"{path}: {doc['kind']} without metadata.name")
            if doc["kind"] != "Namespace" and metadata.get("namespace") != "parley":
                problems.append(f"{path}: {doc['kind']} {metadata.get('name')} not in parley")
    assert problems == []
    assert {"Namespace", "ConfigMap", "Secret", "Deployment", "Service", "Job", "ScaledObject"} <= {
        doc["kind"] for _, doc in k8s_documents()
    }


def test_kustomizations_name_existing_files_and_skip_templates_and_jobs() -> None:
    for folder in (K8S / "base", K8S / "gpu"):
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        for resource in kustomization["resources"]:
            target = folder / resource
            assert target.is_file() or (target / "kustomization.yaml").is_file(), resource
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())["resources"]
    on_disk = {p.name for p in (K8S / "base").glob("*.yaml")} - {"kustomization.yaml"}
    assert set(base) == on_disk
    assert not {"Secret", "Job"} & {doc["kind"] for path, doc in k8s_documents() if "/" in path}


def test_each_k8s_worker_queue_has_a_deployment_and_a_redis_scaler() -> None:
    workers = k8s_workers()
    for queue in QUEUES:
        assert workers[f"parley-worker-{queue}"] == [queue]
    scalers = {
        so["spec"]["scaleTargetRef"]["name"]: so for so in k8s_objects("ScaledObject").values()
    }
    auths = k8s_objects("TriggerAuthentication")
    for name, queues in workers.items():
        assert "replicas" not in k8s_objects("Deployment")[name]["spec"], f"KEDA scales {name}"
        trigger = scalers[name]["spec"]["triggers"][0]
        assert trigger["type"] == "redis"
        assert [trigger["metadata"]["listName"]] == queues
        assert trigger["authenticationRef"]["name"] in auths


def test_k8s_beat_runs_exactly_one_replica() -> None:
    beat = k8s_objects("Deployment")["parley-beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert pod_spec(beat)["containers"][0]["args"] == ["beat"]
    targets = {so["spec"]["scaleTargetRef"]["name"] for so in k8s_objects("ScaledObject").values()}
    assert "parley-beat" not in targets


def test_k8s_api_is_probed_on_healthz_and_exposed_by_its_service() -> None:
    api = k8s_objects("Deployment")["parley-api"]
    container = pod_spec(api)["containers"][0]
    assert container["args"][0] == "api"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("readinessProbe", "livenessProbe"):
        http = container[probe]["httpGet"]
        assert http["path"] == "/healthz" and ports[http["port"]] == 8000
    service = k8s_objects("Service")["parley-api"]
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_k8s_workloads_select_their_pods_and_read_the_shared_settings() -> None:
    workloads = [*k8s_objects("Deployment").values(), *k8s_objects("Job").values()]
    for workload in workloads:
        name = workload["metadata"]["name"]
        if workload["kind"] == "Deployment":
            selector = workload["spec"]["selector"]["matchLabels"]
            assert selector.items() <= workload["spec"]["template"]["metadata"]["labels"].items()
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        for container in spec["containers"]:
            sources = {
                kind: ref["name"] for item in container["envFrom"] for kind, ref in item.items()
            }
            assert sources == {"configMapRef": "parley", "secretRef": "parley"}, name
    assert "parley" in k8s_objects("ConfigMap") and "parley" in k8s_objects("Secret")


def test_k8s_migration_job_runs_migrate_once() -> None:
    job = k8s_objects("Job")["parley-migrate"]
    spec = pod_spec(job)
    assert spec["containers"][0]["args"] == ["migrate"]
    assert spec["restartPolicy"] == "Never"


def test_k8s_gpu_worker_requests_a_gpu_and_runs_on_cuda() -> None:
    gpu = k8s_objects("Deployment")["parley-worker-asr-gpu"]
    container = pod_spec(gpu)["containers"][0]
    assert int(container["resources"]["limits"]["nvidia.com/gpu"]) >= 1
    assert container["image"].startswith("parley-gpu")
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["PARLEY_ASR_DEVICE"] == "cuda" and env["PARLEY_ASR_COMPUTE_TYPE"] == "float16"
    assert k8s_workers()["parley-worker-asr-gpu"] == [jobs.QUEUE_ASR]


def test_k8s_secret_template_holds_placeholders_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for secret in k8s_objects("Secret").values():
        assert "data" not in secret
        for key, value in secret["stringData"].items():
            if key != "address":
                assert PLACEHOLDER in value, key
    environ = {**k8s_objects("ConfigMap")["parley"]["data"], **secret_values(PLACEHOLDER)}
    with pytest.raises(pydantic.ValidationError, match="PARLEY_SECRET_KEY"):
        settings_from(environ, monkeypatch)


def test_k8s_settings_are_accepted_once_the_secret_is_filled_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environ = {**k8s_objects("ConfigMap")["parley"]["data"], **secret_values("x" * 48)}
    settings = settings_from(environ, monkeypatch)
    assert settings.env == "production" and settings.media_backend == "s3"
    assert settings.broker_url.startswith("redis://") and settings.cookie_secure is True


def test_every_parley_variable_in_infra_is_a_setting() -> None:
    files = [path for path in INFRA.rglob("*") if path.is_file()]
    used = {name for path in files for name in _PARLEY_VAR.findall(path.read_text())}
    assert {"PARLEY_DATABASE_URL", "PARLEY_BROKER_URL", "PARLEY_SECRET_KEY"} <= used
    unknown = sorted(
        n for n in used if n.removeprefix("PARLEY_").lower() not in Settings.model_fields
    )
    assert unknown == []


def test_image_trains_the_seed_scoring_model_at_build_time() -> None:
    stages = dockerfile_stages("Dockerfile")
    build = [rest for kw, rest in stages[-2] if kw == "RUN"]
    assert any(step.startswith("parley model-card") for step in build), build
    final = " ".join(rest for kw, rest in stages[-1])
    assert "--from=build /models /models" in final
