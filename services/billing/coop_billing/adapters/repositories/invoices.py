"""Invoices with their lines, payments and credit notes."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update

from coop_billing.adapters import orm
from coop_billing.adapters.repositories import SqlRepository, keyset_page
from coop_billing.adapters.repositories.clients import SqlClientRepository
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
from coop_domain.clock import utcnow


class SqlInvoiceRepository(SqlRepository):
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
        row = self.session.execute(self.dialect.for_update(query) if lock else query).first()
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
        clients = SqlClientRepository(self.session, self.dialect).clients(r.client_id for r in rows)
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
        stmt = self.dialect.insert(orm.payment_references).values(
            client_id=client_id, year=year, payment_id=payment_id, invoice_id=invoice_id
        ).on_conflict_do_nothing(index_elements=["client_id", "year", "payment_id"])
        return self.session.execute(stmt).rowcount == 1

    def invoices_of(self, member_id: str, year: int, after: tuple[str, ...], limit: int) -> list[StoredInvoice]:
        i = orm.invoices.c
        query = select(orm.invoices).where(i.member_id == member_id)
        if year:
            query = query.where(or_(i.year == year, and_(i.year.is_(None),
                                                         func.extract("year", i.created_at) == year)))
        rows = self.session.execute(keyset_page(query, i.created_at, i.invoice_id, after, limit)).all()
        return self._assemble(rows)
