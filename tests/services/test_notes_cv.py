"""What recruiters keep with a candidate for people to read: the CV (a real PDF only, served so
that it can do nothing in Parley's origin) and notes; both logged, both deleted with the
candidate's data and both in their download, on the real database."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import zipfile
from typing import Any

from sqlalchemy import select

from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work
from services.core.interviews import cv
from services.core.interviews.orm import CandidateCv, Note
from services.core.settings import get_settings
from services.core.storage import get_storage
from services.worker import privacy as purging
from tests.services.conftest import PASSWORD, World

FILENAME = "Zoë Quartermaine CV.pdf"
PDF_HEADERS = {"Content-Type": "application/pdf", "X-Filename": "Zo%C3%AB%20Quartermaine%20CV.pdf"}


def minimal_pdf(text: str = "Curriculum vitae") -> bytes:
    """A whole one-page PDF with a line of text, its cross-reference table at the right offsets."""
    content = f"BT /F1 18 Tf 20 60 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _events(action_prefix: str) -> list[AuditEvent]:
    with unit_of_work() as session:
        return [e for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
                if e.action.startswith(action_prefix)]


def _cv_files(interview_id: str) -> list[str]:
    media_dir = get_settings().media_dir
    assert media_dir is not None
    folder = media_dir / cv.interview_folder(interview_id)
    return sorted(str(p.relative_to(media_dir)) for p in folder.rglob("*") if p.is_file())


def test_a_recruiter_uploads_reads_replaces_and_removes_a_cv(world: World) -> None:
    a = world.a
    recruiter = world.staff(a, "recruiter")
    url = f"/api/v1/interviews/{a.interview_id}/cv"
    first, second = minimal_pdf("First CV"), minimal_pdf("Second CV")
    assert recruiter.get(url).json() is None

    uploaded = recruiter.put(url, content=first, headers=PDF_HEADERS)

    assert uploaded.status_code == 200, uploaded.text
    meta = uploaded.json()
    assert (meta["filename"], meta["size_bytes"]) == (FILENAME, len(first))
    assert meta["url"] == f"{url}/file" and recruiter.get(url).json() == meta
    shown = recruiter.get(f"{url}/file")
    assert shown.status_code == 200 and shown.content == first
    assert shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"] == (
        "inline; filename=\"Zo_ Quartermaine CV.pdf\"; "
        "filename*=UTF-8''Zo%C3%AB%20Quartermaine%20CV.pdf")
    assert shown.headers["x-content-type-options"] == "nosniff"
    csp = shown.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp
    assert "frame-ancestors 'self'" in csp
    assert "script-src" not in csp  # falls back to default-src 'none': nothing runs
    assert shown.headers["x-frame-options"] == "SAMEORIGIN"
    saved = recruiter.get(f"{url}/file?download=true")
    assert saved.headers["content-disposition"].startswith("attachment; ")

    replaced = world.staff(a, "admin").put(url, content=second, headers={
        "Content-Type": "application/pdf"})
    assert replaced.status_code == 200 and replaced.json()["filename"] == "cv.pdf"
    assert recruiter.get(f"{url}/file").content == second
    assert len(_cv_files(a.interview_id)) == 1  # the first file went once it was replaced

    assert recruiter.delete(url).status_code == 204
    assert recruiter.get(url).json() is None
    missing = recruiter.get(f"{url}/file")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_cv"
    assert _cv_files(a.interview_id) == []
    assert recruiter.delete(url).status_code == 204  # already gone: nothing to do, no entry

    logged = _events("cv.")
    assert [(e.action, e.data) for e in logged] == [
        ("cv.uploaded", {"size_bytes": len(first), "replaced": False}),
        ("cv.viewed", {"download": False}),
        ("cv.viewed", {"download": True}),
        ("cv.uploaded", {"size_bytes": len(second), "replaced": True}),
        ("cv.viewed", {"download": False}),
        ("cv.removed", {}),
    ]
    assert {e.subject for e in logged} == {f"interview:{a.interview_id}"}
    assert not any("Quartermaine" in json.dumps(e.data) for e in logged)


def test_only_a_whole_pdf_is_kept_whatever_its_name_or_declared_type(world: World) -> None:
    a = world.a
    recruiter = world.staff(a, "recruiter")
    url = f"/api/v1/interviews/{a.interview_id}/cv"
    html = b"<html><script>alert(document.cookie)</script></html>"

    refused = {
        "html named cv.pdf": recruiter.put(url, content=html, headers=PDF_HEADERS),
        "a PDF declared as text": recruiter.put(
            url, content=minimal_pdf(), headers={"Content-Type": "text/plain"}),
        "a PDF cut off": recruiter.put(url, content=minimal_pdf()[:200], headers=PDF_HEADERS),
        "nothing": recruiter.put(url, content=b"", headers=PDF_HEADERS),
    }

    codes = {k: (r.status_code, r.json()["error"]["code"]) for k, r in refused.items()}
    assert codes == {
        "html named cv.pdf": (415, "not_pdf"),
        "a PDF declared as text": (415, "not_pdf"),
        "a PDF cut off": (422, "truncated_pdf"),
        "nothing": (422, "empty_upload"),
    }
    assert "not a PDF" in refused["html named cv.pdf"].json()["error"]["message"]
    assert recruiter.get(url).json() is None and _cv_files(a.interview_id) == []
    assert _events("cv.") == []


async def _put_cv(world: World, token: str, *, declared: int | None) -> tuple[int, int]:
    """PUT a CV straight through the ASGI app, feeding the body 64 KiB at a time for as long
    as it is asked for; the response status and how many bytes the app pulled."""
    pulled = 0
    headers = [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode()),
               (b"content-type", b"application/pdf")]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    path = f"/api/v1/interviews/{world.a.interview_id}/cv"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "PUT",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        part = b"%PDF-" if pulled == 0 else b"\0" * 65536
        pulled += len(part)
        return {"type": "http.request", "body": part, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await world.app(scope, receive, send)  # type: ignore[operator]
    return sent[0]["status"], pulled


def test_an_oversized_cv_is_refused_without_reading_it_whole(world: World) -> None:
    token = world.client().post("/api/v1/auth/login", json={
        "email": world.a.emails["recruiter"], "password": PASSWORD}).json()["token"]
    limit = get_settings().max_cv_bytes

    declared = asyncio.run(_put_cv(world, token, declared=limit + 1))
    undeclared = asyncio.run(_put_cv(world, token, declared=None))  # chunked: no length given

    assert declared == (413, 0)  # refused on the declared length, before a byte was read
    status, pulled = undeclared
    assert status == 413 and limit < pulled <= limit + 65536  # stopped once past the limit
    assert _cv_files(world.a.interview_id) == [] and _events("cv.") == []


def test_notes_are_listed_newest_first_and_only_their_author_deletes_one(world: World) -> None:
    a = world.a
    recruiter, admin = world.staff(a, "recruiter"), world.staff(a, "admin")
    url = f"/api/v1/interviews/{a.interview_id}/notes"
    secret = "Zoë mentioned she is moving to Leeds in March."

    first = recruiter.post(url, json={"body": f"  {secret}\n"})
    second = admin.post(url, json={"body": "Second round booked for Tuesday."})
    empty = recruiter.post(url, json={"body": " \n "})
    too_long = recruiter.post(url, json={"body": "x" * 5001})

    assert first.status_code == second.status_code == 201, first.text
    assert first.json()["body"] == secret and first.json()["author_name"] == "Recruiter"
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty_note"
    assert empty.json()["error"]["message"] == "Write something before adding the note."
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "note_too_long"
    listed = recruiter.get(url).json()
    assert [(n["body"], n["author_name"], n["mine"]) for n in listed] == [
        ("Second round booked for Tuesday.", "Admin", False), (secret, "Recruiter", True)]
    assert [n["mine"] for n in admin.get(url).json()] == [True, False]

    mine, theirs = first.json()["id"], second.json()["id"]
    refused = recruiter.delete(f"{url}/{theirs}")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_your_note"
    assert admin.delete(f"{url}/{mine}").status_code == 403  # an admin is no exception
    assert recruiter.delete(f"{url}/{mine}").status_code == 204
    assert recruiter.delete(f"{url}/{mine}").status_code == 404
    assert [n["id"] for n in recruiter.get(url).json()] == [theirs]
    other_interview = f"/api/v1/interviews/{world.b.interview_id}/notes/{theirs}"
    assert world.staff(world.b, "recruiter").delete(other_interview).status_code == 404

    logged = _events("note.")
    assert [(e.action, e.data) for e in logged] == [
        ("note.added", {"note_id": mine}), ("note.added", {"note_id": theirs}),
        ("note.removed", {"note_id": mine})]
    with unit_of_work() as session:
        entries = [json.dumps(e.data, ensure_ascii=False) for e in session.scalars(
            select(AuditEvent))]
    assert not any("Leeds" in entry or "Tuesday" in entry for entry in entries)


def test_the_candidates_download_holds_their_cv_and_the_notes(world: World) -> None:
    a = world.a
    recruiter = world.staff(a, "recruiter")
    document = minimal_pdf()
    assert recruiter.put(f"/api/v1/interviews/{a.interview_id}/cv", content=document,
                         headers=PDF_HEADERS).status_code == 200
    assert recruiter.post(f"/api/v1/interviews/{a.interview_id}/notes",
                          json={"body": "Strong on examples."}).status_code == 201

    response = world.candidate(a).get("/api/v1/candidate/data")

    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.read("cv.pdf") == document
    data = json.loads(archive.read("my-data.json"))
    assert data["cv"]["filename"] == FILENAME and data["cv"]["file"] == "cv.pdf"
    assert [n["text"] for n in data["notes"]] == ["Strong on examples."]
    explanation = archive.read("explanation.md").decode()
    assert "Your CV, added on" in explanation and "1 note written about you" in explanation
    assert "The AI never sees them" in explanation


def test_deleting_the_candidates_data_deletes_their_cv_and_notes(world: World) -> None:
    a, b = world.a, world.b
    for org in (a, b):
        recruiter = world.staff(org, "recruiter")
        assert recruiter.put(f"/api/v1/interviews/{org.interview_id}/cv",
                             content=minimal_pdf(), headers=PDF_HEADERS).status_code == 200
        assert recruiter.post(f"/api/v1/interviews/{org.interview_id}/notes",
                              json={"body": "Call back on Monday."}).status_code == 201
    due = dt.datetime.fromisoformat(
        world.candidate(a).post("/api/v1/candidate/deletion").json()["deletion_due_at"])
    assert len(_cv_files(a.interview_id)) == 1

    assert purging.purge_interview(a.interview_id, now=due) == "purged"

    assert _cv_files(a.interview_id) == []
    with unit_of_work() as session:
        kept_cvs = session.scalars(select(CandidateCv.interview_id)).all()
        kept_notes = session.scalars(select(Note.interview_id)).all()
        (deleted,) = [e for e in session.scalars(select(AuditEvent))
                      if e.action == "candidate.data_deleted"]
    assert kept_cvs == [b.interview_id] and kept_notes == [b.interview_id]  # B's stay
    assert len(_cv_files(b.interview_id)) == 1
    assert get_storage().exists(f"answers/{b.answer_id}/answer.wav")
    # The seed's recording, its chunk (no worker runs the discard task here) and the CV.
    assert deleted.data["files"] == 3
