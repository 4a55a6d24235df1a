"""Outgoing email: through SMTP when configured, else printed to the console (embedded runs).

In production nothing is printed: an invitation carries its candidate's key, and the console
is the service's log.
"""

from __future__ import annotations

import logging
import smtplib
import sys
from email.message import EmailMessage

from services.core.settings import Settings

log = logging.getLogger(__name__)


class MailNotConfigured(OSError):
    """PARLEY_ENV=production without PARLEY_SMTP_HOST: the email is not sent, nor printed."""


def send_email(settings: Settings, *, to: str, subject: str, body: str) -> None:
    """Send one plain-text email; raises OSError or smtplib.SMTPException when sending fails."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not settings.smtp_host and settings.env == "production":
        raise MailNotConfigured(
            "PARLEY_SMTP_HOST is not set; in production an email is never printed instead"
        )
    if not settings.smtp_host:
        print(f"\n--- email (PARLEY_SMTP_HOST is not set) ---\n{message}--- end ---\n",
              file=sys.stdout, flush=True)
        return
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)
    log.info("email sent to %s: %s", to, subject)
