"""The contract between the delivery loop (core) and the mail adapters (templates, SMTP, .eml).

``adapters/templates.render(template, language, context) -> RenderedMessage``; the delivery loop
builds an :class:`OutgoingMail` from a ledger row and that rendering, and hands it to a
:class:`Sender`, which answers with a :class:`SendOutcome`. Pure data: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RenderedMessage:  # adapters/templates.render(template, language, context) -> RenderedMessage
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class OutgoingMail:  # built by core from a delivery row + RenderedMessage
    delivery_key: str  # the ledger row's unique key (event id x recipient x channel)
    message_id: str  # derived from delivery_key (same message after a crash)
    to_address: str
    return_path: str  # VERP: encodes delivery_key (mail provides verp_address / parse_verp)
    language: str
    rendered: RenderedMessage
    headers: dict[str, str]  # e.g. List-Unsubscribe + List-Unsubscribe-Post (RFC 8058), non-legal


@dataclass(frozen=True)
class SendOutcome:  # Sender.send(mail) -> SendOutcome
    kind: str  # "submitted", "deferred" (4xx / connection), "rejected" (5xx permanent)
    code: int | None
    detail: str


class Sender(Protocol):
    def send(self, mail: OutgoingMail) -> SendOutcome: ...
