"""What test_notifications_flow.py needs besides the platform: the notifications processes' mail
settings on the test Postfix and Dovecot (scripts/ensure_mail.sh), the members' mailboxes read
back over IMAP, the texts a member should read (from the templates' own catalogs), the delivery
ledger (the notifications worker's SQLite file), and the elections worker's tick as seen from
outside (its metrics), to plan an election on it."""

from __future__ import annotations

import json
import math
import re
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from coop.membership.v1 import membership_pb2 as mpb
from coop.membership.v1 import membership_pb2_grpc as mgrpc
from coop_notifications.adapters.templates import translations
from coop_notifications.domain.ledger import address_digest
from coop_testkit.mailbox import MailPath

TENANT = "coop"
# Dovecot files each test mailbox as maildir:MAILDIRS/<domain>/<local part> (scripts/ensure_mail.sh).
MAILDIRS = Path("/var/mail/coop-test")
PORTAL_URL = "https://portal.coop.test"
UNSUBSCRIBE_SECRET = "e2e-unsubscribe-secret"
MAIL_FROM = "Coopgov e2e <notifications@coop.test>"
# Every local part of a VERP return path is "bounces" (adapters/bounces.verp_address): the worker
# reads the mailbox bounces@<domain>.
BOUNCE_LOCAL = "bounces"


def mail_env(path: MailPath, unsubscribe_port: int) -> dict[str, str]:
    """The notifications processes' settings: send through the test Postfix, read bounces from
    Dovecot every second, links to a portal of our own, the one-click endpoint on the api."""
    return {
        "COOP_SMTP_URL": path.smtp_url,
        "COOP_MAIL_DOMAIN": path.domain,
        "COOP_MAIL_FROM": MAIL_FROM,
        "COOP_BOUNCE_IMAP_URL": (f"imap://{BOUNCE_LOCAL}%40{path.domain}:{path.password}@{path.host}:"
                                 f"{path.imap_port}?tls=none"),
        "COOP_BOUNCE_DOMAIN": path.domain,
        "COOP_BOUNCE_POLL_SECONDS": "1",
        "COOP_NOTIFICATIONS_TICK_SECONDS": "1",
        "COOP_PORTAL_URL": PORTAL_URL,
        "COOP_UNSUBSCRIBE_URL": f"http://127.0.0.1:{unsubscribe_port}",
        "COOP_UNSUBSCRIBE_PORT": str(unsubscribe_port),
        "COOP_UNSUBSCRIBE_SECRET": UNSUBSCRIBE_SECRET,
    }


# -- members --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    name: str
    language: str
    address: str
    member_id: str
    number: str


def admit(membership: mgrpc.MembershipServiceStub, admin: list[tuple[str, str]], name: str, language: str,
          address: str) -> Member:
    """Admitted and in good standing (share subscribed and paid), as the admin CLI does it."""
    tag = uuid.uuid4().hex[:8]
    member = membership.RegisterMember(mpb.RegisterMemberRequest(admit=True, member=mpb.MemberDraft(
        given_name=name, family_name=f"E2E-{tag}", email=address, country_of_residence="BE",
        preferred_language=language, category=mpb.MEMBER_CATEGORY_USER, joined_on="2020-01-15")),
        metadata=admin, timeout=15)
    year = datetime.now(UTC).year
    share = membership.SubscribeShare(mpb.SubscribeShareRequest(member_id=member.member_id, year=year),
                                      metadata=admin, timeout=15)
    membership.RecordSharePayment(mpb.RecordSharePaymentRequest(
        member_id=member.member_id, year=year, amount_cents=share.amount_cents, payment_reference=f"E2E-{tag}"),
        metadata=admin, timeout=15)
    got = membership.GetMember(mpb.GetMemberRequest(member_id=member.member_id), metadata=admin, timeout=15)
    assert got.in_good_standing, name
    return Member(name, language, address, member.member_id, got.member_number)


# -- mailboxes ------------------------------------------------------------------------------------

def inbox(path: MailPath, address: str) -> list[EmailMessage]:
    """What the mailbox holds now."""
    return path.fetch(address, count=0, timeout=0)


def squeeze(text: str) -> str:
    """Whitespace (line wrapping, no-break spaces) made single spaces."""
    return " ".join(text.split())


def subjects(path: MailPath, address: str) -> list[str]:
    return [squeeze(str(m["Subject"])) for m in inbox(path, address)]


def wait_for_mail(path: MailPath, address: str, subject: str, timeout: float = 180) -> EmailMessage:
    """The message of `address` with this subject, once Postfix and Dovecot have delivered it."""
    want, deadline = squeeze(subject), time.monotonic() + timeout
    while True:
        found = [m for m in inbox(path, address) if squeeze(str(m["Subject"])) == want]
        if found:
            assert len(found) == 1, f"{address}: {len(found)} messages {subject!r}"
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"{address}: no message {subject!r} within {timeout:.0f} s; "
                                 f"it has {subjects(path, address)}")
        time.sleep(0.5)


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def tr(language: str, msgid: str, **values: str) -> str:
    """A sentence of the templates as `language`'s catalog translates it."""
    text = translations(language).gettext(msgid)
    return text % values if values else text


# -- the delivery ledger --------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    recipient_id: str
    notification: str
    state: str
    detail: str
    key: str
    event_id: str
    context: dict[str, Any]


class Ledger:
    """The notifications worker's delivery ledger, read (never written) from its SQLite file."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def emails(self, notification: str) -> dict[str, Row]:
        """The e-mail rows of a notification, by recipient (one event of it in these tests)."""
        by_member: dict[str, Row] = {}
        for row in self._rows("notification = ?", notification):
            assert row.recipient_id not in by_member, f"two {notification} e-mails to {row.recipient_id}"
            by_member[row.recipient_id] = row
        return by_member

    def of_member(self, member_id: str) -> list[Row]:
        return self._rows("recipient_id = ?", member_id)

    def _rows(self, where: str, value: str) -> list[Row]:
        rows = self._query("SELECT recipient_id, notification, state, last_detail, delivery_key, event_id, context "
                           f"FROM deliveries WHERE channel = 'email' AND {where}", (value,))
        return [Row(r, n, s, d or "", k, e, json.loads(c) if isinstance(c, str) else c) for r, n, s, d, k, e, c in rows]

    def suppressed(self, address: str) -> str | None:
        """Why the address is suppressed (None: it is not); the list keeps digests only."""
        found = self._query("SELECT reason FROM suppressions WHERE address_sha256 = ?", (address_digest(address),))
        return found[0][0] if found else None


def board_members_in_good_standing(db: Path) -> set[str]:
    """Members the board worker has projected in good standing, with their language (the
    convocation goes to them, in it)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return {m for (m,) in conn.execute("SELECT member_id FROM board_member_standing "
                                           "WHERE in_good_standing AND language IS NOT NULL")}
    except sqlite3.OperationalError:  # not migrated yet
        return set()
    finally:
        conn.close()


# -- the elections worker's tick ------------------------------------------------------------------

_HANDLER_CALLS = re.compile(r"^coop_worker_handler_calls_total\{([^}]*)\} (\S+)$", re.M)


def ticks_done(metrics: str) -> float:
    """How many runs of the elections worker's timer (`tick`) its metrics count."""
    return sum(float(value) for labels, value in _HANDLER_CALLS.findall(metrics) if 'handler="tick"' in labels)


def observe_tick(metrics: Callable[[], str], tick_seconds: float) -> datetime:
    """The moment a run of the elections worker's timer ends, seen by polling its metrics: nameko
    runs a timer on a fixed grid (start + n x interval), so the next ones follow every
    `tick_seconds` from this moment (a little earlier: the run and the poll take some time)."""
    before = ticks_done(metrics())
    deadline = time.monotonic() + 2 * tick_seconds + 30
    while time.monotonic() < deadline:
        if ticks_done(metrics()) > before:
            return datetime.now(UTC)
        time.sleep(0.02)
    raise AssertionError(f"the elections worker's timer did not run within {2 * tick_seconds + 30:.0f} s")


def grid_instant(tick_at: datetime, tick_seconds: float, not_before: datetime, after_tick: float) -> datetime:
    """`after_tick` seconds after the first tick of the grid through `tick_at` at or after
    `not_before`, rounded up to a whole second."""
    n = math.ceil((not_before - tick_at).total_seconds() / tick_seconds)
    instant = tick_at + timedelta(seconds=n * tick_seconds + after_tick)
    return instant.replace(microsecond=0) + timedelta(seconds=1 if instant.microsecond else 0)
