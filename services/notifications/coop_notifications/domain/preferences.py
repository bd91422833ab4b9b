"""Preferences: a member opts out of categories of notices; never out of legal notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coop_domain.errors import FailedPrecondition, InvalidArgument
from coop_notifications.domain.catalog import Category, NotificationSpec, Priority

#: the categories a member sees in their preferences (the digest is a frequency, not a category)
CATEGORIES: tuple[Category, ...] = tuple(c for c in Category if c != Category.DIGEST)


@dataclass(frozen=True)
class Preference:
    category: str
    opted_out: bool
    updated_at: datetime | None = None


def parse_category(value: str) -> Category:
    try:
        category = Category(value)
    except ValueError:
        raise InvalidArgument(f"unknown category {value!r}; one of: {', '.join(CATEGORIES)}",
                              field="category") from None
    if category not in CATEGORIES:
        raise InvalidArgument(f"unknown category {value!r}; one of: {', '.join(CATEGORIES)}", field="category")
    return category


def check_change(category: Category, opted_out: bool) -> None:
    if category == Category.LEGAL and opted_out:
        raise FailedPrecondition("legal notices (General Assembly convocations) reach every member: they "
                                 "cannot be opted out of", reason="LEGAL_NOTICES_REQUIRED")


def complete(stored: dict[str, Preference]) -> list[Preference]:
    """Every category, the stored choice or the default (receive)."""
    return [stored.get(c.value, Preference(c.value, False)) for c in CATEGORIES]


def wanted(spec: NotificationSpec, opted_out: set[str]) -> bool:
    """Whether a member with these opt-outs gets this notification (legal: always)."""
    return spec.priority == Priority.LEGAL or spec.category.value not in opted_out
