"""Invitations are emailed (SMTP, or the console by default), one at a time or from a CSV."""

from __future__ import annotations

import email
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from services.core import mail
from services.core.db import unit_of_work
from services.core.interviews.orm import Interview
from services.core.settings import get_settings
from tests.conftest import reset_caches
from tests.services.conftest import World


@dataclass
class Inbox:
    messages: list[email.message.Message] = field(default_factory=list)


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to accept mail: what a real relay sees from Parley."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.wfile.write(b"250 OK\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                lines = []
                while (part := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(part[1:] if part.startswith(b"..") else part)
                self.server.inbox.messages.append(  # type: ignore[attr-defined]
                    email.message_from_bytes(b"".join(lines))
                )
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 no\r\n")


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.inbox = Inbox()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PARLEY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PARLEY_SMTP_PORT", str(server.server_address[1]))
    monkeypatch.setenv("PARLEY_SMTP_STARTTLS", "false")
    reset_caches()
    yield server.inbox  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def test_an_invitation_is_emailed_with_its_link(sqlite_world: World, inbox: Inbox) -> None:
    a = sqlite_world.a
    out = sqlite_world.staff(a, "recruiter").post(
        f"/api/v1/roles/{a.role_id}/invitations", json={"name": "Lin", "email": "Lin@Example.com"}
    ).json()
    [message] = inbox.messages
    assert message["To"] == "lin@example.com"
    assert message["Subject"] == "Your interview for Role a at Org a"
    body = message.get_payload(decode=True).decode()
    assert out["invite_url"] in body and "a person at Org a" in body


def test_without_smtp_the_email_is_printed_to_the_console(
    sqlite_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    a = sqlite_world.a
    out = sqlite_world.staff(a, "recruiter").post(
        f"/api/v1/roles/{a.role_id}/invitations", json={"name": "Lin", "email": "lin@example.com"}
    ).json()
    printed = capsys.readouterr().out
    assert "PARLEY_SMTP_HOST is not set" in printed and out["invite_url"] in printed


def test_in_production_without_smtp_an_email_is_refused_and_never_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The console is the service's log there, and an invitation holds the candidate's key."""
    settings = get_settings().model_copy(update={"env": "production", "smtp_host": ""})
    with pytest.raises(mail.MailNotConfigured):
        mail.send_email(settings, to="lin@example.com", subject="Your interview",
                        body="Open it here: https://parley.example/interview/#the-token")
    captured = capsys.readouterr()
    assert "the-token" not in captured.out + captured.err
    # What the invitation's sender catches: the invitation stands, its log says why.
    assert issubclass(mail.MailNotConfigured, OSError)


def test_a_csv_invites_everyone_or_no_one(sqlite_world: World, inbox: Inbox) -> None:
    a = sqlite_world.a
    recruiter = sqlite_world.staff(a, "recruiter")
    url = f"/api/v1/roles/{a.role_id}/invitations/batch"

    def count() -> int:
        with unit_of_work() as session:
            return int(session.scalar(select(func.count()).select_from(Interview)) or 0)

    before = count()
    bad = recruiter.post(
        url,
        content="name,email\nAda,ada@example.com\nBo,not-an-email\n,c@example.com\n",
        headers={"Content-Type": "text/csv"},
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_rows"
    assert bad.json()["error"]["details"]["problems"] == [
        "line 3: not an email address",
        "line 4: no name",
    ]
    assert count() == before and inbox.messages == []
    assert recruiter.post(
        url, content="email\nada@example.com\n", headers={"Content-Type": "text/csv"}
    ).json()["error"]["code"] == "bad_csv"

    good = recruiter.post(
        url,
        content="Name,Email\nAda Lovelace,ada@example.com\nBo Chen,bo@example.com\n",
        headers={"Content-Type": "text/csv"},
    )
    assert good.status_code == 201, good.text
    rows = good.json()
    assert [(r["name"], r["email"]) for r in rows] == [
        ("Ada Lovelace", "ada@example.com"),
        ("Bo Chen", "bo@example.com"),
    ]
    assert count() == before + 2
    assert sorted(m["To"] for m in inbox.messages) == ["ada@example.com", "bo@example.com"]
    bodies = [m.get_payload(decode=True).decode() for m in inbox.messages]
    assert all(any(r["invite_url"] in b for b in bodies) for r in rows)
