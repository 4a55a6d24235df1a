"""Domain errors: a stable machine code, a human message, and the HTTP status the API maps them to."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, keep_changes: bool = False, **details: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        # True when the refusal itself must be saved (a failed login, a discarded upload).
        self.keep_changes = keep_changes
        if code is not None:
            self.code = code
        self.details = details


class Invalid(DomainError):
    status = 422
    code = "invalid"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Gone(DomainError):
    status = 410
    code = "gone"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class UnsupportedMedia(DomainError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(DomainError):
    """Too many tries; the API answers 429 with `Retry-After: retry_after` (seconds)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code, retry_after=retry_after)
        self.retry_after = retry_after


class Overloaded(DomainError):
    """More requests than the service can take now; the API answers 503 with `Retry-After`."""

    status = 503
    code = "overloaded"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after
