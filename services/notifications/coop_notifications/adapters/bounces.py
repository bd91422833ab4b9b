"""Bounces: a VERP return path per delivery, and reading the bounces back.

VERP (variable envelope return path): each message's envelope sender is
``<local>+<token>@<domain>``, where ``token`` is the delivery key in lower-case base32 (no
padding: it survives MTAs that change the case of local parts, and holds only letters and
digits; a hex key is encoded from its bytes, see :func:`verp_address`). A bounce goes back to that address; the MTA delivers every ``<local>+...`` to the one
mailbox ``<local>@<domain>`` (``recipient_delimiter = +``), and :func:`parse_verp` turns the
address the bounce was sent to back into the delivery key.

Reading: :class:`ImapBounceReader` takes the unseen messages of the bounce mailbox
(``COOP_BOUNCE_IMAP_URL``) and :func:`parse_bounce` reads each with flufl.bounce (Mailman's
bounce detectors, maintained: 6.0 of 2026): which addresses failed, permanently or not. The
caller marks the delivery bounced and suppresses the address on a permanent failure.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email
import email.policy
import imaplib
import os
import re
import ssl
from dataclasses import dataclass
from email.message import Message
from email.utils import parseaddr

from flufl.bounce import all_failures

from coop_notifications.adapters.mail_url import parse_mail_url

DEFAULT_LOCAL = "bounces"
_TOKEN = re.compile(r"^0?[a-z2-7]+$")
_HEX_KEY = re.compile(r"^(?:[0-9a-f]{2})+$")


def verp_address(delivery_key: str, domain: str, local: str = DEFAULT_LOCAL) -> str:
    """The return path that identifies one delivery: ``bounces+<token>@domain``.

    ``token`` is ``0`` + base32 of the bytes of a lower-case hex key (core's keys are uuid5 hex:
    27 characters, so the local part stays well under RFC 5321's 64), else base32 of the key's
    UTF-8. ``0`` is outside base32's alphabet, so the two never collide.
    """
    if not delivery_key:
        raise ValueError("an empty delivery key")
    if "+" in local or "@" in local or not local:
        raise ValueError(f"bad local part for a VERP address: {local!r}")
    if _HEX_KEY.match(delivery_key):
        token = "0" + _b32(bytes.fromhex(delivery_key))
    else:
        token = _b32(delivery_key.encode("utf-8"))
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
        if token.startswith("0"):
            return _unb32(token[1:]).hex() or None
        return _unb32(token).decode("utf-8") or None
    except (binascii.Error, UnicodeDecodeError):
        return None


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _unb32(token: str) -> bytes:
    return base64.b32decode(token.upper() + "=" * (-len(token) % 8))


# --- parsing a bounce ------------------------------------------------------------------------

@dataclass(frozen=True)
class Bounce:
    """What a non-delivery report says about one of our deliveries.

    ``delivery_key``: from the VERP address the report was sent to (``Delivered-To`` /
    ``X-Original-To`` / ``To``), else from the ``X-Coop-Delivery`` header of the returned message
    (None when neither names one of ours). ``permanent`` / ``temporary``: the failed addresses as
    flufl.bounce reads them (its detectors cover DSNs, Postfix, Exim, qmail, Exchange and many
    more). ``status`` and ``diagnostic``: the DSN fields (RFC 3464) of the first failed recipient.
    """

    delivery_key: str | None
    permanent: frozenset[str]
    temporary: frozenset[str]
    status: str = ""
    diagnostic: str = ""

    @property
    def is_permanent(self) -> bool:
        return bool(self.permanent)

    def failed(self, address: str) -> bool:
        return address.lower() in self.permanent | self.temporary


def parse_bounce(raw: bytes, domain: str | None = None, local: str = DEFAULT_LOCAL) -> Bounce | None:
    """The bounce in ``raw`` (an RFC 5322 message), or None when it reports no failure.

    An auto-reply, a delayed-delivery warning without a failed address, or spam sent to the
    bounce mailbox are not bounces: None.
    """
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    temporary, permanent = all_failures(message)
    if not temporary and not permanent:
        return None
    status, diagnostic = _dsn_fields(message)
    return Bounce(
        delivery_key=_delivery_key(message, domain, local),
        permanent=frozenset(_addresses(permanent)),
        temporary=frozenset(_addresses(temporary)),
        status=status,
        diagnostic=diagnostic,
    )


def _addresses(found) -> list[str]:
    return [(a.decode("utf-8", "replace") if isinstance(a, bytes) else a).lower() for a in found]


def _delivery_key(message: Message, domain: str | None, local: str) -> str | None:
    for header in ("Delivered-To", "X-Original-To", "To", "Envelope-To"):
        for value in message.get_all(header, []):
            key = parse_verp(str(value), domain, local)
            if key:
                return key
    for part in message.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if inner is None and isinstance(payload, str):
                inner = email.message_from_string(payload, policy=email.policy.compat32)
            if isinstance(inner, Message):
                if inner.get("X-Coop-Delivery"):
                    return str(inner["X-Coop-Delivery"]).strip()
                key = parse_verp(str(inner.get("Return-Path", "")), domain, local)
                if key:
                    return key
    return None


def _dsn_fields(message: Message) -> tuple[str, str]:
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in part.get_payload() or []:
            if isinstance(block, Message) and block.get("Action", "").strip().lower() == "failed":
                return (str(block.get("Status", "")).strip(),
                        " ".join(str(block.get("Diagnostic-Code", "")).split()))
    return "", ""


# --- reading the bounce mailbox over IMAP ------------------------------------------------------

@dataclass(frozen=True)
class ImapSettings:
    """``COOP_BOUNCE_IMAP_URL``: ``imap://user:password@host[:port][/mailbox]`` (STARTTLS when
    the server offers it, required unless ``?tls=none``) or ``imaps://...`` (port 993)."""

    host: str
    port: int
    username: str
    password: str
    mailbox: str = "INBOX"
    implicit_tls: bool = False
    starttls: str = "auto"
    cafile: str | None = None

    @classmethod
    def from_url(cls, url: str) -> ImapSettings:
        u = parse_mail_url(url, variable="COOP_BOUNCE_IMAP_URL", plain="imap", secure="imaps",
                           ports=(143, 993), options=frozenset({"cafile"}))
        if not u.username:
            raise ValueError("COOP_BOUNCE_IMAP_URL needs user:password@host")
        return cls(
            host=u.host, port=u.port, username=u.username, password=u.password or "",
            mailbox=u.path or "INBOX", implicit_tls=u.implicit_tls, starttls=u.starttls,
            cafile=u.options.get("cafile"),
        )


@dataclass(frozen=True)
class BounceItem:
    uid: bytes
    bounce: Bounce | None  # None: not a bounce (left in the mailbox, flagged \\Seen)
    raw: bytes


class ImapBounceReader:
    """Reads unseen messages of the bounce mailbox; ``done(uid)`` deletes a processed one.

        for item in reader.poll():
            if item.bounce: handle(item.bounce)   # idempotent: a crash before done() re-reads
            reader.done(item)

    A message that is not a bounce is flagged ``\\Seen`` by ``done`` and kept for a person.
    """

    def __init__(self, settings: ImapSettings, domain: str | None = None,
                 local: str = DEFAULT_LOCAL, timeout: float = 30.0):
        self.settings, self.domain, self.local, self.timeout = settings, domain, local, timeout

    def _connect(self) -> imaplib.IMAP4:
        s = self.settings
        context = ssl.create_default_context(cafile=s.cafile)
        if s.implicit_tls:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(s.host, s.port, ssl_context=context,
                                                     timeout=self.timeout)
        else:
            conn = imaplib.IMAP4(s.host, s.port, timeout=self.timeout)
            if s.starttls != "none":
                if "STARTTLS" in conn.capabilities:
                    conn.starttls(ssl_context=context)
                else:
                    conn.shutdown()
                    raise ConnectionError(f"{s.host}:{s.port} does not offer STARTTLS "
                                          "(add ?tls=none for a loopback test server)")
        conn.login(s.username, s.password)
        status, _ = conn.select(_quote(s.mailbox))
        if status != "OK":
            conn.logout()
            raise ConnectionError(f"cannot open mailbox {s.mailbox!r}")
        return conn

    def poll(self, limit: int = 500) -> list[BounceItem]:
        conn = self._connect()
        try:
            _, data = conn.uid("SEARCH", None, "UNSEEN")
            items = []
            for uid in data[0].split()[:limit]:
                _, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next((p[1] for p in parts if isinstance(p, tuple)), b"")
                items.append(BounceItem(uid, parse_bounce(raw, self.domain, self.local), raw))
            return items
        finally:
            _logout(conn)

    def done(self, *items: BounceItem) -> None:
        if not items:
            return
        conn = self._connect()
        try:
            for item in items:
                if item.bounce is None:
                    conn.uid("STORE", item.uid, "+FLAGS", "(\\Seen)")
                else:
                    conn.uid("STORE", item.uid, "+FLAGS", "(\\Deleted \\Seen)")
            conn.expunge()
        finally:
            _logout(conn)


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _logout(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        conn.logout()


def reader_from_env(env: dict[str, str] | None = None) -> ImapBounceReader | None:
    """The bounce reader of ``COOP_BOUNCE_IMAP_URL`` (None when unset: no bounce mailbox).

    ``COOP_BOUNCE_DOMAIN`` (the VERP domain) restricts the return paths taken as ours.
    """
    env = os.environ if env is None else env
    url = env.get("COOP_BOUNCE_IMAP_URL", "").strip()
    if not url:
        return None
    return ImapBounceReader(ImapSettings.from_url(url), env.get("COOP_BOUNCE_DOMAIN") or None)
