"""The one typed settings object. Nothing else in Parley reads the environment."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDER_SECRET = "development-only-secret-change-me"


class Settings(BaseSettings):
    """Every setting has an embedded default; production swaps them through PARLEY_* variables."""

    model_config = SettingsConfigDict(env_prefix="PARLEY_", env_file=None, extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var")
    secret_key: SecretStr = SecretStr(_PLACEHOLDER_SECRET)

    # Storage of rows, tasks and media.
    database_url: str = ""
    # Connections one process may hold (PostgreSQL allows 100: two API processes, the workers
    # and the beat stay well under). The API admits as many requests into a unit of work at a
    # time; the others wait up to admission_wait_seconds, then get 503 with Retry-After.
    db_connections_per_process: int = Field(default=25, ge=1, le=45)
    admission_wait_seconds: float = Field(default=20.0, gt=0)
    # Of those, how many may keep a take at once (read and join its chunks, check the file).
    assemblies_per_process: int = Field(default=2, ge=1, le=45)
    broker_url: str = ""
    media_backend: Literal["local", "s3"] = "local"
    media_dir: Path | None = None
    s3_endpoint_url: str | None = None
    s3_bucket: str = "parley-media"
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None

    # Web.
    public_url: str = "http://127.0.0.1:8000"
    session_ttl_hours: int = 12
    cookie_secure: bool = False
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1, le=86400)
    # Wrong invite or open-link tokens one client address may send in the window before it
    # is refused with 429 (services/core/interviews/invitations.py guessing_limit).
    token_guess_max_failures: int = Field(default=30, ge=1)
    token_guess_window_seconds: int = Field(default=600, ge=1, le=86400)
    # Interviews one client address may make through open links per hour (each sends an email).
    open_link_joins_per_client_per_hour: int = Field(default=10, ge=1)
    # Invitation emails (single, CSV, open link, extension) one organisation may send per hour.
    invitation_emails_per_hour: int = Field(default=2000, ge=1)
    invite_ttl_days: int = Field(default=14, ge=1)
    # One reminder email this many days before an unfinished invitation expires (0: none).
    reminder_days_before_expiry: int = Field(default=2, ge=0, le=60)
    # New interviews one open link may create per hour: a bound on abuse besides its own cap.
    open_link_joins_per_hour: int = Field(default=100, ge=1)
    # Invitation emails. Without a host they are printed to the console (the embedded default).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    mail_from: str = "Parley <no-reply@parley.invalid>"
    # A candidate's deletion request is carried out within this many days (room for a legal
    # hold); the candidate is promised at most 30, so no configuration can exceed it.
    deletion_grace_days: int = Field(default=30, ge=0, le=30)
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    max_chunk_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_answer_seconds: float = Field(default=900.0, gt=0)
    max_typed_answer_chars: int = Field(default=8000, ge=100)
    # A candidate's CV, a PDF a recruiter uploads (services/core/interviews/cv.py).
    max_cv_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # What an upload may declare itself as (PARLEY_ACCEPTED_MEDIA_TYPES, a JSON list); the
    # first bytes must then be a container Parley can read (services/core/interviews/media.py).
    accepted_media_types: list[str] = Field(
        default_factory=lambda: [
            "audio/webm",
            "video/webm",
            "audio/ogg",
            "audio/mp4",
            "video/mp4",
            "audio/x-m4a",
            "audio/wav",
            "audio/x-wav",
            "audio/wave",
            "audio/mpeg",
            "audio/flac",
            "audio/x-flac",
        ],
        min_length=1,
    )

    # The workers' CPU niceness (0-19): sharing cores with the API, they give way to requests.
    worker_nice: int = Field(default=10, ge=0, le=19)

    # Transcription (the worker's `asr` queue).
    asr_model: str = "base"
    asr_device: str = "auto"
    asr_compute_type: str = "int8"
    # Defaults chosen by measurement (docs/performance.md): accuracy first. For throughput,
    # beam 1, batch 4 and webrtc are 1.7-4x faster at 3-7 more points of word error rate.
    asr_beam_size: int = Field(default=5, ge=1)
    asr_batch_size: int = Field(default=0, ge=0)  # 0: window after window, with fallback
    asr_cpu_threads: int = Field(default=0, ge=0)  # 0: CTranslate2's default (4)
    asr_vad: Literal["webrtc", "silero"] = "silero"
    asr_language: str = "en"
    model_cache_dir: Path = Path("~/.cache/parley/models")

    # Scoring (the worker's `scoring` queue).
    scoring_model_dir: Path | None = None  # a registry folder; default <model_cache_dir>/scoring
    scoring_evidence_sentences: int = Field(default=3, ge=0, le=10)

    # Speech of the interviewer avatar (the worker's `default` queue); one of models.tts's voices.
    tts_voice: str = Field(default="en_US-joe-medium", pattern=r"^[A-Za-z0-9_.-]+$")

    # Worker behaviour.
    task_max_retries: int = Field(default=3, ge=0)
    stuck_after_seconds: int = Field(default=900, ge=10)
    sweep_interval_seconds: int = Field(default=60, ge=1)
    max_processing_attempts: int = Field(default=3, ge=1)

    # Webhooks to applicant tracking systems (services/core/webhooks/service.py RETRY_DELAYS).
    webhook_max_attempts: int = Field(default=6, ge=1)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=30)

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Settings:
        data_dir = self.data_dir.expanduser().resolve()
        self.data_dir = data_dir
        if not self.database_url:
            self.database_url = f"sqlite:///{data_dir / 'parley.sqlite3'}"
        if not self.broker_url:
            self.broker_url = f"sqla+sqlite:///{data_dir / 'broker.sqlite3'}"
        if self.media_dir is None:
            self.media_dir = data_dir / "media"
        self.model_cache_dir = self.model_cache_dir.expanduser()
        if self.scoring_model_dir is None:
            self.scoring_model_dir = self.model_cache_dir / "scoring"
        return self

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.env == "production":
            secret = self.secret_key.get_secret_value()
            if secret == _PLACEHOLDER_SECRET or len(secret) < 32:
                raise ValueError(
                    "PARLEY_SECRET_KEY must be set to 32+ random characters in production"
                )
            if self.database_url.startswith("sqlite"):
                raise ValueError("production needs PARLEY_DATABASE_URL (PostgreSQL)")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
