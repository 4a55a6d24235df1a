"""`parley`: migrate, load the demo, and run the API, the worker and the beat, together or apart."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from services.core import migrate
from services.core.settings import get_settings

DEMO_PASSWORD = "parley-demo-2026"


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "services.worker.app:celery_app", *args]


def worker_command(queues: str, concurrency: int, *, with_beat: bool = False) -> list[str]:
    settings = get_settings()
    args = [
        "worker",
        "-Q",
        queues,
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
        "-n",
        f"{queues.replace(',', '-')}@%h",
    ]
    if with_beat:
        args += ["-B", "-s", str(settings.data_dir / "celerybeat-schedule")]
    return _celery(*args)


# Longer than a load balancer's idle timeout (60 s on the common ones), so the balancer never
# sends a request down a connection uvicorn is closing; and a page pausing between chunks
# under load keeps its connection (uvicorn's 5 s default closed some: docs/performance.md).
KEEP_ALIVE_SECONDS = 75


def api_command(host: str, port: int, workers: int) -> list[str]:
    """uvicorn on uvloop and httptools when installed (they are: pyproject.toml)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "services.api.app:create_app",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--proxy-headers",
        "--no-server-header",
        "--timeout-keep-alive",
        str(KEEP_ALIVE_SECONDS),
    ]


def _supervise(commands: dict[str, list[str]]) -> int:
    """Run the processes until Ctrl-C or until one of them stops; then stop them all cleanly."""
    procs = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(f"parley: {name} stopped with exit code {proc.returncode}; stopping the rest")
                exit_code, stopping = proc.returncode or 1, True
        time.sleep(0.3)
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    print("parley: stopped")
    return exit_code


def cmd_run(args: argparse.Namespace) -> int:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade()
    if not args.no_demo:
        _load_demo()
    print(f"\nParley is starting on http://{args.host}:{args.port}  (Ctrl-C stops everything)\n")
    return _supervise(
        {
            "api": api_command(args.host, args.port, 1),
            # Two processes, so the avatar's voice (`default`) never waits behind transcriptions.
            "worker": worker_command("asr,scoring", 1, with_beat=True),
            "worker-default": worker_command("default", 1),
        }
    )


def _load_demo() -> None:
    from services.api.publisher import CeleryPublisher
    from services.core.demo import loader

    summary = loader.load_demo(publisher=CeleryPublisher(get_settings()), password=DEMO_PASSWORD)
    print(summary)


def cmd_migrate(args: argparse.Namespace) -> int:
    if args.downgrade:
        migrate.downgrade(revision=args.downgrade)
    else:
        migrate.upgrade()
    return 0


def cmd_demo(_: argparse.Namespace) -> int:
    _load_demo()
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    os.execv(sys.executable, api_command(args.host, args.port, args.workers))
    return 0  # pragma: no cover


def cmd_worker(args: argparse.Namespace) -> int:
    os.execv(sys.executable, worker_command(args.queues, args.concurrency))
    return 0  # pragma: no cover


def cmd_beat(_: argparse.Namespace) -> int:
    schedule = str(get_settings().data_dir / "celerybeat-schedule")
    os.execv(sys.executable, _celery("beat", "--loglevel", "INFO", "-s", schedule))
    return 0  # pragma: no cover


def cmd_audit_verify(_: argparse.Namespace) -> int:
    from services.core.audit import service as audit
    from services.core.db import unit_of_work
    from services.core.organisations.orm import Organisation

    broken = 0
    with unit_of_work() as session:
        for org in session.query(Organisation).all():
            problems = audit.verify(session, org_id=org.id)
            broken += len(problems)
            status = "intact" if not problems else f"{len(problems)} problem(s)"
            print(f"{org.slug}: {status}")
            for p in problems:
                print(f"  entry {p.seq}: {p.problem}")
    return 1 if broken else 0


def cmd_train(args: argparse.Namespace) -> int:
    from models.scoring import train

    return train.main(args.options)  # its own options, parsed by models.scoring.train


def cmd_rescore(_: argparse.Namespace) -> int:
    from services.api.publisher import CeleryPublisher
    from services.core import jobs

    CeleryPublisher(get_settings()).publish(jobs.RESCORE_ALL)
    print("queued: every eligible answer the current scoring model has not scored yet")
    return 0


def cmd_model_card(args: argparse.Namespace) -> int:
    """Write the card of the model the worker scores with (docs/model-card.md by default)."""
    from models.scoring import card, embeddings, registry, seed
    from services.core.roles.bank import question_bank

    settings = get_settings()
    assert settings.scoring_model_dir is not None
    embeddings.keep_derived_in(settings.model_cache_dir)
    questions = {q.key: q.text for q in question_bank()}
    folder = seed.build(settings.scoring_model_dir, questions)
    text = card.render_markdown(registry.read_card(folder))
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.out} for {folder.name}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parley", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="migrate, load demo data, run API + worker + web (embedded)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--no-demo", action="store_true")
    run.set_defaults(func=cmd_run)
    mig = sub.add_parser("migrate", help="apply migrations (or --downgrade REV)")
    mig.add_argument("--downgrade", metavar="REV")
    mig.set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load the demo organisation (idempotent)").set_defaults(
        func=cmd_demo
    )
    api = sub.add_parser("api", help="run the API under uvicorn")
    api.add_argument("--host", default="0.0.0.0")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument("--workers", type=int, default=2)
    api.set_defaults(func=cmd_api)
    wrk = sub.add_parser("worker", help="run a Celery worker for some queues")
    wrk.add_argument("--queues", default="asr,scoring,default")
    wrk.add_argument("--concurrency", type=int, default=1)
    wrk.set_defaults(func=cmd_worker)
    sub.add_parser("beat", help="run the periodic scheduler (the sweeper)").set_defaults(
        func=cmd_beat
    )
    sub.add_parser("audit-verify", help="check every audit chain").set_defaults(
        func=cmd_audit_verify
    )
    sub.add_parser(
        "rescore", help="score every eligible answer the current model has not (resumable)"
    ).set_defaults(func=cmd_rescore)
    card = sub.add_parser("model-card", help="write the scoring model's card as Markdown")
    card.add_argument("--out", default="docs/model-card.md")
    card.set_defaults(func=cmd_model_card)
    trn = sub.add_parser(
        "train", help="train and evaluate on a labelled CSV (parley train --help)", add_help=False
    )
    trn.set_defaults(func=cmd_train)
    args, extra = parser.parse_known_args(argv)
    if args.command == "train":
        args.options = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
