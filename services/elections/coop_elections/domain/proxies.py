"""Proxies: a member may let another member vote on their behalf.

Rules (statutes of the kind the cooperative uses):

* a member gives at most one proxy per election, never to themselves;
* a holder may hold at most ``max_held`` proxies (default 2), counting those
  active or already used; revoked or voided ones free the place;
* no chains: a member who gave their proxy cannot hold one, and a holder
  cannot give theirs away while holding (each vote stays traceable to one
  person's decision);
* the giver may revoke until the holder has used it;
* the giver voting themselves voids the proxy. If the holder already used it,
  the giver's own ballot is cast under the giver's voter key and so
  supersedes the proxy ballot in the ballot box (last vote counts); the book
  reports that so the caller can tell the giver.
* once the giver voted, no proxy can be given or used for them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from coop_domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

DEFAULT_MAX_HELD = 2


class ProxyStatus(StrEnum):
    """Life cycle of a proxy."""

    ACTIVE = "active"
    USED = "used"
    REVOKED = "revoked"
    VOIDED = "voided"  # the giver voted themselves


@dataclass(frozen=True)
class Proxy:
    """One proxy, as recorded."""

    giver: str
    holder: str
    status: ProxyStatus = ProxyStatus.ACTIVE


class ProxyBook:
    """All proxies of one election (pure aggregate; persistence is the caller's)."""

    def __init__(self, max_held: int = DEFAULT_MAX_HELD) -> None:
        if max_held < 0:
            raise InvalidArgument("the proxy cap must not be negative")
        self.max_held = max_held
        self._by_giver: dict[str, Proxy] = {}  # current (active or used) proxy per giver
        self._history: list[Proxy] = []  # revoked / voided ones, for the record
        self._voted_self: set[str] = set()

    # -- queries ------------------------------------------------------------
    def proxy_of(self, giver: str) -> Proxy | None:
        """The giver's active or used proxy, if any."""
        return self._by_giver.get(giver)

    def held_by(self, holder: str) -> list[Proxy]:
        """Proxies counting against the holder's cap (active or used)."""
        return [p for p in self._by_giver.values() if p.holder == holder]

    def usable_by(self, holder: str) -> list[str]:
        """Givers the holder may still vote for."""
        return [p.giver for p in self.held_by(holder) if p.status is ProxyStatus.ACTIVE]

    @property
    def history(self) -> list[Proxy]:
        """Revoked and voided proxies, oldest first."""
        return list(self._history)

    # -- commands -----------------------------------------------------------
    def give(self, giver: str, holder: str) -> Proxy:
        """Record a new proxy from ``giver`` to ``holder``."""
        if not giver or not holder:
            raise InvalidArgument("giver and holder are required", field="holder_id", reason="PROXY_PARTY_MISSING")
        if giver == holder:
            raise InvalidArgument("a member cannot give a proxy to themselves", field="holder_id",
                                  reason="PROXY_TO_SELF")
        if giver in self._by_giver:
            raise AlreadyExists(f"member {giver} has already given a proxy", reason="PROXY_ALREADY_GIVEN")
        if giver in self._voted_self:
            raise FailedPrecondition(f"member {giver} has already voted", reason="ALREADY_VOTED")
        if self.held_by(giver):
            raise FailedPrecondition(f"member {giver} holds proxies and cannot give theirs",
                                     reason="PROXY_HOLDER_CANNOT_GIVE")
        if holder in self._by_giver:
            raise FailedPrecondition(f"member {holder} gave their own proxy and cannot hold one", field="holder_id",
                                     reason="PROXY_GIVER_CANNOT_HOLD")
        if len(self.held_by(holder)) >= self.max_held:
            raise FailedPrecondition(
                f"member {holder} already holds the maximum of {self.max_held} proxies"
            )
        proxy = Proxy(giver, holder)
        self._by_giver[giver] = proxy
        return proxy

    def revoke(self, giver: str) -> Proxy:
        """The giver takes the proxy back; only while unused."""
        proxy = self._by_giver.get(giver)
        if proxy is None:
            raise NotFound(f"member {giver} has no proxy to revoke", reason="NO_PROXY")
        if proxy.status is ProxyStatus.USED:
            raise FailedPrecondition("the proxy has already been used", reason="PROXY_USED")
        revoked = replace(proxy, status=ProxyStatus.REVOKED)
        del self._by_giver[giver]
        self._history.append(revoked)
        return revoked

    def use(self, holder: str, giver: str) -> Proxy:
        """The holder votes for the giver; allowed once, while active."""
        if giver in self._voted_self:
            raise FailedPrecondition(f"member {giver} has voted themselves; the proxy is void", reason="PROXY_VOIDED")
        proxy = self._by_giver.get(giver)
        if proxy is None:
            raise NotFound(f"member {giver} has no active proxy", reason="NO_PROXY")
        if proxy.holder != holder:
            raise PermissionDenied(f"member {holder} does not hold the proxy of {giver}", field="on_behalf_of",
                                   reason="NOT_PROXY_HOLDER")
        if proxy.status is ProxyStatus.USED:
            raise FailedPrecondition("the proxy has already been used", reason="PROXY_USED")
        used = replace(proxy, status=ProxyStatus.USED)
        self._by_giver[giver] = used
        return used

    def record_own_vote(self, member: str) -> Proxy | None:
        """The member voted themselves: void the proxy they gave, if any.

        Returns the voided proxy (its former status tells whether a proxy
        ballot was already cast and is now superseded), or None.
        """
        self._voted_self.add(member)
        proxy = self._by_giver.pop(member, None)
        if proxy is None:
            return None
        self._history.append(replace(proxy, status=ProxyStatus.VOIDED))
        return proxy
