"""JSON API for a user's webhooks: register, list, delete, and recent delivery attempts."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from imageuploader.accounts.users import CurrentUser
from imageuploader.webhooks.schemas import DeliveryOut, WebhookCreated, WebhookIn, WebhookOut
from imageuploader.webhooks.service import WebhookService


class WebhooksController(Controller):
    path = "/api/webhooks"
    tags = ["webhooks"]

    @post(status_code=HTTP_201_CREATED)
    async def create(
        self,
        request: Request[CurrentUser, Any, Any],
        data: JSONBody[WebhookIn],
        webhooks: NamedDependency[WebhookService],
    ) -> WebhookCreated:
        """Register a URL for events; the answer carries the signing secret, this once."""
        return await webhooks.create(request.user, data)

    @get()
    async def list(
        self, request: Request[CurrentUser, Any, Any], webhooks: NamedDependency[WebhookService]
    ) -> list[WebhookOut]:
        return await webhooks.list(request.user)

    @delete("/{webhook_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def delete(
        self,
        request: Request[CurrentUser, Any, Any],
        webhook_id: FromPath[int],
        webhooks: NamedDependency[WebhookService],
    ) -> None:
        await webhooks.delete(request.user, webhook_id)

    @get("/{webhook_id:int}/deliveries")
    async def deliveries(
        self,
        request: Request[CurrentUser, Any, Any],
        webhook_id: FromPath[int],
        webhooks: NamedDependency[WebhookService],
    ) -> list[DeliveryOut]:
        """Recent delivery attempts, newest first."""
        return await webhooks.deliveries(request.user, webhook_id)
