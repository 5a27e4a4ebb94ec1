"""The webhooks page: the caller's endpoints with their recent deliveries, add and delete.

Thin handlers over WebhookService, as the JSON API; htmx gets the section
fragment back, a plain form post the whole page (after adding, with the
secret shown this once) or a redirect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from imageuploader.accounts.users import CurrentUser
from imageuploader.errors import InvalidInput
from imageuploader.webhooks.schemas import EVENTS, DeliveryOut, WebhookCreated, WebhookIn
from imageuploader.webhooks.service import WebhookService

# Not generic: request.user is the CurrentUser that web.auth put there.
Req = HTMXRequest
Form = URLEncodedBody[dict[str, Any]]
RECENT = 5
TIME = "%Y-%m-%d %H:%M:%S UTC"


@dataclass(frozen=True)
class DeliveryView:
    time: str
    iso: str
    event: str
    attempt: int
    status: str
    response: str


@dataclass(frozen=True)
class WebhookView:
    id: int
    url: str
    events: list[str]
    created: str
    deliveries: list[DeliveryView]


def _delivery(d: DeliveryOut) -> DeliveryView:
    response = str(d.response_code) if d.response_code is not None else (d.error or "")
    return DeliveryView(
        time=d.attempted_at.strftime(TIME),
        iso=d.attempted_at.isoformat(),
        event=d.event,
        attempt=d.attempt,
        status=d.status,
        response=response,
    )


async def _context(
    user: CurrentUser,
    webhooks: WebhookService,
    message: str | None = None,
    created: WebhookCreated | None = None,
) -> dict[str, Any]:
    views = [
        WebhookView(
            id=h.id,
            url=h.url,
            events=h.events,
            created=h.created_at.strftime(TIME),
            deliveries=[_delivery(d) for d in await webhooks.deliveries(user, h.id, RECENT)],
        )
        for h in await webhooks.list(user)
    ]
    return {
        "user": user,
        "hooks": views,
        "event_names": EVENTS,
        "message": message,
        "created": created,
    }


def _values(form: dict[str, Any], name: str) -> list[str]:
    value = form.get(name, [])
    return [str(v).strip() for v in (value if isinstance(value, list) else [value])]


def _webhook_id(form: dict[str, Any]) -> int:
    raw = _values(form, "id")
    try:
        return int(raw[-1])
    except (IndexError, ValueError):
        raise InvalidInput("id: missing or not a number.") from None


class WebhookPages(Controller):
    path = "/webhooks"
    include_in_schema = False
    request_class = HTMXRequest

    @get()
    async def page(self, request: Req, webhooks: NamedDependency[WebhookService]) -> Template:
        context = await _context(request.user, webhooks)
        return Template("pages/webhooks.html", context=context)

    @post(status_code=200)
    async def create(
        self, request: Req, data: Form, webhooks: NamedDependency[WebhookService]
    ) -> Template:
        url = (_values(data, "url") or [""])[-1]
        created = await webhooks.create(
            request.user, WebhookIn(url=url, events=[e for e in _values(data, "events") if e])
        )
        message = f"Webhook to {created.url} added."
        context = await _context(request.user, webhooks, message, created)
        page = "fragments/_webhooks.html" if request.htmx else "pages/webhooks.html"
        return Template(page, context=context)

    @post("/delete", status_code=200)
    async def delete(
        self, request: Req, data: Form, webhooks: NamedDependency[WebhookService]
    ) -> Template | Redirect:
        await webhooks.delete(request.user, _webhook_id(data))
        if not request.htmx:
            return Redirect("/webhooks", status_code=HTTP_303_SEE_OTHER)
        context = await _context(request.user, webhooks, "Webhook deleted.")
        return Template("fragments/_webhooks.html", context=context)
