"""The URLs of the mail servers (``COOP_SMTP_URL``, ``COOP_BOUNCE_IMAP_URL``), read one way.

``<scheme>://[user:password@]host[:port][/path][?options]``: the plain scheme upgrades with
STARTTLS (``tls=auto``: when offered, ``required``, or ``none``), the secure one (``smtps``,
``imaps``) speaks TLS from the first byte; user and password are percent-decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

TLS_MODES = ("auto", "required", "none")


@dataclass(frozen=True)
class MailUrl:
    host: str
    port: int
    implicit_tls: bool
    starttls: str  # "none" with implicit TLS
    username: str | None
    password: str | None
    path: str
    options: dict[str, str]


def parse_mail_url(url: str, *, variable: str, plain: str, secure: str,
                   ports: tuple[int, int], options: frozenset[str]) -> MailUrl:
    """Split ``url``; raise ValueError naming ``variable`` on a bad scheme, host or option."""
    parts = urlsplit(url)
    if parts.scheme not in (plain, secure):
        raise ValueError(f"{variable} must be {plain}:// or {secure}://, not {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError(f"{variable} has no host")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - options - {"tls"}
    if unknown:
        raise ValueError(f"{variable}: unknown options {sorted(unknown)}")
    tls = query.pop("tls", "auto")
    if tls not in TLS_MODES:
        raise ValueError(f"{variable}: tls must be auto, required or none, not {tls!r}")
    implicit = parts.scheme == secure
    return MailUrl(
        host=parts.hostname,
        port=parts.port or (ports[1] if implicit else ports[0]),
        implicit_tls=implicit,
        starttls="none" if implicit else tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        path=unquote(parts.path.lstrip("/")),
        options=query,
    )
