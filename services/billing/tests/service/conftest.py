"""The billing gRPC service in-process (plain grpcio, no eventlet) on a real PostgreSQL database.

The member-standing projection is fed the way the worker feeds it: membership envelopes
through coop_platform.inbox.process_once and the service-layer effects.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from sqlalchemy import Engine, text

from coop.billing.v1 import billing_pb2 as pb
from coop.billing.v1 import billing_pb2_grpc as pb_grpc
from coop_billing.entrypoints import grpc_api, membership_events
from coop_billing.service_layer import common
from coop_domain.principal import Principal
from coop_platform.config import Settings
from coop_platform.envelope import make_envelope
from coop_platform.grpc_server import RunningServer, start_server
from coop_platform.migrations import upgrade
from coop_testkit import bearer, postgres_database

ADMIN = bearer("admin-1", "admin")
#: the same admin as a use case sees it (tests calling the service layer directly)
ADMIN_CALLER = Principal("admin-1", roles=frozenset({"admin"}))
TELLER = bearer("teller-1", "teller")
BOARD = bearer("board-1", "board")
PAYROLL = bearer("payroll-system", "service")
TABLES = ("members", "clients", "activities", "ledger_entries", "invoices", "invoice_lines", "payments",
          "contracts", "share_fees", "envelopes", "payouts", "rates", "number_counters", "outbox",
          "payroll_runs", "share_fee_payments")
BE_VATS = ["BE0403170701", "BE0202239951", "BE0417497106", "BE0401574852"]


@dataclass
class Svc:
    url: str
    engine: Engine
    server: RunningServer
    channel: grpc.Channel
    stub: pb_grpc.BillingServiceStub
    uow_factory: Any

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}

    def outbox(self, subject: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            bodies = conn.execute(text("SELECT body FROM outbox ORDER BY seq")).scalars().all()
        out = [json.loads(b) for b in bodies]
        if subject is not None:
            out = [e for e in out if e["subject"] == subject]
        if name is not None:
            out = [e for e in out if e["type"] == f"coop.billing.{name}.v1"]
        return out

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()


def settings_for(url: str) -> Settings:
    return Settings(service_name="billing", database_url=url, dev_mode=True, grpc_workers=40)


@contextlib.contextmanager
def running_service(url: str) -> Iterator[Svc]:
    upgrade("billing", url)
    settings = settings_for(url)
    engine, register, uow_factory = grpc_api.build(settings)
    server = start_server(settings, register, engine, port=0)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield Svc(url, engine, server, channel, pb_grpc.BillingServiceStub(channel), uow_factory)
    finally:
        channel.close()
        server.stop(grace=1)
        engine.dispose()


@pytest.fixture(scope="session")
def svc() -> Iterator[Svc]:
    with postgres_database("coop_billing_svc") as url, running_service(url) as s:
        yield s


@pytest.fixture
def own_svc() -> Iterator[Svc]:
    """A service on a database of its own, for a test that moves the calendar's series or years
    (dates an invoice tomorrow, closes a year) where the shared one would disturb the others."""
    with postgres_database("coop_billing_own") as url, running_service(url) as s:
        yield s


def admit(svc: Svc, *, good: bool = True, language: str = "fr", given: str = "Ada",
          family: str | None = None) -> SimpleNamespace:
    """A member as billing learns it: member.admitted then member.status_changed (membership's JSON)."""
    member_id = str(uuid.uuid4())
    number = f"M{uuid.uuid4().int % 10**9:09d}"
    family = family or "Lovelace"
    admitted = make_envelope("membership", "member.admitted", {"member": {
        "memberId": member_id, "memberNumber": number, "givenName": given, "familyName": family,
        "preferredLanguage": language, "status": "MEMBER_STATUS_ACTIVE", "inGoodStanding": False}},
        subject=member_id)
    membership_events.handle(svc.uow_factory, "member.admitted", admitted)
    set_standing(svc, member_id, good)
    return SimpleNamespace(member_id=member_id, number=number, md=bearer(member_id, "member"),
                           given=given, family=family)


def set_standing(svc: Svc, member_id: str, good: bool, status: str = "MEMBER_STATUS_ACTIVE") -> None:
    env = make_envelope("membership", "member.status_changed", {
        "memberId": member_id, "toStatus": status, "inGoodStanding": good}, subject=member_id)
    membership_events.handle(svc.uow_factory, "member.status_changed", env)


def client(svc: Svc, vat: str = "") -> pb.Client:
    return svc.stub.CreateClient(pb.CreateClientRequest(
        name="Théâtre du Parc", country="BE", address="Rue de la Loi 3, 1000 Bruxelles", vat_number=vat),
        metadata=ADMIN).client


def activity(svc: Svc, member: SimpleNamespace, sector: str = "90.01") -> pb.Activity:
    return svc.stub.CreateActivity(pb.CreateActivityRequest(
        member_id=member.member_id, name="Concerts", sector_code=sector), metadata=member.md)


def line(price: int = 100_000, qty: str = "1", vat: str = "21", text_: str = "Concert") -> pb.InvoiceLine:
    return pb.InvoiceLine(description=text_, quantity=qty, unit_price_cents=price, vat_rate=vat)


def drafts(svc: Svc, member: SimpleNamespace, act: pb.Activity, cl: pb.Client, count: int,
           first_price: int = 1000) -> list[pb.Invoice]:
    """`count` draft invoices of one line each, priced first_price, first_price + 1, ..."""
    return [svc.stub.CreateInvoice(pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id,
        lines=[line(price=first_price + i)]), metadata=member.md) for i in range(count)]


def issued_invoice(svc: Svc, member: SimpleNamespace, act: pb.Activity, cl: pb.Client,
                   *lines: pb.InvoiceLine) -> pb.Invoice:
    draft = svc.stub.CreateInvoice(pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id,
        lines=list(lines) or [line()]), metadata=member.md)
    return svc.stub.IssueInvoice(pb.IssueInvoiceRequest(invoice_id=draft.invoice_id), metadata=member.md)


def terms(gross: int = 200_000, start: date = date(2031, 3, 1), end: date = date(2031, 3, 31),
          days: int = 10, title: str = "Musician", committee: str = "304") -> pb.ContractTerms:
    return pb.ContractTerms(start_date=start.isoformat(), end_date=end.isoformat(), days=days,
                            gross_cents=gross, job_title=title, joint_committee=committee)


def pay(svc: Svc, invoice: pb.Invoice, amount_cents: int | None = None, paid_on: str = "") -> pb.Invoice:
    """A payment of the invoice (its whole total by default), as the teller records it."""
    return svc.stub.RecordPayment(pb.RecordPaymentRequest(
        invoice_id=invoice.invoice_id, payment_id=f"bank-{uuid.uuid4().hex[:12]}",
        amount_cents=invoice.total_cents if amount_cents is None else amount_cents, paid_on=paid_on),
        metadata=TELLER)


def paid_invoice(svc: Svc, member: SimpleNamespace, act: pb.Activity, cl: pb.Client,
                 *lines: pb.InvoiceLine) -> pb.Invoice:
    """An issued invoice its client paid in full: what reaches the activity budget."""
    return pay(svc, issued_invoice(svc, member, act, cl, *lines))


def funded_activity(svc: Svc, member: SimpleNamespace, net_cents: int) -> pb.Activity:
    """An activity whose budget received `net_cents` excl. VAT from one paid invoice."""
    act = activity(svc, member)
    paid_invoice(svc, member, act, client(svc), line(price=net_cents, vat="0"))
    return act


def code_of(fn, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        fn(*args, **kwargs)
    return err.value


@pytest.fixture
def travel(monkeypatch: pytest.MonkeyPatch):
    """Move the in-process service's calendar (service_layer.common.today) to a day: contracts
    are requested before their start, and payroll and completion happen after it."""

    def to(day: date) -> None:
        monkeypatch.setattr(common, "utcnow", lambda: datetime.combine(day, time(12), UTC))

    return to


@pytest.fixture(scope="session")
def h() -> SimpleNamespace:
    """Module-level helpers for the test files (importlib mode gives them no package path)."""
    return SimpleNamespace(**{k: v for k, v in globals().items() if not k.startswith("_")})
