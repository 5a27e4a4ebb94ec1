"""What the accounts services publish when the catalogue or a user changes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlanGainedSizes:
    """A plan now lists sizes it did not: its users' images lack those renditions."""

    plan: str
    slugs: tuple[str, ...]


@dataclass(frozen=True)
class PlanGainedFormats:
    """A plan now lists output formats it did not: its users' renditions lack those variants."""

    plan: str
    formats: tuple[str, ...]


@dataclass(frozen=True)
class UserPlanChanged:
    """A user was moved to another plan."""

    user_id: int
    plan: str


@dataclass(frozen=True)
class SizeChanged:
    """A size's box or fit was edited: renditions made for it before are out of date."""

    slug: str
