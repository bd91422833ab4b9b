"""The delivery loop: claim due e-mail rows with a lease, render, send, record the outcomes.

One batch: claim (its own short transaction, FOR UPDATE SKIP LOCKED, legal first), then for each
row read the recipient, check the address, render and hand the message to the Sender, then
record every outcome in one transaction. A worker killed in between leaves its rows claimed; the
lease runs out and another worker sends them again with the same Message-ID (derived from the
row's key), so a duplicate, if any, is the same message.

Reminders are re-checked just before rendering, in the batch's read of the recipients: whoever
voted since the event (the projection of elections' election.voted) is suppressed, and so is
every reminder once voting has closed.
A template error or a row that cannot be built suppresses that row only (a log line and a
metric), never the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from coop_notifications.domain import ledger
from coop_notifications.domain.catalog import Priority, spec
from coop_notifications.domain.ledger import Delivery, State
from coop_notifications.domain.links import portal_links, unsubscribe_headers, unsubscribe_url
from coop_notifications.domain.mail import OutgoingMail, RenderedMessage, Sender
from coop_notifications.domain.mapping import localize
from coop_notifications.domain.recipients import Recipient, plausible_address
from coop_notifications.domain.turnout import voting_closed
from coop_notifications.service_layer.ports import (
    BounceMailbox,
    ElectionRolls,
    NotificationsUnitOfWork,
)

log = logging.getLogger(__name__)

Render = Callable[[str, str, dict[str, Any]], RenderedMessage]


@dataclass(frozen=True)
class MailSettings:
    domain: str = "localhost"  # Message-IDs and VERP return paths
    portal_url: str = "http://localhost:8080"
    unsubscribe_base_url: str = "https://localhost:8080"
    unsubscribe_secret: bytes = b"dev-unsubscribe-secret"
    lease: timedelta = timedelta(minutes=5)
    batch_size: int = 200
    return_path: Callable[[str, str], str] = field(
        default=lambda key, domain: f"bounces+{key}@{domain}")  # mail's verp_address in the worker


@dataclass
class BatchResult:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # state -> count
    template_errors: int = 0

    def count(self, d: Delivery) -> None:
        self.outcomes[d.state.value] = self.outcomes.get(d.state.value, 0) + 1


def context_for(d: Delivery, r: Recipient, settings: MailSettings) -> dict[str, Any]:
    language = r.writing_language
    legal = d.priority == Priority.LEGAL
    common = {
        "recipient_name": r.given_name or "",
        "member_number": r.member_number or "",
        "tenant": d.tenant,
        "portal_url": settings.portal_url,
        "unsubscribe_url": "" if legal else unsubscribe_url(
            settings.unsubscribe_base_url, settings.unsubscribe_secret, d.tenant, d.recipient_id, d.category),
        "notification_url": f"{settings.portal_url.rstrip('/')}/inbox/{d.delivery_key}",
    }
    values = _complete(d.notification, localize(d.context, language), settings)
    if d.notification == "digest":  # each item as its own notification's template expects it
        values["items"] = [{**item, "context": _complete(item["notification"], item.get("context") or {}, settings)}
                           for item in values.get("items") or ()]
    return {**values, **common}


def _complete(notification: str, values: dict[str, Any], settings: MailSettings) -> dict[str, Any]:
    """Every catalog key of the notification (empty when the event gave none) and its portal links."""
    wanted = spec(notification).context_keys
    return {**dict.fromkeys(wanted, ""), **values, **portal_links(settings.portal_url, values, wanted)}


def build_mail(d: Delivery, r: Recipient, rendered: RenderedMessage, context: dict[str, Any],
               settings: MailSettings) -> OutgoingMail:
    headers = {} if d.priority == Priority.LEGAL else unsubscribe_headers(context["unsubscribe_url"])
    return OutgoingMail(
        delivery_key=d.delivery_key, message_id=ledger.message_id(d.delivery_key, settings.domain),
        to_address=r.email or "", return_path=settings.return_path(d.delivery_key, settings.domain),
        language=r.writing_language, rendered=rendered, headers=headers)


def _reminders_to_drop(uow: NotificationsUnitOfWork, rows: list[Delivery], rolls: ElectionRolls,
                       now: datetime) -> dict[str, str]:
    """Keys of the reminder rows not to send, with why: voting has closed (the results may have
    emptied the projection of who voted), or the member voted since the event (asked once per
    election and batch)."""
    by_election: dict[tuple[str, str], list[Delivery]] = {}
    drop: dict[str, str] = {}
    for d in rows:
        if d.notification != "election_reminder":
            continue
        if voting_closed(d.context.get("closes_at"), now):
            drop[d.delivery_key] = "voting closed"
        else:
            by_election.setdefault((d.tenant, str(d.context.get("election_id", ""))), []).append(d)
    for (tenant, election_id), group in by_election.items():
        voted = rolls.voted(uow, tenant, election_id, [d.recipient_id for d in group])
        drop.update((d.delivery_key, "voted meanwhile") for d in group if d.recipient_id in voted)
    return drop


def deliver_batch(uow_factory: Callable[[], NotificationsUnitOfWork], sender: Sender, render: Render,
                  rolls: ElectionRolls, settings: MailSettings, worker: str, now: Callable[[], datetime],
                  on_outcome: Callable[[Delivery], None] = lambda d: None) -> BatchResult:
    result = BatchResult()
    with uow_factory() as uow:
        rows = uow.ledger.claim_due(now(), worker, settings.lease, settings.batch_size)
        uow.commit()
    result.claimed = len(rows)
    if not rows:
        return result
    with uow_factory() as uow:
        uow.read_only()
        dropped = _reminders_to_drop(uow, rows, rolls, now())
        tenants = {d.tenant for d in rows}
        recipients = {(t, m): r for t in tenants
                      for m, r in uow.recipients.get_many(t, [d.recipient_id for d in rows if d.tenant == t]).items()}
        suppressed = {r.email for r in recipients.values() if r.email and uow.suppressions.is_suppressed(r.email)}
    done: list[Delivery] = []
    rejected: list[tuple[str, str]] = []
    for d in rows:
        r = recipients.get((d.tenant, d.recipient_id))
        if d.delivery_key in dropped:
            done.append(ledger.suppressed(d, now(), dropped[d.delivery_key]))
            continue
        if r is None or not r.reachable_by_email:
            done.append(ledger.suppressed(d, now(), "no e-mail address" if r is None or not r.erased else "erased"))
            continue
        if not plausible_address(r.email or ""):
            done.append(ledger.suppressed(d, now(), "invalid e-mail address"))
            continue
        if r.email in suppressed:
            done.append(ledger.suppressed(d, now(), "address suppressed (bounced or refused)"))
            continue
        try:
            spec(d.notification)
            context = context_for(d, r, settings)
            mail = build_mail(d, r, render(d.notification, r.writing_language, context), context, settings)
        except Exception as exc:  # noqa: BLE001 - a template or data error stops this row, not the batch
            log.error("delivery %s (%s): cannot render: %s: %s", d.delivery_key, d.notification,
                      type(exc).__name__, exc)
            result.template_errors += 1
            done.append(ledger.suppressed(d, now(), f"template error: {type(exc).__name__}: {exc}"))
            continue
        try:
            outcome = sender.send(mail)
        except Exception as exc:  # noqa: BLE001 - a sender bug or outage: retry later, like a 4xx
            log.warning("delivery %s: sender failed: %s: %s", d.delivery_key, type(exc).__name__, exc)
            done.append(ledger.deferred(d, now(), None, f"{type(exc).__name__}: {exc}"))
            continue
        row = ledger.outcome(d, outcome.kind, outcome.code, outcome.detail, now())
        if outcome.kind == "rejected":
            rejected.append((r.email or "", f"{outcome.code} {outcome.detail}"))
        done.append(row)
    with uow_factory() as uow:
        for row in done:
            uow.ledger.save(row)
        for address, reason in rejected:
            uow.suppressions.suppress(address, reason, now())
        uow.commit()
    for row in done:
        result.count(row)
        on_outcome(row)
    return result


def record_bounce(uow: NotificationsUnitOfWork, delivery_key: str, detail: str, now: datetime) -> Delivery | None:
    """A bounce read back for a delivery: the row is bounced and the address suppressed.
    Unknown or already-bounced keys change nothing."""
    with uow:
        d = uow.ledger.get(delivery_key)
        if d is None or d.state not in (State.SUBMITTED, State.DELIVERED):
            return None
        bounced = ledger.bounced(d, now, detail)
        uow.ledger.save(bounced)
        r = uow.recipients.get(d.tenant, d.recipient_id)
        if r is not None and r.email:
            uow.suppressions.suppress(r.email, f"bounced: {detail}", now)
        uow.commit()
        return bounced


@dataclass
class BounceResult:
    bounced: int = 0      # a delivery of ours marked bounced, its address suppressed
    temporary: int = 0    # a delay warning: the relay is still trying, nothing to do
    unmatched: int = 0    # names no delivery of ours, or one already bounced
    not_bounces: int = 0  # auto-replies and the like, left for a person


def process_bounces(uow_factory: Callable[[], NotificationsUnitOfWork], mailbox: BounceMailbox,
                    now: Callable[[], datetime], limit: int = 500,
                    on_outcome: Callable[[Delivery], None] = lambda d: None) -> BounceResult:
    """Read the bounce mailbox once: each permanent failure marks its delivery bounced and
    suppresses the address (record_bounce; a legal notice then shows on the postal list). Every
    report read is then released from the mailbox."""
    result = BounceResult()
    items = list(mailbox.poll(limit))
    for item in items:
        report = item.bounce
        if report is None:
            result.not_bounces += 1
        elif not report.is_permanent:
            result.temporary += 1
        elif report.delivery_key is None:
            result.unmatched += 1
        else:
            detail = " ".join(part for part in (report.status, report.diagnostic) if part) or "bounced"
            row = record_bounce(uow_factory(), report.delivery_key, detail, now())
            if row is None:
                result.unmatched += 1
            else:
                result.bounced += 1
                on_outcome(row)
    mailbox.done(*items)
    if result.unmatched:
        log.warning("bounce mailbox: %d report(s) named no delivery awaiting a bounce", result.unmatched)
    return result
