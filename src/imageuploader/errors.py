"""Domain errors raised by services; the web layer maps them to HTTP statuses."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal a person can understand; `status_code` is its HTTP meaning."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    status_code = 403


class Unavailable(DomainError):
    status_code = 503
