"""SQL repository and unit of work: rows <-> pure domain objects, and the locks that keep
numbering gapless and budgets from being overspent."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coop_billing import SERVICE_NAME
from coop_billing.adapters import events_out, orm
from coop_billing.domain.budget import ActivityLedger, ContractCost, EntryKind, LedgerEntry
from coop_billing.domain.contract import (
    ContractState,
    ContractTerms,
    EmploymentContract,
    StoredContract,
)
from coop_billing.domain.contribution import RateChange, RateKind, RateSchedule
from coop_billing.domain.invoice import (
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceState,
    Payment,
    StoredInvoice,
    parse_invoice_number,
)
from coop_billing.domain.vat import Client
from coop_platform.unit_of_work import UnitOfWork


def utcnow() -> datetime:
    return datetime.now(UTC)


class SqlBillingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def _locked(self, query):
        return query.with_for_update() if self.postgres else query

    def _insert(self, table):
        return (postgresql.insert if self.postgres else sqlite.insert)(table)

    # -- member projection
    def member(self, member_id: str, *, lock: bool = False) -> Any:
        query = select(orm.members).where(orm.members.c.member_id == member_id)
        return self.session.execute(self._locked(query) if lock else query).first()

    def ensure_member_row(self, member_id: str) -> None:
        self.session.execute(
            self._insert(orm.members)
            .values(member_id=member_id, updated_at=utcnow(), status="active", in_good_standing=False)
            .on_conflict_do_nothing(index_elements=["member_id"]))

    def update_member(self, member_id: str, **values: Any) -> None:
        self.session.execute(update(orm.members).where(orm.members.c.member_id == member_id)
                             .values(updated_at=utcnow(), **values))

    def active_members_without_fee(self, year: int, after: str, limit: int) -> list[str]:
        fee = orm.share_fees.c
        m = orm.members.c
        query = (
            select(m.member_id).where(
                m.status == "active", m.member_id > after,
                ~select(fee.fee_id).where(fee.member_id == m.member_id, fee.year == year).exists())
            .order_by(m.member_id).limit(limit))
        return list(self.session.execute(query).scalars())

    # -- clients
    def _clients(self) -> Any:
        """Client rows as the service reads them: `vat_number` is the verified number, or the
        number a member gave their unverified client."""
        c = orm.clients.c
        return select(c.client_id, c.name, c.country, c.address,
                      func.coalesce(c.vat_number, c.claimed_vat_number).label("vat_number"), c.created_at,
                      c.owner_member_id, c.verified_at, c.verified_by)

    def verified_client_by_vat(self, vat_number: str) -> Any:
        """The verified client with this VAT number (the real company), or None."""
        return self.session.execute(self._clients().where(orm.clients.c.vat_number == vat_number)).first()

    def own_client_by_vat(self, member_id: str, vat_number: str) -> Any:
        """A member's own unverified client with this VAT number, or None."""
        c = orm.clients.c
        return self.session.execute(self._clients().where(
            c.owner_member_id == member_id, c.claimed_vat_number == vat_number, c.verified_at.is_(None))).first()

    def insert_client_if_absent(self, client_id: str, client: Client, *, owner_member_id: str | None,
                                verified_by: str | None) -> bool:
        """A member's unverified client (owner set), or a verified one (verified_by set). True when
        inserted; False when the same VAT number appeared meanwhile (among the verified clients,
        or among that member's unverified ones)."""
        c = orm.clients.c
        now = utcnow()
        verified = verified_by is not None
        stmt = self._insert(orm.clients).values(
            client_id=client_id, name=client.name, country=client.country, address=client.address,
            vat_number=client.vat_number if verified else None,
            claimed_vat_number=None if verified else client.vat_number, created_at=now,
            owner_member_id=owner_member_id, verified_at=now if verified else None, verified_by=verified_by)
        if client.vat_number and verified:
            stmt = stmt.on_conflict_do_nothing(index_elements=["vat_number"])
        elif client.vat_number:
            stmt = stmt.on_conflict_do_nothing(index_elements=["owner_member_id", "claimed_vat_number"],
                                               index_where=c.verified_at.is_(None))
        return self.session.execute(stmt).rowcount == 1

    def verify_client(self, client_id: str, actor: str) -> bool:
        """Mark a client verified, its VAT number becoming the verified one; False (nothing changed)
        when another verified client holds it (the unique key decides, so two verifications at
        once cannot both win)."""
        c = orm.clients.c
        try:
            with self.session.begin_nested():
                self.session.execute(update(orm.clients).where(c.client_id == client_id, c.verified_at.is_(None))
                                     .values(vat_number=c.claimed_vat_number, claimed_vat_number=None,
                                             verified_at=utcnow(), verified_by=actor[:100]))
        except IntegrityError:
            return False
        return True

    def client(self, client_id: str) -> Any:
        return self.session.execute(self._clients().where(orm.clients.c.client_id == client_id)).first()

    def clients(self, client_ids: Iterable[str]) -> dict[str, Any]:
        return {r.client_id: r for r in self.session.execute(
            self._clients().where(orm.clients.c.client_id.in_(set(client_ids))))}

    # -- activities and ledgers
    def add_activity(self, **values: Any) -> None:
        self.session.execute(insert(orm.activities).values(created_at=utcnow(), **values))

    def activity(self, activity_id: str, *, lock: bool = False) -> Any:
        query = select(orm.activities).where(orm.activities.c.activity_id == activity_id)
        return self.session.execute(self._locked(query) if lock else query).first()

    def activities_with_standing(self, activity_ids: Iterable[str]) -> dict[str, Any]:
        """Activities with their member's projected standing, by id, in one query (the invoicing
        path): member_status and in_good_standing are None when billing has not heard of the member."""
        a, m = orm.activities, orm.members.c
        rows = self.session.execute(
            select(a, m.status.label("member_status"), m.in_good_standing, m.member_number)
            .select_from(a.outerjoin(orm.members, m.member_id == a.c.member_id))
            .where(a.c.activity_id.in_(set(activity_ids))))
        return {r.activity_id: r for r in rows}

    def activities_of(self, member_id: str, after: tuple[str, ...], limit: int) -> list[Any]:
        a = orm.activities.c
        query = select(orm.activities).where(a.member_id == member_id)
        if after:
            created, ident = datetime.fromisoformat(after[0]), after[1]
            query = query.where(or_(a.created_at > created, and_(a.created_at == created, a.activity_id > ident)))
        return list(self.session.execute(query.order_by(a.created_at, a.activity_id).limit(limit)))

    def ledger(self, activity_id: str, *, reference: str | None = None) -> ActivityLedger:
        """The activity's ledger (every entry, or only those of one reference)."""
        e = orm.ledger_entries.c
        query = select(orm.ledger_entries).where(e.activity_id == activity_id)
        if reference is not None:
            query = query.where(e.reference == reference)
        rows = self.session.execute(query.order_by(e.entry_id)).all()
        return ActivityLedger(activity_id, [
            LedgerEntry(i, EntryKind(r.kind), r.amount_cents, r.on, r.reference, r.contract_id,
                        r.balance_delta, r.reserved_delta)
            for i, r in enumerate(rows, start=1)])

    def add_entries(self, activity_id: str, entries: Iterable[LedgerEntry]) -> None:
        self.add_entries_of([(activity_id, x) for x in entries])

    def add_entries_of(self, entries: Iterable[tuple[str, LedgerEntry]]) -> None:
        """Entries of several activities, (activity id, entry) in posting order, in one statement."""
        rows = [dict(activity_id=activity_id, kind=x.kind.value, amount_cents=x.amount_cents, on=x.on,
                     reference=x.reference, contract_id=x.contract_id, balance_delta=x.balance_delta,
                     reserved_delta=x.reserved_delta) for activity_id, x in entries]
        if rows:
            self.session.execute(insert(orm.ledger_entries), rows)

    def entries_page(self, activity_id: str, after_id: int, limit: int) -> list[Any]:
        e = orm.ledger_entries.c
        return list(self.session.execute(
            select(orm.ledger_entries).where(e.activity_id == activity_id, e.entry_id > after_id)
            .order_by(e.entry_id).limit(limit)))

    def balances(self, activity_id: str) -> tuple[int, int]:
        e = orm.ledger_entries.c
        balance, reserved = self.session.execute(
            select(func.coalesce(func.sum(e.balance_delta), 0), func.coalesce(func.sum(e.reserved_delta), 0))
            .where(e.activity_id == activity_id)).one()
        return int(balance), int(reserved)

    # -- rates
    def schedule(self) -> RateSchedule:
        """The published defaults (since 2000) overlaid with every configured change."""
        rows = self.session.execute(select(orm.rates)).all()
        stored = {(RateKind(r.kind), r.effective_from): r.basis_points for r in rows}
        default = RateSchedule.default()
        for kind in RateKind:
            for change in default.changes(kind):
                stored.setdefault((kind, change.effective_from), change.basis_points)
        return RateSchedule(RateChange(k, d, bp) for (k, d), bp in stored.items())

    def add_rate(self, change: RateChange) -> bool:
        stmt = self._insert(orm.rates).values(
            kind=change.kind.value, effective_from=change.effective_from,
            basis_points=change.basis_points).on_conflict_do_nothing(index_elements=["kind", "effective_from"])
        return self.session.execute(stmt).rowcount == 1

    # -- gapless numbering
    def next_number(self, series: str, year: int) -> int:
        """Take the next number of a (series, year) under a row lock held until commit.

        A rolled-back transaction gives its number back, so numbers are gapless; the
        lock makes concurrent issuers queue, so they are never duplicated.
        """
        first = self.take_numbers(series, year, 1)
        assert first is not None  # undated: never refused
        return first

    def take_numbers(self, series: str, year: int, count: int, *, first_on: date | None = None,
                     last_on: date | None = None) -> int | None:
        """Take `count` consecutive numbers (see next_number); returns the first of them.

        Dated documents give their earliest and latest date: the numbers are taken only if the
        earliest is not before the series' latest document so far (numbers follow dates), and
        that latest date moves on. None when it is before: nothing was taken, and the counter row
        stays locked until commit, so that `series_last_on` then reads the date that refused."""
        c = orm.number_counters.c
        where = [c.series == series, c.year == year]
        values: dict[str, Any] = {"last_value": c.last_value + count}
        if first_on is not None and last_on is not None:
            where.append(or_(c.last_on.is_(None), c.last_on <= first_on))
            values["last_on"] = case((or_(c.last_on.is_(None), c.last_on < last_on), last_on), else_=c.last_on)
        # One statement takes the row lock and the numbers: the lock is held for one round trip
        # less than SELECT ... FOR UPDATE followed by UPDATE (the counter is the issuing hot spot).
        take = update(orm.number_counters).where(*where).values(**values).returning(c.last_value)
        last = self.session.execute(take).scalar_one_or_none()
        if last is None:  # the series' first number this year (create its counter), or too early
            self.session.execute(
                self._insert(orm.number_counters).values(series=series, year=year, last_value=0)
                .on_conflict_do_nothing(index_elements=["series", "year"]))
            last = self.session.execute(take).scalar_one_or_none()
        return None if last is None else last - count + 1

    def series_last_on(self, series: str, year: int) -> date | None:
        """The date of the series' latest document, under the counter's row lock."""
        c = orm.number_counters.c
        query = select(c.last_on).where(c.series == series, c.year == year)
        return self.session.execute(self._locked(query)).scalar_one_or_none()

    # -- closed years
    def fiscal_years(self, years: Iterable[int]) -> dict[int, Any]:
        """The rows of `years` (created when missing), held FOR SHARE until commit on PostgreSQL:
        CloseYear (close_year) waits for this transaction, or this one for CloseYear, so a write
        dated in a year never commits beside that year's closing. SQLite runs one writer at a time."""
        y = orm.fiscal_years.c
        wanted = sorted(set(years))
        query = select(orm.fiscal_years).where(y.year.in_(wanted)).order_by(y.year)
        if self.postgres:
            query = query.with_for_update(read=True)
        rows = {r.year: r for r in self.session.execute(query)}
        missing = [year for year in wanted if year not in rows]
        if missing:
            self.session.execute(self._insert(orm.fiscal_years).values([{"year": year} for year in missing])
                                 .on_conflict_do_nothing(index_elements=["year"]))
            rows.update({r.year: r for r in self.session.execute(query.where(y.year.in_(missing)))})
        return rows

    def close_year(self, year: int, actor: str, now: datetime) -> tuple[Any, bool]:
        """Close a year: (its row, True when it was closed before). Takes the row FOR UPDATE, so it
        waits for every write still dated in that year (they hold it FOR SHARE)."""
        y = orm.fiscal_years.c
        self.session.execute(self._insert(orm.fiscal_years).values(year=year)
                             .on_conflict_do_nothing(index_elements=["year"]))
        row = self.session.execute(self._locked(select(orm.fiscal_years).where(y.year == year))).one()
        if row.closed_at is not None:
            return row, True
        self.session.execute(update(orm.fiscal_years).where(y.year == year)
                             .values(closed_at=now, closed_by=actor[:100]))
        return self.session.execute(select(orm.fiscal_years).where(y.year == year)).one(), False

    # -- invoices
    def add_invoices(self, invoices: list[StoredInvoice]) -> None:
        """New invoices with their lines: one statement for the invoices, one for all lines."""
        now = utcnow()
        for stored in invoices:
            stored.created_at = now
        self.session.execute(insert(orm.invoices), [
            dict(invoice_id=x.invoice.invoice_id, member_id=x.invoice.member_id, activity_id=x.invoice.activity_id,
                 client_id=x.client_id, created_at=now, **self._invoice_values(x)) for x in invoices])
        self._insert_lines([(x.invoice.invoice_id, line, i) for x in invoices for i, line in enumerate(x.invoice.lines)])

    def _insert_lines(self, lines: Iterable[tuple[str, InvoiceLine, int]]) -> None:
        """(invoice id, line, position) rows in one statement."""
        rows = [dict(invoice_id=invoice_id, position=position, description=line.description,
                     quantity=str(line.quantity), unit_price_cents=line.unit_price_cents,
                     vat_rate=line.vat_rate.value) for invoice_id, line, position in lines]
        if rows:
            self.session.execute(insert(orm.invoice_lines), rows)

    def invoice(self, invoice_id: str, *, lock: bool = False) -> StoredInvoice | None:
        i = orm.invoices.c
        query = select(orm.invoices).where(i.invoice_id == invoice_id)
        row = self.session.execute(self._locked(query) if lock else query).first()
        if row is None:
            return None
        return self._assemble([row])[0]

    def invoice_member_id(self, invoice_id: str) -> str | None:
        return self.session.execute(select(orm.invoices.c.member_id).where(
            orm.invoices.c.invoice_id == invoice_id)).scalar_one_or_none()

    def _assemble(self, rows: list[Any]) -> list[StoredInvoice]:
        if not rows:
            return []
        ids = [r.invoice_id for r in rows]
        lines: dict[str, list[InvoiceLine]] = {x: [] for x in ids}
        for line in self.session.execute(select(orm.invoice_lines).where(
                orm.invoice_lines.c.invoice_id.in_(ids)).order_by(orm.invoice_lines.c.position)):
            lines[line.invoice_id].append(InvoiceLine(line.description, Decimal(line.quantity),
                                                      line.unit_price_cents, line.vat_rate))
        pays: dict[str, list[Payment]] = {x: [] for x in ids}
        for p in self.session.execute(select(orm.payments).where(
                orm.payments.c.invoice_id.in_(ids)).order_by(orm.payments.c.seq)):
            pays[p.invoice_id].append(Payment(p.payment_id, p.amount_cents, p.paid_on))
        clients = self.clients(r.client_id for r in rows)
        out = []
        for r in rows:
            c = clients[r.client_id]
            invoice = Invoice(
                r.invoice_id, r.member_id, r.activity_id,
                Client(c.name, c.country, c.address, c.vat_number),
                _lines=lines[r.invoice_id], state=InvoiceState(r.state),
                number=parse_invoice_number(r.number) if r.number else None,
                issued_on=r.issued_on, due_on=r.due_on, _payments=pays[r.invoice_id])
            if r.credit_note_number:
                invoice.credit_note = CreditNote(
                    parse_invoice_number(r.credit_note_number), invoice.number, r.credit_note_on,
                    r.credit_note_reason or "", invoice.lines)
            out.append(StoredInvoice(invoice, r.client_id, r.contribution_cents,
                                     r.contribution_rate_bp, r.created_at))
        return out

    @staticmethod
    def _invoice_values(stored: StoredInvoice) -> dict[str, Any]:
        inv = stored.invoice
        totals = inv.totals()
        note = inv.credit_note
        return dict(
            state=inv.state.value, number=str(inv.number) if inv.number else None,
            year=inv.number.year if inv.number else None, issued_on=inv.issued_on, due_on=inv.due_on,
            net_cents=totals.net_cents, vat_cents=totals.vat_cents, total_cents=totals.total_cents,
            paid_cents=inv.paid_cents, contribution_cents=stored.contribution_cents,
            contribution_rate_bp=stored.contribution_rate_bp,
            credit_note_number=str(note.number) if note else None,
            credit_note_on=note.issued_on if note else None, credit_note_reason=note.reason if note else None)

    def save_invoice(self, stored: StoredInvoice, *, new_lines_from: int | None = None,
                     new_payments: Iterable[Payment] = ()) -> None:
        inv = stored.invoice
        self.session.execute(update(orm.invoices).where(orm.invoices.c.invoice_id == inv.invoice_id)
                             .values(**self._invoice_values(stored)))
        if new_lines_from is not None:
            self._insert_lines((inv.invoice_id, line, new_lines_from + i)
                               for i, line in enumerate(inv.lines[new_lines_from:]))
        new_payments = list(new_payments)  # counted then iterated: never consume a generator twice
        first = len(inv.payments) - len(new_payments)
        rows = [dict(invoice_id=inv.invoice_id, payment_id=p.payment_id, seq=first + n,
                     amount_cents=p.amount_cents, paid_on=p.paid_on) for n, p in enumerate(new_payments)]
        if rows:
            self.session.execute(insert(orm.payments), rows)

    def add_payment_reference(self, client_id: str, year: int, payment_id: str, invoice_id: str) -> bool:
        """Reserve a bank reference for this payer and year; False when a payment of that client in
        that year already used it (a concurrent one waits on the key and then finds it)."""
        stmt = self._insert(orm.payment_references).values(
            client_id=client_id, year=year, payment_id=payment_id, invoice_id=invoice_id
        ).on_conflict_do_nothing(index_elements=["client_id", "year", "payment_id"])
        return self.session.execute(stmt).rowcount == 1

    def invoices_of(self, member_id: str, year: int, after: tuple[str, ...], limit: int) -> list[StoredInvoice]:
        i = orm.invoices.c
        query = select(orm.invoices).where(i.member_id == member_id)
        if year:
            query = query.where(or_(i.year == year, and_(i.year.is_(None),
                                                         func.extract("year", i.created_at) == year)))
        if after:
            created, ident = datetime.fromisoformat(after[0]), after[1]
            query = query.where(or_(i.created_at > created, and_(i.created_at == created, i.invoice_id > ident)))
        rows = self.session.execute(query.order_by(i.created_at, i.invoice_id).limit(limit)).all()
        return self._assemble(rows)

    # -- contracts
    def add_contract(self, stored: StoredContract) -> None:
        self.session.execute(insert(orm.contracts).values(
            contract_id=stored.contract.contract_id, member_id=stored.contract.member_id,
            activity_id=stored.contract.activity_id, **self._contract_values(stored)))

    def save_contract(self, stored: StoredContract) -> None:
        self.session.execute(update(orm.contracts)
                             .where(orm.contracts.c.contract_id == stored.contract.contract_id)
                             .values(**self._contract_values(stored)))

    @staticmethod
    def _contract_values(stored: StoredContract) -> dict[str, Any]:
        c, t = stored.contract, stored.contract.terms
        cost = c.cost or ContractCost(t.gross_cents, 0, 0, 0, 0)
        return dict(
            state=c.state.value, start_date=t.start, end_date=t.end, days=t.days,
            hours=str(t.hours) if t.hours is not None else None, gross_cents=t.gross_cents,
            job_title=t.job_title, joint_committee=t.joint_committee,
            social_charges_cents=cost.social_charges_cents, employer_cost_cents=cost.employer_cost_cents,
            employment_contribution_cents=cost.employment_contribution_cents,
            total_cost_cents=cost.total_cents, reserved_cents=c.reserved_cents, revision=stored.revision,
            social_charges_rate_bp=cost.social_charges_rate_bp, employment_rate_bp=cost.employment_rate_bp,
            created_at=stored.created_at, updated_at=stored.updated_at,
            gross_paid_cents=c.gross_paid_cents, spent_cents=c.spent_cents)

    @staticmethod
    def _contract_from_row(r: Any) -> StoredContract:
        terms = ContractTerms(r.start_date, r.end_date, r.gross_cents, r.job_title, r.joint_committee,
                              days=r.days, hours=Decimal(r.hours) if r.hours is not None else None)
        cost = ContractCost(r.gross_cents, r.social_charges_cents, r.employer_cost_cents,
                            r.employment_contribution_cents, r.total_cost_cents, r.social_charges_rate_bp,
                            r.employment_rate_bp)
        contract = EmploymentContract(r.contract_id, r.member_id, r.activity_id, terms,
                                      ContractState(r.state), r.reserved_cents, cost,
                                      gross_paid_cents=r.gross_paid_cents, spent_cents=r.spent_cents)
        return StoredContract(contract, r.revision, r.created_at, r.updated_at)

    def contract(self, contract_id: str, *, lock: bool = False) -> StoredContract | None:
        query = select(orm.contracts).where(orm.contracts.c.contract_id == contract_id)
        row = self.session.execute(self._locked(query) if lock else query).first()
        return self._contract_from_row(row) if row else None

    def contracts_of(self, member_id: str, after: tuple[str, ...], limit: int) -> list[StoredContract]:
        k = orm.contracts.c
        query = select(orm.contracts).where(k.member_id == member_id)
        if after:
            created, ident = datetime.fromisoformat(after[0]), after[1]
            query = query.where(or_(k.created_at > created, and_(k.created_at == created, k.contract_id > ident)))
        rows = self.session.execute(query.order_by(k.created_at, k.contract_id).limit(limit)).all()
        return [self._contract_from_row(r) for r in rows]

    # -- payroll runs
    def payroll_run(self, contract_id: str, reference: str) -> Any:
        r = orm.payroll_runs.c
        return self.session.execute(select(orm.payroll_runs).where(
            r.contract_id == contract_id, r.payroll_reference == reference)).first()

    def add_payroll_run(self, **values: Any) -> Any:
        """Insert a payroll run; returns its row as payroll_run reads it."""
        return self.session.execute(insert(orm.payroll_runs).values(**values).returning(orm.payroll_runs)).one()

    # -- share-fee payments
    def share_fee_payment(self, bank_reference: str) -> Any:
        """The payment of that reference with its fee's member and year, or None."""
        p, f = orm.share_fee_payments.c, orm.share_fees.c
        return self.session.execute(
            select(orm.share_fee_payments, f.member_id, f.year)
            .select_from(orm.share_fee_payments.join(orm.share_fees, f.fee_id == p.fee_id))
            .where(p.bank_reference == bank_reference)).first()

    def add_share_fee_payment(self, **values: Any) -> bool:
        """True when recorded; False when that bank reference was taken meanwhile."""
        stmt = self._insert(orm.share_fee_payments).values(**values).on_conflict_do_nothing(
            index_elements=["bank_reference"])
        return self.session.execute(stmt).rowcount == 1

    def share_fee_payments_of(self, fee_ids: Iterable[str]) -> dict[str, list[Any]]:
        """Payments per fee id, oldest first."""
        p = orm.share_fee_payments.c
        out: dict[str, list[Any]] = {fee_id: [] for fee_id in fee_ids}
        if out:
            for row in self.session.execute(select(orm.share_fee_payments).where(p.fee_id.in_(list(out)))
                                            .order_by(p.recorded_at, p.bank_reference)):
                out[row.fee_id].append(row)
        return out

    # -- share fees
    def share_fee(self, member_id: str, year: int, *, lock: bool = False) -> Any:
        f = orm.share_fees.c
        query = select(orm.share_fees).where(f.member_id == member_id, f.year == year)
        return self.session.execute(self._locked(query) if lock else query).first()

    def add_share_fee(self, **values: Any) -> bool:
        stmt = self._insert(orm.share_fees).values(created_at=utcnow(), **values) \
            .on_conflict_do_nothing(index_elements=["member_id", "year"])
        return self.session.execute(stmt).rowcount == 1

    def update_share_fee(self, fee_id: str, **values: Any) -> None:
        self.session.execute(update(orm.share_fees).where(orm.share_fees.c.fee_id == fee_id).values(**values))

    def share_fee_count(self, year: int) -> int:
        return int(self.session.execute(select(func.count()).select_from(orm.share_fees)
                                        .where(orm.share_fees.c.year == year)).scalar_one())

    def share_fees_of(self, member_id: str) -> list[Any]:
        f = orm.share_fees.c
        return list(self.session.execute(select(orm.share_fees).where(f.member_id == member_id).order_by(f.year)))

    # -- statements
    STATEMENT_FIGURES = ("revenue", "contribution", "budget_in", "budget_out", "contracts", "social",
                         "employment", "gross", "share_fee")

    def statement_figures(self, member_id: str, year: int) -> dict[str, int]:
        return self.statement_figures_of([member_id], year)[member_id]

    def statement_figures_of(self, member_ids: list[str], year: int) -> dict[str, dict[str, int]]:
        """Each member's yearly figures (zeros where nothing happened): three grouped queries
        whatever the number of members, so a whole year's statements cost a few scans.

        Revenue and contribution are the ledger's: what payments credited that year, less the
        credit notes issued that year (a credit note counts in its own year), so that
        net = gross salaries + budget left - share fee, to the cent, in every year."""
        e, r, a, f = orm.ledger_entries.c, orm.payroll_runs.c, orm.activities.c, orm.share_fees.c
        first, last = date(year, 1, 1), date(year, 12, 31)
        out = {m: dict.fromkeys(self.STATEMENT_FIGURES, 0) for m in member_ids}
        wanted = list(out)

        def fill(query: Any, names: tuple[str, ...]) -> None:
            for member_id, *values in self.session.execute(query):
                out[member_id].update(zip(names, (int(v) for v in values), strict=True))

        def amounts(kind: EntryKind) -> Any:
            return func.coalesce(func.sum(e.amount_cents).filter(e.kind == kind.value), 0)

        fill(select(a.member_id, amounts(EntryKind.INVOICE) - amounts(EntryKind.CREDIT_NOTE),
                    amounts(EntryKind.REVENUE_CONTRIBUTION) - amounts(EntryKind.CONTRIBUTION_REVERSAL),
                    func.coalesce(func.sum(e.balance_delta).filter(e.balance_delta > 0), 0),
                    func.coalesce(-func.sum(e.balance_delta).filter(e.balance_delta < 0), 0))
             .select_from(orm.ledger_entries.join(orm.activities, a.activity_id == e.activity_id))
             .where(a.member_id.in_(wanted), e.on >= first, e.on <= last).group_by(a.member_id),
             ("revenue", "contribution", "budget_in", "budget_out"))
        # Employment: the payroll runs paid that year (what was actually paid, not reserved).
        fill(select(r.member_id, func.count(func.distinct(r.contract_id)), func.sum(r.social_charges_cents),
                    func.sum(r.employment_contribution_cents), func.sum(r.gross_cents))
             .where(r.member_id.in_(wanted), r.paid_on >= first, r.paid_on <= last).group_by(r.member_id),
             ("contracts", "social", "employment", "gross"))
        fill(select(f.member_id, func.sum(f.amount_cents))
             .where(f.member_id.in_(wanted), f.year == year).group_by(f.member_id), ("share_fee",))
        return out

    def applied_rates_of(self, member_ids: list[str], year: int) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
        """Per member, the rates actually applied in a year, ascending: (revenue contribution
        rates of the contributions taken that year, employment contribution rates of the payroll
        runs paid that year)."""
        e, a, i, r, k = orm.ledger_entries.c, orm.activities.c, orm.invoices.c, orm.payroll_runs.c, orm.contracts.c
        first, last = date(year, 1, 1), date(year, 12, 31)
        found: dict[str, tuple[set[int], set[int]]] = {m: (set(), set()) for m in member_ids}
        taken = (select(a.member_id, i.contribution_rate_bp)
                 .select_from(orm.ledger_entries.join(orm.activities, a.activity_id == e.activity_id)
                              .join(orm.invoices, i.number == e.reference))
                 .where(a.member_id.in_(list(found)), e.kind == EntryKind.REVENUE_CONTRIBUTION.value,
                        e.on >= first, e.on <= last).group_by(a.member_id, i.contribution_rate_bp))
        for member_id, rate in self.session.execute(taken):
            found[member_id][0].add(int(rate))
        paid = (select(r.member_id, k.employment_rate_bp)
                .select_from(orm.payroll_runs.join(orm.contracts, k.contract_id == r.contract_id))
                .where(r.member_id.in_(list(found)), r.paid_on >= first, r.paid_on <= last)
                .group_by(r.member_id, k.employment_rate_bp))
        for member_id, rate in self.session.execute(paid):
            found[member_id][1].add(int(rate))
        return {m: (tuple(sorted(rev)), tuple(sorted(emp))) for m, (rev, emp) in found.items()}

    def member_count(self, after: str = "") -> int:
        return self.session.execute(select(func.count()).select_from(orm.members)
                                    .where(orm.members.c.member_id > after)).scalar_one()

    def members_page(self, after: str, limit: int) -> list[Any]:
        """Members of the projection in id order, after `after` (keyset pagination)."""
        m = orm.members.c
        return list(self.session.execute(
            select(orm.members).where(m.member_id > after).order_by(m.member_id).limit(limit)))

    # -- redistribution
    def revenue_by_member(self, start: date | None, end: date | None) -> list[tuple[str, int, str]]:
        """(member id, revenue excl. VAT, sector of their largest activity) over a period, on the
        paid basis: what clients' payments credited to the members' budgets in the period, less
        the credit notes issued in it (an invoice never paid counts for nothing)."""
        e, a = orm.ledger_entries.c, orm.activities.c
        where = [e.kind.in_((EntryKind.INVOICE.value, EntryKind.CREDIT_NOTE.value))]
        if start:
            where.append(e.on >= start)
        if end:
            where.append(e.on <= end)
        signed = func.sum(case((e.kind == EntryKind.INVOICE.value, e.amount_cents), else_=-e.amount_cents))
        rows = self.session.execute(
            select(a.member_id, a.sector_code, signed)
            .select_from(orm.ledger_entries.join(orm.activities, a.activity_id == e.activity_id))
            .where(*where).group_by(a.member_id, a.sector_code)).all()
        best: dict[str, tuple[int, str]] = {}
        totals: dict[str, int] = {}
        for member_id, sector, revenue in rows:
            revenue = int(revenue)
            totals[member_id] = totals.get(member_id, 0) + revenue
            if member_id not in best or (revenue, sector) > best[member_id]:
                best[member_id] = (revenue, sector)
        return sorted((m, totals[m], best[m][1]) for m in totals)

    def envelope(self, envelope_id: str) -> Any:
        return self.session.execute(select(orm.envelopes).where(
            orm.envelopes.c.envelope_id == envelope_id)).first()

    def add_envelope(self, **values: Any) -> bool:
        stmt = self._insert(orm.envelopes).values(**values).on_conflict_do_nothing(
            index_elements=["envelope_id"])
        return self.session.execute(stmt).rowcount == 1

    def add_payouts(self, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), 5000):
            self.session.execute(insert(orm.payouts), rows[start:start + 5000])

    def payouts(self, envelope_id: str, after: str, limit: int) -> list[Any]:
        p = orm.payouts.c
        return list(self.session.execute(select(orm.payouts).where(
            p.envelope_id == envelope_id, p.member_id > after).order_by(p.member_id).limit(limit)))


class BillingUnitOfWork(UnitOfWork):
    """Repository + outbox in one transaction."""

    billing: SqlBillingRepository

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        super().__init__(session_factory, source=SERVICE_NAME, translate=events_out.translate)

    def _open(self) -> None:
        self.billing = SqlBillingRepository(self.session)


__all__ = ["BillingUnitOfWork", "SqlBillingRepository", "utcnow"]
