"""Webhooks to applicant tracking systems (admins): register, list, deactivate, log, ping."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.api.deps import AdminOnly, DbSession, PublisherDep
from services.api.schemas import Out
from services.core.webhooks import service as webhooks
from services.core.webhooks.orm import WebhookDelivery, WebhookEndpoint

router = APIRouter(tags=["webhooks"])

Event = Literal["interview.completed", "interview.scored"]


class WebhookIn(BaseModel):
    url: str = Field(min_length=8, max_length=2000)
    events: list[Event] = Field(min_length=1)


class WebhookOut(Out):
    id: str
    url: str
    events: list[str]
    active: bool
    created_at: dt.datetime


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="Shown only now: keep it to verify X-Parley-Signature.")


class DeliveryOut(Out):
    id: str
    endpoint_id: str
    event: str
    payload: dict[str, object]
    state: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime


@router.post("/webhooks", response_model=WebhookCreatedOut, status_code=201)
def create_webhook(body: WebhookIn, staff: AdminOnly, session: DbSession) -> WebhookEndpoint:
    return webhooks.create_endpoint(
        session, org_id=staff.org_id, actor=staff.actor, url=body.url, events=body.events
    )


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(staff: AdminOnly, session: DbSession) -> list[WebhookEndpoint]:
    return webhooks.endpoints(session)


@router.delete("/webhooks/{webhook_id}", response_model=WebhookOut)
def deactivate_webhook(webhook_id: str, staff: AdminOnly, session: DbSession) -> WebhookEndpoint:
    return webhooks.deactivate_endpoint(session, actor=staff.actor, endpoint_id=webhook_id)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    webhook_id: str, staff: AdminOnly, session: DbSession,
    limit: int = Query(50, ge=1, le=500),
) -> list[WebhookDelivery]:
    return webhooks.deliveries(session, endpoint_id=webhook_id, limit=limit)


@router.post("/webhooks/{webhook_id}/test", response_model=DeliveryOut, status_code=202)
def ping_webhook(
    webhook_id: str, staff: AdminOnly, session: DbSession, publisher: PublisherDep
) -> WebhookDelivery:
    return webhooks.send_ping(session, publisher=publisher, endpoint_id=webhook_id)
