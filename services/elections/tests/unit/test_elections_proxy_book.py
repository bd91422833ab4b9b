"""ProxyBook: cap, revocation, voiding by own vote, no chains."""

from __future__ import annotations

import pytest

from coop_domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from coop_elections.domain.proxies import ProxyBook, ProxyStatus


def test_holder_cannot_exceed_the_default_cap_of_two() -> None:
    book = ProxyBook()
    book.give("m1", "h")
    book.give("m2", "h")
    with pytest.raises(FailedPrecondition, match="maximum of 2"):
        book.give("m3", "h")


def test_cap_is_configurable() -> None:
    book = ProxyBook(max_held=1)
    book.give("m1", "h")
    with pytest.raises(FailedPrecondition):
        book.give("m2", "h")


def test_used_proxies_still_count_against_the_cap() -> None:
    book = ProxyBook(max_held=1)
    book.give("m1", "h")
    book.use("h", "m1")
    with pytest.raises(FailedPrecondition):
        book.give("m2", "h")


def test_revoking_frees_a_place_under_the_cap() -> None:
    book = ProxyBook(max_held=1)
    book.give("m1", "h")
    revoked = book.revoke("m1")
    assert revoked.status is ProxyStatus.REVOKED
    book.give("m2", "h")
    assert book.usable_by("h") == ["m2"]


def test_proxy_can_be_revoked_until_used_but_not_after() -> None:
    book = ProxyBook()
    book.give("m1", "h")
    book.use("h", "m1")
    with pytest.raises(FailedPrecondition, match="already been used"):
        book.revoke("m1")


def test_revoking_without_a_proxy_is_not_found() -> None:
    with pytest.raises(NotFound):
        ProxyBook().revoke("m1")


def test_member_gives_only_one_proxy_and_never_to_themselves() -> None:
    book = ProxyBook()
    with pytest.raises(InvalidArgument):
        book.give("m1", "m1")
    book.give("m1", "h1")
    with pytest.raises(AlreadyExists):
        book.give("m1", "h2")


def test_only_the_holder_may_use_a_proxy_and_only_once() -> None:
    book = ProxyBook()
    book.give("m1", "h")
    with pytest.raises(PermissionDenied):
        book.use("intruder", "m1")
    assert book.use("h", "m1").status is ProxyStatus.USED
    with pytest.raises(FailedPrecondition):
        book.use("h", "m1")
    assert book.usable_by("h") == []


def test_voting_yourself_voids_the_unused_proxy_you_gave() -> None:
    book = ProxyBook()
    book.give("m1", "h")
    voided = book.record_own_vote("m1")
    assert voided is not None and voided.status is ProxyStatus.ACTIVE  # former status
    assert book.proxy_of("m1") is None
    assert book.history[-1].status is ProxyStatus.VOIDED
    with pytest.raises(FailedPrecondition, match="void"):
        book.use("h", "m1")
    book.give("m2", "h")
    book.give("m3", "h")  # the voided proxy no longer takes a place


def test_voting_yourself_after_the_proxy_was_used_reports_it_as_used() -> None:
    book = ProxyBook()
    book.give("m1", "h")
    book.use("h", "m1")
    voided = book.record_own_vote("m1")
    assert voided is not None and voided.status is ProxyStatus.USED


def test_own_vote_without_a_proxy_voids_nothing_and_blocks_later_proxies() -> None:
    book = ProxyBook()
    assert book.record_own_vote("m1") is None
    with pytest.raises(FailedPrecondition, match="already voted"):
        book.give("m1", "h")


def test_proxies_cannot_be_chained() -> None:
    book = ProxyBook()
    book.give("m1", "h")
    with pytest.raises(FailedPrecondition, match="holds proxies"):
        book.give("h", "other")
    with pytest.raises(FailedPrecondition, match="gave their own proxy"):
        book.give("m2", "m1")
