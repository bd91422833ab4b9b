"""Links a message carries: the signed one-click unsubscribe (RFC 8058) and the inbox link."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode


def unsubscribe_signature(secret: bytes, tenant: str, member_id: str, category: str) -> str:
    return hmac.new(secret, f"{tenant}\x1f{member_id}\x1f{category}".encode(), hashlib.sha256).hexdigest()[:32]


def unsubscribe_url(base_url: str, secret: bytes, tenant: str, member_id: str, category: str) -> str:
    """An https link that opts the member out of one category when POSTed to (no login: the
    signature is the proof)."""
    query = urlencode({"t": tenant, "m": member_id, "c": category,
                       "s": unsubscribe_signature(secret, tenant, member_id, category)})
    return f"{base_url.rstrip('/')}/unsubscribe?{query}"


def check_unsubscribe(secret: bytes, tenant: str, member_id: str, category: str, signature: str) -> bool:
    return hmac.compare_digest(unsubscribe_signature(secret, tenant, member_id, category), signature)


#: the portal page each id of a context leads to: (context key of the id, link key, path)
_PAGES = (
    ("election_id", "vote_url", "elections/{}/vote"),
    ("election_id", "results_url", "elections/{}/results"),
    ("assembly_id", "register_url", "assembly/{}/register"),
    ("question_id", "question_url", "questions/{}"),
    ("initiative_id", "initiative_url", "initiatives/{}"),
    ("meeting_id", "meeting_url", "board/meetings/{}"),
    ("minutes_id", "minutes_url", "board/minutes/{}"),
    ("decision_id", "decision_url", "board/decisions/{}"),
)


def portal_links(portal_url: str, context: dict, wanted: tuple[str, ...]) -> dict[str, str]:
    """The portal links a notification's context documents (catalog keys ending in _url)."""
    base = portal_url.rstrip("/")
    return {link: f"{base}/{path.format(context[key])}" for key, link, path in _PAGES
            if link in wanted and context.get(key)}


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 8058 one-click headers (non-legal mail only)."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
