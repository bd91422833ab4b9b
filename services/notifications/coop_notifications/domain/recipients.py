"""Recipients: what this service knows of a member to reach them (contact, language, status).

A projection of membership's events (`coop_domain.membership` facts). Events of different
types arrive in any order, so each group of values keeps the time of the event that set it and
only a newer event replaces it. An erasure empties the contact data for good: the pseudonymous
member id (and the status, which says nothing personal) stays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from coop_domain.membership import MemberChanged, MemberErased, MemberFact

LANGUAGES = ("fr", "nl", "en")
DEFAULT_LANGUAGE = "fr"


def language_of(preferred: str | None) -> str:
    """The language a member is written to: theirs when we have templates in it, else French
    (the cooperative's first language)."""
    value = (preferred or "").strip().lower()[:2]
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Recipient:
    tenant: str
    member_id: str
    member_number: str | None = None
    given_name: str | None = None
    email: str | None = None
    language: str | None = None
    status: str | None = None
    in_good_standing: bool | None = None
    erased: bool = False
    contact_as_of: datetime | None = None
    status_as_of: datetime | None = None
    standing_as_of: datetime | None = None

    @property
    def reachable_by_email(self) -> bool:
        return bool(self.email) and not self.erased

    @property
    def writing_language(self) -> str:
        return language_of(self.language)


def _newer(current: datetime | None, at: datetime) -> bool:
    return current is None or at >= current


def apply_fact(current: Recipient | None, tenant: str, fact: MemberFact) -> Recipient:
    """The recipient after one membership fact (pure; the newest event wins per group)."""
    r = current or Recipient(tenant=tenant, member_id=fact.member_id)
    if isinstance(fact, MemberErased):
        return replace(r, member_number=r.member_number, given_name=None, email=None, erased=True,
                       contact_as_of=fact.at if _newer(r.contact_as_of, fact.at) else r.contact_as_of)
    assert isinstance(fact, MemberChanged)
    if fact.contact is not None and not r.erased and _newer(r.contact_as_of, fact.at):
        c = fact.contact
        r = replace(r, member_number=c.member_number or r.member_number, given_name=c.given_name or None,
                    email=c.email or None, language=c.preferred_language or r.language,
                    contact_as_of=fact.at)
        if c.erased:
            r = replace(r, given_name=None, email=None, erased=True)
    if fact.status is not None and _newer(r.status_as_of, fact.at):
        r = replace(r, status=fact.status, status_as_of=fact.at)
    if fact.in_good_standing is not None and _newer(r.standing_as_of, fact.at):
        r = replace(r, in_good_standing=fact.in_good_standing, standing_as_of=fact.at)
    return r
