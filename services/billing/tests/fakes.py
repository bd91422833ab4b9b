"""In-memory implementations of billing's ports (coop_billing.service_layer.ports), for the fast
use-case tests in tests/service_layer/: no database, the same contracts as the SQL adapters.

Records are SimpleNamespaces with the tables' column names. A unit of work snapshots the store
when entered and puts it back on exit unless committed, so a refused call writes nothing, as a
rolled-back transaction.
"""

from __future__ import annotations

import copy
import hashlib
import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from coop_billing.domain.budget import ActivityLedger, EntryKind, LedgerEntry
from coop_billing.domain.contract import StoredContract
from coop_billing.domain.contribution import RateChange, RateKind, RateSchedule
from coop_billing.domain.invoice import Payment, StoredInvoice
from coop_billing.domain.vat import Client
from coop_domain.clock import utcnow
from coop_platform.idempotency import IdempotentRequest, Replay, SameAs, key_reused


def _after(rows: Iterable[Any], created: str, ident: str, after: Sequence[str], limit: int) -> list[Any]:
    """Keyset pagination as the SQL repositories do it: (creation time, id) after `after`."""
    def key(row: Any) -> tuple[datetime, str]:
        return getattr(row, created), getattr(row, ident)
    ordered = sorted(rows, key=key)
    if after:
        mark = (datetime.fromisoformat(after[0]), after[1])
        ordered = [r for r in ordered if key(r) > mark]
    return ordered[:limit]


@dataclass
class Store:
    """Every table of the fake database."""

    members: dict[str, SimpleNamespace] = field(default_factory=dict)
    clients: dict[str, SimpleNamespace] = field(default_factory=dict)
    activities: dict[str, SimpleNamespace] = field(default_factory=dict)
    entries: dict[str, list[LedgerEntry]] = field(default_factory=dict)
    rates: dict[tuple[RateKind, date], int] = field(default_factory=dict)
    counters: dict[tuple[str, int], list[Any]] = field(default_factory=dict)  # [last_value, last_on]
    fiscal_years: dict[int, SimpleNamespace] = field(default_factory=dict)
    invoices: dict[str, StoredInvoice] = field(default_factory=dict)
    payment_references: set[tuple[str, int, str]] = field(default_factory=set)
    contracts: dict[str, StoredContract] = field(default_factory=dict)
    payroll_runs: dict[tuple[str, str], SimpleNamespace] = field(default_factory=dict)
    share_fees: dict[tuple[str, int], SimpleNamespace] = field(default_factory=dict)
    share_fee_payments: dict[str, SimpleNamespace] = field(default_factory=dict)
    figures: dict[tuple[str, int], dict[str, int]] = field(default_factory=dict)  # statements, preset
    envelopes: dict[str, SimpleNamespace] = field(default_factory=dict)
    payouts: list[SimpleNamespace] = field(default_factory=list)
    request_ids: dict[Any, tuple[str, bytes | None]] = field(default_factory=dict)


class _Repo:
    def __init__(self, store: Store) -> None:
        self.store = store


class FakeMembers(_Repo):
    def member(self, member_id: str, *, lock: bool = False) -> Any:
        return self.store.members.get(member_id)

    def ensure_member_row(self, member_id: str) -> None:
        self.store.members.setdefault(member_id, SimpleNamespace(
            member_id=member_id, member_number="", status="active", in_good_standing=False, given_name="",
            family_name="", preferred_language="fr", status_at=None, standing_at=None, identity_at=None,
            erased_at=None, updated_at=utcnow()))

    def update_member(self, member_id: str, **values: Any) -> None:
        vars(self.store.members[member_id]).update(values, updated_at=utcnow())

    def active_members_without_fee(self, year: int, after: str, limit: int) -> list[str]:
        return sorted(m for m, row in self.store.members.items()
                      if row.status == "active" and m > after and (m, year) not in self.store.share_fees)[:limit]

    def member_count(self, after: str = "") -> int:
        return sum(1 for m in self.store.members if m > after)

    def members_page(self, after: str, limit: int) -> list[Any]:
        return [self.store.members[m] for m in sorted(self.store.members) if m > after][:limit]


class FakeClients(_Repo):
    def verified_client_by_vat(self, vat_number: str) -> Any:
        return next((c for c in self.store.clients.values()
                     if c.verified_at is not None and c.vat_number == vat_number), None)

    def own_client_by_vat(self, member_id: str, vat_number: str) -> Any:
        return next((c for c in self.store.clients.values() if c.verified_at is None
                     and c.owner_member_id == member_id and c.vat_number == vat_number), None)

    def insert_client_if_absent(self, client_id: str, client: Client, *, owner_member_id: str | None,
                                verified_by: str | None) -> bool:
        if client.vat_number and (self.verified_client_by_vat(client.vat_number) if verified_by
                                  else self.own_client_by_vat(owner_member_id or "", client.vat_number)):
            return False
        now = utcnow()
        self.store.clients[client_id] = SimpleNamespace(
            client_id=client_id, name=client.name, country=client.country, address=client.address,
            vat_number=client.vat_number, created_at=now, owner_member_id=owner_member_id,
            verified_at=now if verified_by else None, verified_by=verified_by)
        return True

    def verify_client(self, client_id: str, actor: str) -> bool:
        row = self.store.clients[client_id]
        if row.vat_number and self.verified_client_by_vat(row.vat_number) is not None:
            return False
        row.verified_at, row.verified_by = utcnow(), actor
        return True

    def client(self, client_id: str) -> Any:
        return self.store.clients.get(client_id)

    def clients(self, client_ids: Iterable[str]) -> dict[str, Any]:
        return {c: self.store.clients[c] for c in set(client_ids) if c in self.store.clients}


class FakeActivities(_Repo):
    def add_activity(self, **values: Any) -> None:
        self.store.activities[values["activity_id"]] = SimpleNamespace(created_at=utcnow(), **values)

    def activity(self, activity_id: str, *, lock: bool = False) -> Any:
        return self.store.activities.get(activity_id)

    def activities_with_standing(self, activity_ids: Iterable[str]) -> dict[str, Any]:
        out = {}
        for activity_id in set(activity_ids):
            row = self.store.activities.get(activity_id)
            if row is not None:
                member = self.store.members.get(row.member_id)
                out[activity_id] = SimpleNamespace(
                    **vars(row), member_status=member.status if member else None,
                    in_good_standing=member.in_good_standing if member else None,
                    member_number=member.member_number if member else None)
        return out

    def activities_of(self, member_id: str, after: Sequence[Any], limit: int) -> list[Any]:
        mine = (a for a in self.store.activities.values() if a.member_id == member_id)
        return _after(mine, "created_at", "activity_id", after, limit)

    def ledger(self, activity_id: str, *, reference: str | None = None) -> ActivityLedger:
        entries = [e for e in self.store.entries.get(activity_id, []) if reference is None or e.reference == reference]
        return ActivityLedger(activity_id, [LedgerEntry(i, e.kind, e.amount_cents, e.on, e.reference, e.contract_id,
                                                        e.balance_delta, e.reserved_delta)
                                            for i, e in enumerate(entries, start=1)])

    def add_entries(self, activity_id: str, entries: Iterable[LedgerEntry]) -> None:
        self.store.entries.setdefault(activity_id, []).extend(entries)

    def entries_page(self, activity_id: str, after_id: int, limit: int) -> list[Any]:
        rows = [SimpleNamespace(entry_id=n, kind=e.kind.value, amount_cents=e.amount_cents, on=e.on,
                                reference=e.reference, contract_id=e.contract_id, balance_delta=e.balance_delta,
                                reserved_delta=e.reserved_delta)
                for n, e in enumerate(self.store.entries.get(activity_id, []), start=1)]
        return [r for r in rows if r.entry_id > after_id][:limit]

    def balances(self, activity_id: str) -> tuple[int, int]:
        entries = self.store.entries.get(activity_id, [])
        return sum(e.balance_delta for e in entries), sum(e.reserved_delta for e in entries)


class FakeYears(_Repo):
    def schedule(self) -> RateSchedule:
        return RateSchedule.over_defaults(self.store.rates)

    def add_rate(self, change: RateChange) -> bool:
        key = (change.kind, change.effective_from)
        if key in self.store.rates:
            return False
        self.store.rates[key] = change.basis_points
        return True

    def next_number(self, series: str, year: int) -> int:
        first = self.take_numbers(series, year, 1)
        assert first is not None
        return first

    def take_numbers(self, series: str, year: int, count: int, *, first_on: date | None = None,
                     last_on: date | None = None) -> int | None:
        counter = self.store.counters.setdefault((series, year), [0, None])
        if first_on is not None and counter[1] is not None and first_on < counter[1]:
            return None
        counter[0] += count
        if last_on is not None and (counter[1] is None or counter[1] < last_on):
            counter[1] = last_on
        return counter[0] - count + 1

    def series_last_on(self, series: str, year: int) -> date | None:
        return self.store.counters.get((series, year), [0, None])[1]

    def fiscal_years(self, years: Iterable[int]) -> dict[int, Any]:
        return {y: self.store.fiscal_years.setdefault(y, SimpleNamespace(year=y, closed_at=None, closed_by=None))
                for y in set(years)}

    def close_year(self, year: int, actor: str, now: datetime) -> tuple[Any, bool]:
        row = self.fiscal_years([year])[year]
        if row.closed_at is not None:
            return row, True
        row.closed_at, row.closed_by = now, actor
        return row, False


class FakeInvoices(_Repo):
    def add_invoices(self, invoices: list[StoredInvoice]) -> None:
        for stored in invoices:
            stored.created_at = utcnow()
            self.store.invoices[stored.invoice.invoice_id] = copy.deepcopy(stored)

    def invoice(self, invoice_id: str, *, lock: bool = False) -> StoredInvoice | None:
        found = self.store.invoices.get(invoice_id)
        return copy.deepcopy(found) if found else None

    def save_invoice(self, stored: StoredInvoice, *, new_lines_from: int | None = None,
                     new_payments: Iterable[Payment] = ()) -> None:
        self.store.invoices[stored.invoice.invoice_id] = copy.deepcopy(stored)

    def add_payment_reference(self, client_id: str, year: int, payment_id: str, invoice_id: str) -> bool:
        key = (client_id, year, payment_id)
        if key in self.store.payment_references:
            return False
        self.store.payment_references.add(key)
        return True

    def invoices_of(self, member_id: str, year: int, after: Sequence[Any], limit: int) -> list[StoredInvoice]:
        mine = [SimpleNamespace(created_at=s.created_at, invoice_id=i, stored=s) for i, s in self.store.invoices.items()
                if s.invoice.member_id == member_id and (not year or (s.invoice.number.year if s.invoice.number
                                                                      else s.created_at.year) == year)]
        return [copy.deepcopy(r.stored) for r in _after(mine, "created_at", "invoice_id", after, limit)]


class FakeContracts(_Repo):
    def add_contract(self, stored: StoredContract) -> None:
        self.store.contracts[stored.contract.contract_id] = copy.deepcopy(stored)

    save_contract = add_contract

    def contract(self, contract_id: str, *, lock: bool = False) -> StoredContract | None:
        found = self.store.contracts.get(contract_id)
        return copy.deepcopy(found) if found else None

    def contracts_of(self, member_id: str, after: Sequence[Any], limit: int) -> list[StoredContract]:
        mine = [SimpleNamespace(created_at=s.created_at, contract_id=i, stored=s) for i, s in self.store.contracts.items()
                if s.contract.member_id == member_id]
        return [copy.deepcopy(r.stored) for r in _after(mine, "created_at", "contract_id", after, limit)]

    def payroll_run(self, contract_id: str, reference: str) -> Any:
        return self.store.payroll_runs.get((contract_id, reference))

    def add_payroll_run(self, **values: Any) -> Any:
        row = SimpleNamespace(**values)
        self.store.payroll_runs[(row.contract_id, row.payroll_reference)] = row
        return row


class FakeShareFees(_Repo):
    def share_fee_payment(self, bank_reference: str) -> Any:
        payment = self.store.share_fee_payments.get(bank_reference)
        if payment is None:
            return None
        fee = next(f for f in self.store.share_fees.values() if f.fee_id == payment.fee_id)
        return SimpleNamespace(**vars(payment), member_id=fee.member_id, year=fee.year)

    def add_share_fee_payment(self, **values: Any) -> bool:
        if values["bank_reference"] in self.store.share_fee_payments:
            return False
        self.store.share_fee_payments[values["bank_reference"]] = SimpleNamespace(**values)
        return True

    def share_fee_payments_of(self, fee_ids: Iterable[str]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {f: [] for f in fee_ids}
        for p in sorted(self.store.share_fee_payments.values(), key=lambda p: (p.recorded_at, p.bank_reference)):
            if p.fee_id in out:
                out[p.fee_id].append(p)
        return out

    def share_fee(self, member_id: str, year: int, *, lock: bool = False) -> Any:
        row = self.store.share_fees.get((member_id, year))
        return copy.copy(row) if row else None

    def add_share_fee(self, **values: Any) -> bool:
        key = (values["member_id"], values["year"])
        if key in self.store.share_fees:
            return False
        self.store.share_fees[key] = SimpleNamespace(created_at=utcnow(), bank_reference=None, paid_at=None, **values)
        return True

    def update_share_fee(self, fee_id: str, **values: Any) -> None:
        vars(next(f for f in self.store.share_fees.values() if f.fee_id == fee_id)).update(values)

    def share_fee_count(self, year: int) -> int:
        return sum(1 for (_, y) in self.store.share_fees if y == year)

    def share_fees_of(self, member_id: str) -> list[Any]:
        return sorted((f for (m, _), f in self.store.share_fees.items() if m == member_id), key=lambda f: f.year)


STATEMENT_FIGURES = ("revenue", "contribution", "budget_in", "budget_out", "contracts", "social", "employment",
                     "gross", "share_fee")


class FakeStatements(_Repo):
    """Figures are what a test put in `store.figures` (zeros elsewhere): the SQL queries have tests
    of their own; these fakes serve the use cases' logic."""

    def statement_figures(self, member_id: str, year: int) -> dict[str, int]:
        return self.statement_figures_of([member_id], year)[member_id]

    def statement_figures_of(self, member_ids: list[str], year: int) -> dict[str, dict[str, int]]:
        return {m: {**dict.fromkeys(STATEMENT_FIGURES, 0), **self.store.figures.get((m, year), {})}
                for m in member_ids}

    def applied_rates_of(self, member_ids: list[str], year: int) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
        return {m: ((), ()) for m in member_ids}


class FakeRedistribution(_Repo):
    def revenue_by_member(self, start: date | None, end: date | None) -> list[tuple[str, int, str]]:
        totals: dict[str, int] = {}
        for activity_id, entries in self.store.entries.items():
            member = self.store.activities[activity_id].member_id
            totals[member] = totals.get(member, 0) + sum(
                e.amount_cents if e.kind is EntryKind.INVOICE else -e.amount_cents for e in entries
                if e.kind in (EntryKind.INVOICE, EntryKind.CREDIT_NOTE))
        return sorted((m, t, "90.01") for m, t in totals.items())

    def envelope(self, envelope_id: str) -> Any:
        return self.store.envelopes.get(envelope_id)

    def add_envelope(self, **values: Any) -> bool:
        if values["envelope_id"] in self.store.envelopes:
            return False
        self.store.envelopes[values["envelope_id"]] = SimpleNamespace(**values)
        return True

    def add_payouts(self, rows: list[dict[str, Any]]) -> None:
        self.store.payouts.extend(SimpleNamespace(**r) for r in rows)

    def payouts(self, envelope_id: str, after: str, limit: int) -> list[Any]:
        return sorted((p for p in self.store.payouts if p.envelope_id == envelope_id and p.member_id > after),
                      key=lambda p: p.member_id)[:limit]


class FakeRequestIds(_Repo):
    def claim(self, request: IdempotentRequest) -> bytes | None:
        held = self.store.request_ids.get(request.key)
        if held is None:
            self.store.request_ids[request.key] = (request.fingerprint, None)
            return None
        if held[0] != request.fingerprint:
            raise key_reused(request.key)
        return held[1]

    def claim_many(self, requests: Sequence[IdempotentRequest]) -> list[Any]:
        out: list[Any] = []
        first_of: dict[Any, int] = {}
        for n, request in enumerate(requests):
            if request.key in first_of:
                out.append(SameAs(first_of[request.key]))
                continue
            first_of[request.key] = n
            try:
                stored = self.claim(request)
            except Exception as refused:  # noqa: BLE001 - the key with another request
                out.append(refused)
                continue
            out.append(None if stored is None else Replay(stored))
        return out

    def record(self, request: IdempotentRequest, answer: bytes) -> None:
        self.store.request_ids[request.key] = (request.fingerprint, answer)

    def record_many(self, answers: Sequence[tuple[IdempotentRequest, bytes]]) -> None:
        for request, answer in answers:
            self.record(request, answer)

    def release_many(self, requests: Sequence[IdempotentRequest]) -> None:
        for request in requests:
            self.store.request_ids.pop(request.key, None)

    def purge(self) -> int:
        return 0


class FakeBillingUnitOfWork:
    """The unit of work on a Store: `events` holds what committed units published."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store()
        self.events: list[Any] = []
        self.commits = 0
        self._bind()

    def _bind(self) -> None:
        s = self.store
        self.members, self.clients, self.activities = FakeMembers(s), FakeClients(s), FakeActivities(s)
        self.years, self.invoices, self.contracts = FakeYears(s), FakeInvoices(s), FakeContracts(s)
        self.share_fees, self.statements = FakeShareFees(s), FakeStatements(s)
        self.redistribution, self.request_ids = FakeRedistribution(s), FakeRequestIds(s)

    def __enter__(self) -> FakeBillingUnitOfWork:
        self._snapshot = copy.deepcopy(self.store)
        self._pending: list[Any] = []
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def read_only(self) -> FakeBillingUnitOfWork:
        return self

    def commit(self) -> None:
        self.events.extend(self._pending)
        self._pending = []
        self._snapshot = copy.deepcopy(self.store)
        self.commits += 1

    def rollback(self) -> None:
        self._pending = []
        self.store.__dict__.update(copy.deepcopy(self._snapshot).__dict__)

    def publish(self, event: Any, *, correlation_id: str | None = None) -> str:
        self._pending.append(event)
        return hashlib.sha1(repr(len(self.events) + len(self._pending)).encode()).hexdigest()

    def forget_published_events(self, subject: str) -> int:
        return 0

    def published(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


class PickleReply:
    """A Reply that answers the use case's result itself (kept for retries by pickling)."""

    def of(self, result: Any) -> Any:
        return result

    def dumps(self, answer: Any) -> bytes:
        return pickle.dumps(answer)

    def loads(self, data: bytes) -> Any:
        return pickle.loads(data)
