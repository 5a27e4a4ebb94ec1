"""One place mapping domain errors and auth failures to JSON or HTML responses."""

from __future__ import annotations

import logging
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from imageuploader import errors

log = logging.getLogger(__name__)

# Each kind of refusal and its HTTP status; a subclass takes its nearest kind's.
STATUS_OF: dict[type[errors.DomainError], int] = {
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Forbidden: 403,
    errors.Gone: 410,
    errors.TooLarge: 413,
    errors.Unsupported: 415,
    errors.Unavailable: 503,
    errors.DomainError: 400,
}


def status_of(exc: errors.DomainError) -> int:
    """The HTTP status of a domain error: its first kind, in method resolution order."""
    return next(STATUS_OF[kind] for kind in type(exc).__mro__ if kind in STATUS_OF)


API_PREFIXES = ("/api/", "/media/", "/s/", "/health", "/schema", "/metrics")


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(API_PREFIXES) or "text/html" not in request.headers.get("accept", "")


def _render(request: Request, status_code: int, detail: str) -> Response:
    if wants_json(request):
        return Response(
            {"status_code": status_code, "detail": detail},
            status_code=status_code,
            media_type=MediaType.JSON,
        )
    template = "errors/_message.html" if request.headers.get("hx-request") else "errors/error.html"
    return Template(
        template_name=template,
        context={"status_code": status_code, "detail": detail},
        status_code=status_code,
    )


def domain_error_handler(request: Request, exc: errors.DomainError) -> Response:
    response = _render(request, status_of(exc), exc.detail)
    if isinstance(exc, errors.Busy):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


# Litestar's session middleware words a missing login in its own terms.
_LITESTAR_NO_SESSION = ("no session data found", "Unauthorized")
LOGIN_NEEDED = "Log in, or send an API token as 'Authorization: Bearer <token>'."


def not_authorized_handler(request: Request, exc: NotAuthorizedException) -> Response:
    if wants_json(request):
        detail = LOGIN_NEEDED if exc.detail in _LITESTAR_NO_SESSION else exc.detail
        return _render(request, exc.status_code, detail)
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if request.headers.get("hx-request"):
        # A full redirect inside an htmx swap would paste the login page into a fragment.
        return Response(b"", status_code=401, headers={"HX-Redirect": f"/login?next={target}"})
    return Redirect(path=f"/login?next={target}")


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 413:
        limit = request.app.state.settings.max_upload_bytes
        exc.detail = f"The upload is too large: the limit is {limit:,} bytes."
    if exc.status_code >= 500:
        log.error("HTTP %s on %s: %s", exc.status_code, request.url.path, exc.detail)
    if wants_json(request):
        body: dict = {"status_code": exc.status_code, "detail": exc.detail}
        if exc.extra:
            body["extra"] = exc.extra
        return Response(
            body, status_code=exc.status_code, media_type=MediaType.JSON, headers=exc.headers
        )
    response = _render(request, exc.status_code, exc.detail)
    # Pages keep the headers too (Retry-After on 429, Allow on 405).
    response.headers.update(exc.headers or {})
    return response


def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _render(request, HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error.")


def exception_handlers() -> dict:
    return {
        errors.DomainError: domain_error_handler,
        NotAuthorizedException: not_authorized_handler,
        HTTPException: http_error_handler,
        Exception: unexpected_error_handler,
    }
