"""Log records without secrets: tokens in request paths and query strings are redacted.

Parley never puts a token in a URL it makes (invite and open links carry theirs in the
fragment, which browsers never send), but a link pasted without its `#`, or a client that adds
`?token=`, would otherwise leave a working key in the access log. The filter is installed by
the app factory, so every way the API runs (`parley run`, `parley api`, the containers in
infra/, the tests' uvicorn) logs through it.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# Query parameters whose values are secrets, whatever the value looks like.
_SECRET_PARAM = re.compile(
    r"(?i)([?&;][^=&\s\"]*(?:token|key|secret|password|passwd|signature|sig|session|csrf|invite|"
    r"auth)[^=&\s\"]*=)[^&\s\"]*"
)
# Parley's tokens are 43 characters of URL-safe base64 (256 bits); ids are 32 hex characters.
_LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{40,}(?![A-Za-z0-9_\-])")
# The access log of uvicorn and the messages of the servers that run the app.
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn")


def redact(text: str) -> str:
    """The text with secret query values and anything shaped like a token replaced."""
    return _LONG_TOKEN.sub(REDACTED, _SECRET_PARAM.sub(rf"\g<1>{REDACTED}", text))


class RedactTokens(logging.Filter):
    """Rewrites a record's message and string arguments before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        return True


def install_redaction() -> None:
    """Add the filter to the server's loggers once per process."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
