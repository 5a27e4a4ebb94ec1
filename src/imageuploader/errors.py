"""Every refusal the services raise, by kind; `web.errors` maps each kind to HTTP once.

Errors here know nothing of HTTP: the CLI prints the same `detail`, a worker
records it on a rendition, and only the web layer turns a kind into a status.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refusal a person can understand; `detail` says what was wrong."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    """The request was understood but a value in it is not acceptable."""


class NotFound(DomainError):
    """No such thing, or not the caller's (the two look alike on purpose)."""


class Conflict(DomainError):
    """The change clashes with what exists (a taken name, a plan still in use)."""


class Forbidden(DomainError):
    """The caller is known, but their role or plan does not allow this."""


class Gone(DomainError):
    """It existed and will not come back (an expired link)."""


class TooLarge(DomainError):
    """The upload has more bytes than allowed."""


class Unsupported(DomainError):
    """A kind of input the service does not take at all (a PDF sent as an image)."""


class Unavailable(DomainError):
    """A dependency (storage, the queue) cannot be used right now; nothing was changed."""


class Busy(Unavailable):
    """Too much work at once; `retry_after` says in how many seconds to try again."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
