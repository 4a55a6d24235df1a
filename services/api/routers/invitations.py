"""A role's open link (staff create and disable it; anyone opens it) and extending an invitation.

The open link's token travels in the request body, never in a path a server log keeps.
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request, Response

from services.api import schemas
from services.api.deps import DbSession, Recruiting, SettingsDep, client_of
from services.core.interviews import open_links, reminders
from services.core.interviews.orm import OpenLink
from services.core.organisations import service as organisations
from services.core.roles import service as roles
from services.core.settings import Settings

router = APIRouter()


def _link_out(settings: Settings, link: OpenLink) -> dict[str, object]:
    return {
        "id": link.id,
        "url": open_links.link_url(settings, link),
        "state": open_links.state_of(link),
        "expires_at": link.expires_at,
        "max_candidates": link.max_candidates,
        "candidates": link.candidates,
        "created_at": link.created_at,
        "disabled_at": link.disabled_at,
    }


@router.get(
    "/roles/{role_id}/open-link", response_model=schemas.OpenLinkOut | None, tags=["invitations"]
)
def get_open_link(
    role_id: str, staff: Recruiting, session: DbSession, settings: SettingsDep
) -> dict[str, object] | None:
    """The role's latest open link, or null when it never had one."""
    link = open_links.current_link(session, role_id=role_id)
    return _link_out(settings, link) if link else None


@router.post(
    "/roles/{role_id}/open-link",
    response_model=schemas.OpenLinkOut,
    status_code=201,
    tags=["invitations"],
)
def create_open_link(
    role_id: str,
    body: schemas.OpenLinkIn,
    staff: Recruiting,
    session: DbSession,
    settings: SettingsDep,
) -> dict[str, object]:
    """A link anyone may open to get an interview of their own; the previous one stops working."""
    link = open_links.create_link(
        session,
        org_id=staff.org_id,
        actor_id=staff.user.id,
        role_id=role_id,
        expires_in_days=body.expires_in_days,
        max_candidates=body.max_candidates,
    )
    return _link_out(settings, link)


@router.delete("/roles/{role_id}/open-link", status_code=204, tags=["invitations"])
def disable_open_link(role_id: str, staff: Recruiting, session: DbSession) -> Response:
    """Close the role's open link (nothing happens when it has none open)."""
    open_links.disable_link(session, actor_id=staff.user.id, role_id=role_id)
    return Response(status_code=204)


@router.post("/candidate/open-link", response_model=schemas.OpenLinkRoleOut, tags=["candidate"])
def describe_open_link(
    body: schemas.OpenLinkTokenIn, request: Request, session: DbSession
) -> dict[str, object]:
    """What someone who opened the link is applying for (404, or 410 once it is closed)."""
    link = open_links.resolve(session, token=body.token, client=client_of(request))
    role = roles.get_role(session, role_id=link.role_id)
    organisation = organisations.get_organisation(session, org_id=link.org_id)
    return {
        "organisation": organisation.name,
        "role_title": role.title,
        "role_description": role.description,
        "questions": len(role.script),
        "contact_email": organisation.contact_email,
    }


@router.post(
    "/candidate/open-link/join", response_model=schemas.OpenLinkJoinOut, tags=["candidate"]
)
def join_open_link(
    body: schemas.OpenLinkJoinIn, request: Request, session: DbSession, settings: SettingsDep
) -> dict[str, object]:
    """An interview of one's own; an email already invited to the role gets its link by email."""
    joined = open_links.join(
        session, settings=settings, token=body.token, name=body.name, email=str(body.email),
        client=client_of(request),
    )
    return {
        "invite_token": joined.invite_token,
        "message": "We have emailed you the link to your interview.",
    }


@router.post(
    "/interviews/{interview_id}/invitation/extend",
    response_model=schemas.InvitationExtendOut,
    tags=["interviews"],
)
def extend_invitation(
    interview_id: str,
    body: schemas.InvitationExtendIn,
    staff: Recruiting,
    session: DbSession,
    settings: SettingsDep,
) -> dict[str, object]:
    """More days to answer; the link is emailed to the candidate again, the change logged."""
    extended = reminders.extend_invitation(
        session,
        settings=settings,
        actor_id=staff.user.id,
        interview_id=interview_id,
        days=body.days,
        reason=body.reason,
    )
    return asdict(extended)
