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


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 8058 one-click headers (non-legal mail only)."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
