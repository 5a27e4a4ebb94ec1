"""Security headers on every response: CSP, nosniff, referrer and framing policies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.types import Message, Scope

from imageuploader.settings import Settings

# Only our own scripts and styles: htmx is vendored under /static, and no page
# carries inline script, inline style or an event-handler attribute.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# The interactive API docs Litestar renders at /schema load their viewer from a
# CDN and start it with an inline script. They show no user data, so this
# narrower exception is confined to those pages; everything else, the JSON
# schema included, gets the strict policy.
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://cdn.redoc.ly "
        "https://unpkg.com",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com "
        "https://unpkg.com",
        "font-src 'self' data: https://fonts.gstatic.com https://cdn.jsdelivr.net",
        "img-src 'self' data: blob: https://cdn.jsdelivr.net https://cdn.redoc.ly",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)

BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
# Production runs behind TLS (docs/production.md); browsers ignore it over plain HTTP.
HSTS = "max-age=31536000; includeSubDomains"


def _is_docs_page(path: str) -> bool:
    return path.startswith("/schema") and not path.endswith((".json", ".yaml", ".yml"))


def content_security_policy(media_origin: str | None) -> str:
    """The pages' policy; images may also come from where media redirects lead."""
    if not media_origin:
        return CONTENT_SECURITY_POLICY
    scheme, _, host = media_origin.partition("://")
    # AWS serves presigned URLs from BUCKET.<host> (virtual-host style).
    extra = f"{media_origin} {scheme}://*.{host}"
    return CONTENT_SECURITY_POLICY.replace(
        "img-src 'self' data: blob:", f"img-src 'self' data: blob: {extra}"
    )


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


CSP = b"content-security-policy"


def security_headers(
    settings: Settings, media_origin: str | None = None
) -> Callable[[Message, Scope], Awaitable[None]]:
    """A `before_send` hook: it sees every response, errors and 404s included.

    `media_origin`: the S3 origin /media redirects to, if it does. It runs on
    every response, so it works on the raw header list, encoded once."""
    headers = dict(BASE_HEADERS)
    if settings.production:
        headers["Strict-Transport-Security"] = HSTS
    encoded = _encoded(headers)
    page_policy = (CSP, content_security_policy(media_origin).encode("latin-1"))
    docs_policy = (CSP, DOCS_POLICY.encode("latin-1"))

    async def add_headers(message: Message, scope: Scope) -> None:
        # A 304 updates a response the client holds, which came with these already;
        # RFC 9110 15.4.5 asks for no more than what updates it.
        if message["type"] != "http.response.start" or message["status"] == 304:
            return
        out = message.get("headers")
        if not isinstance(out, list):
            out = message["headers"] = list(out or ())
        present = {name.lower() for name, _ in out}
        # A handler that chose its own value (e.g. media's nosniff) keeps it.
        out.extend(header for header in encoded if header[0] not in present)
        if CSP not in present:
            docs = _is_docs_page(scope.get("path", ""))
            out.append(docs_policy if docs else page_policy)

    return add_headers
