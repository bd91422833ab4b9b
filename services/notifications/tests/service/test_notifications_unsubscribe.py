"""The one-click unsubscribe link of a non-legal mail (RFC 8058): a POST opts the member out of
that category, no login; a forged link or a legal category is refused."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from notif_helpers import seed_member

from coop_notifications.domain.links import unsubscribe_url
from coop_notifications.entrypoints import unsubscribe_http
from coop_testkit import free_port

SECRET = b"test-secret"


@pytest.fixture()
def endpoint(env):
    port = free_port()
    server = unsubscribe_http.serve(port, unsubscribe_http.app(env.uow_factory, SECRET, env.clock))
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def _post(base: str, link: str, method: str = "POST") -> int:
    parts = urlsplit(link)
    request = urllib.request.Request(f"{base}{parts.path}?{parts.query}", data=b"List-Unsubscribe=One-Click",
                                     method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - local test endpoint
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_signed_link_opts_the_member_out_of_its_category(env, endpoint) -> None:
    mid = seed_member(env)
    assert _post(endpoint, unsubscribe_url("https://x.example", SECRET, "coop", mid, "elections")) == 200
    with env.uow_factory() as uow:
        assert uow.preferences.of_member("coop", mid)["elections"].opted_out


def test_forged_links_legal_categories_and_other_methods_are_refused(env, endpoint) -> None:
    mid = seed_member(env)
    forged = unsubscribe_url("https://x.example", b"wrong", "coop", mid, "elections")
    assert _post(endpoint, forged) == 403
    assert _post(endpoint, unsubscribe_url("https://x.example", SECRET, "coop", mid, "legal")) == 409
    assert _post(endpoint, unsubscribe_url("https://x.example", SECRET, "coop", mid, "spam")) == 400
    assert _post(endpoint, unsubscribe_url("https://x.example", SECRET, "coop", mid, "board"), "GET") == 405
    with env.uow_factory() as uow:
        assert uow.preferences.of_member("coop", mid) == {}
