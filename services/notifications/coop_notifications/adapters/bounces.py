"""Bounces: a VERP return path per delivery, and reading the bounces back.

VERP (variable envelope return path): each message's envelope sender is
``<local>+<token>@<domain>``, where ``token`` is the delivery key in lower-case base32 (no
padding: it survives MTAs that change the case of local parts, and holds only letters and
digits). A bounce goes back to that address; the MTA delivers every ``<local>+...`` to the one
mailbox ``<local>@<domain>`` (``recipient_delimiter = +``), and :func:`parse_verp` turns the
address the bounce was sent to back into the delivery key.
"""

from __future__ import annotations

import base64
import binascii
import re
from email.utils import parseaddr

DEFAULT_LOCAL = "bounces"
_TOKEN = re.compile(r"^[a-z2-7]+$")


def verp_address(delivery_key: str, domain: str, local: str = DEFAULT_LOCAL) -> str:
    """The return path that identifies one delivery: ``bounces+<base32(key)>@domain``."""
    if not delivery_key:
        raise ValueError("an empty delivery key")
    if "+" in local or "@" in local or not local:
        raise ValueError(f"bad local part for a VERP address: {local!r}")
    token = base64.b32encode(delivery_key.encode("utf-8")).decode("ascii").rstrip("=").lower()
    return f"{local}+{token}@{domain.lower()}"


def parse_verp(address: str, domain: str | None = None, local: str = DEFAULT_LOCAL) -> str | None:
    """The delivery key of a VERP return path, or None when ``address`` is not one of ours."""
    addr = parseaddr(address)[1] or address.strip().strip("<>")
    local_part, at, addr_domain = addr.rpartition("@")
    if not at or (domain is not None and addr_domain.lower() != domain.lower()):
        return None
    prefix, plus, token = local_part.partition("+")
    token = token.lower()
    if not plus or prefix.lower() != local.lower() or not _TOKEN.match(token):
        return None
    try:
        raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8))
        return raw.decode("utf-8") or None
    except (binascii.Error, UnicodeDecodeError):
        return None
