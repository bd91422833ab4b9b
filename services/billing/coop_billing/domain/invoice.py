"""Invoices, credit notes and payments.

Amounts are integer cents. Rounding (see ``money``): each line's net amount
(quantity x unit price) and each line's VAT are rounded half up to the cent;
the invoice's VAT for a rate is the sum of its lines' VAT, so a printed
invoice's lines always add up to its totals.

Life cycle::

    draft --issue--> issued --pay (part)--> partially_paid --pay (rest)--> paid
                       \\______________________\\_______________________\\
                                                                  --credit note--> cancelled

An issued invoice is NEVER edited: it is cancelled by a credit note (a full
reversal) and, if needed, a new invoice is drafted. A payment above the amount
due marks the invoice paid and records the excess as the client's credit
balance; after cancellation everything already paid becomes credit balance
(to be refunded or set off). Payments are refused on drafts, paid and
cancelled invoices: unallocated money is handled outside this aggregate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument

from .money import apply_percent, div_round_half_up, require_at_most_max, require_cents
from .vat import Client

DEFAULT_PAYMENT_TERM_DAYS = 30


class VatRate(Enum):
    """Belgian VAT rates, plus intra-EU reverse charge (0 % here, client self-assesses)."""

    STANDARD = "21"
    INTERMEDIATE = "12"
    REDUCED = "6"
    ZERO = "0"
    REVERSE_CHARGE = "reverse_charge"

    @property
    def percent(self) -> int:
        """VAT percentage charged on the invoice (0 for reverse charge)."""
        return 0 if self is VatRate.REVERSE_CHARGE else int(self.value)

    @classmethod
    def parse(cls, value: VatRate | int | str) -> VatRate:
        """Accept 21, "21", "reverse_charge" or a VatRate."""
        if isinstance(value, VatRate):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise InvalidArgument(
                f"VAT rate must be one of 21, 12, 6, 0 or reverse_charge, got {value!r}",
                {"field": "vat_rate"}, reason="UNKNOWN_VAT_RATE",
            ) from None


class InvoiceState(Enum):
    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CANCELLED = "cancelled"


# ----------------------------------------------------------------- numbering

_NUMBER_RE = re.compile(r"(?:(?P<series>[A-Z]{1,4})-)?(?P<year>\d{4})-(?P<seq>\d{6,})\Z")


@dataclass(frozen=True, slots=True, order=True)
class DocumentNumber:
    """Number of an invoice ("2026-000001") or credit note ("CN-2026-000001").

    The sequence restarts every year and is allocated by the database layer;
    this only formats and parses. Numbers sort chronologically within a series.
    """

    series: str
    year: int
    sequence: int

    def __post_init__(self) -> None:
        if self.series and not re.fullmatch(r"[A-Z]{1,4}", self.series):
            raise InvalidArgument(f"bad number series {self.series!r}")
        if not 1000 <= self.year <= 9999:
            raise InvalidArgument(f"bad year {self.year!r}")
        if isinstance(self.sequence, bool) or not isinstance(self.sequence, int) or self.sequence < 1:
            raise InvalidArgument(f"sequence must be a positive integer, got {self.sequence!r}")

    def __str__(self) -> str:
        core = f"{self.year:04d}-{self.sequence:06d}"
        return f"{self.series}-{core}" if self.series else core


INVOICE_SERIES = ""
CREDIT_NOTE_SERIES = "CN"


def format_invoice_number(year: int, sequence: int, series: str = INVOICE_SERIES) -> str:
    """format_invoice_number(2026, 1) == "2026-000001"."""
    return str(DocumentNumber(series, year, sequence))


def parse_invoice_number(text: str) -> DocumentNumber:
    """Inverse of :func:`format_invoice_number`; raises InvalidArgument."""
    match = _NUMBER_RE.match(text.strip().upper()) if isinstance(text, str) else None
    if not match:
        raise InvalidArgument(f"not an invoice number: {text!r}", {"field": "number"})
    return DocumentNumber(match["series"] or "", int(match["year"]), int(match["seq"]))


# --------------------------------------------------------------------- lines


def _quantity(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float | bool):
        raise InvalidArgument("quantity must be a Decimal, int or str, not float", {"field": "quantity"}, reason="INVALID_QUANTITY")
    try:
        q = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidArgument(f"bad quantity {value!r}", {"field": "quantity"}, reason="INVALID_QUANTITY") from None
    if not q.is_finite() or q <= 0:
        raise InvalidArgument("quantity must be positive", {"field": "quantity"}, reason="INVALID_QUANTITY")
    if q != q.quantize(Decimal("0.001")):
        raise InvalidArgument("quantity has at most 3 decimals", {"field": "quantity"}, reason="INVALID_QUANTITY")
    return q


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line: quantity (Decimal, up to 3 decimals) x unit price (cents), one VAT rate."""

    description: str
    quantity: Decimal
    unit_price_cents: int
    vat_rate: VatRate

    def __post_init__(self) -> None:
        description = (self.description or "").strip()
        if not description:
            raise InvalidArgument("line description is required", {"field": "description"}, reason="FIELD_REQUIRED")
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "quantity", _quantity(self.quantity))
        require_cents(self.unit_price_cents, "unit_price_cents")
        if self.unit_price_cents < 0:
            raise InvalidArgument("unit price must be >= 0 (use a credit note to reduce)", field="unit_price_cents",
                                  reason="AMOUNT_NEGATIVE")
        object.__setattr__(self, "vat_rate", VatRate.parse(self.vat_rate))
        require_at_most_max(self.net_cents + self.vat_cents, "lines")  # quantity x price, VAT included

    @property
    def quantity_milli(self) -> int:
        """Quantity in thousandths, so every computation stays in integers."""
        return int(self.quantity * 1000)

    @property
    def net_cents(self) -> int:
        """Quantity x unit price, rounded half up to the cent."""
        return div_round_half_up(self.quantity_milli * self.unit_price_cents, 1000)

    @property
    def vat_cents(self) -> int:
        """This line's VAT, rounded half up to the cent."""
        return apply_percent(self.net_cents, self.vat_rate.percent)


@dataclass(frozen=True, slots=True)
class Totals:
    """Totals of an invoice or credit note (negative for a credit note)."""

    net_cents: int
    net_by_rate: dict[VatRate, int]
    vat_by_rate: dict[VatRate, int]
    vat_cents: int
    total_cents: int

    @classmethod
    def of(cls, lines: tuple[InvoiceLine, ...] | list[InvoiceLine], sign: int = 1) -> Totals:
        """Sum lines; ``sign=-1`` gives the exact reversal (symmetric rounding)."""
        net_by_rate: dict[VatRate, int] = {}
        vat_by_rate: dict[VatRate, int] = {}
        for line in lines:
            net_by_rate[line.vat_rate] = net_by_rate.get(line.vat_rate, 0) + sign * line.net_cents
            vat_by_rate[line.vat_rate] = vat_by_rate.get(line.vat_rate, 0) + sign * line.vat_cents
        net = sum(net_by_rate.values())
        vat = sum(vat_by_rate.values())
        return cls(net, net_by_rate, vat_by_rate, vat, net + vat)

    def plus(self, line: InvoiceLine) -> Totals:
        """These totals with one more line (what ``of`` gives for the lines and that line)."""
        rate = line.vat_rate
        net_by_rate = {**self.net_by_rate, rate: self.net_by_rate.get(rate, 0) + line.net_cents}
        vat_by_rate = {**self.vat_by_rate, rate: self.vat_by_rate.get(rate, 0) + line.vat_cents}
        net, vat = self.net_cents + line.net_cents, self.vat_cents + line.vat_cents
        return Totals(net, net_by_rate, vat_by_rate, vat, net + vat)


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received against an invoice; ``payment_id`` makes recording idempotent."""

    payment_id: str
    amount_cents: int
    paid_on: date


@dataclass(frozen=True, slots=True)
class CreditNote:
    """Full reversal of an issued invoice: its totals are the invoice's, negated."""

    number: DocumentNumber
    invoice_number: DocumentNumber
    issued_on: date
    reason: str
    lines: tuple[InvoiceLine, ...]

    @property
    def totals(self) -> Totals:
        return Totals.of(self.lines, sign=-1)


@dataclass
class Invoice:
    """Invoice aggregate. Editable only as a draft; see the module docstring."""

    invoice_id: str
    member_id: str
    activity_id: str
    client: Client
    supplier_country: str = "BE"
    _lines: list[InvoiceLine] = field(default_factory=list)
    state: InvoiceState = InvoiceState.DRAFT
    number: DocumentNumber | None = None
    issued_on: date | None = None
    due_on: date | None = None
    _payments: list[Payment] = field(default_factory=list)
    credit_note: CreditNote | None = None
    # totals of the current lines, kept until a line changes (issuing reads them several times)
    _totals: Totals | None = field(default=None, repr=False, compare=False)

    # -- draft editing
    @property
    def lines(self) -> tuple[InvoiceLine, ...]:
        return tuple(self._lines)

    @property
    def payments(self) -> tuple[Payment, ...]:
        return tuple(self._payments)

    def _require_draft(self, action: str) -> None:
        if self.state is not InvoiceState.DRAFT:
            raise FailedPrecondition(
                f"cannot {action}: invoice is {self.state.value}; an issued invoice is "
                "never edited, cancel it with a credit note",
                {"state": self.state.value}, reason="INVOICE_NOT_DRAFT",
            )

    def _check_reverse_charge(self, line: InvoiceLine) -> None:
        if line.vat_rate is VatRate.REVERSE_CHARGE and not self.client.reverse_charge_allowed(
            self.supplier_country
        ):
            raise InvalidArgument(
                "reverse charge needs a client with a VAT number in another EU member state",
                {"field": "vat_rate"}, reason="REVERSE_CHARGE_NOT_ALLOWED",
            )

    def add_line(self, line: InvoiceLine) -> None:
        """Append a line (draft only)."""
        self._require_draft("add a line")
        self._check_reverse_charge(line)
        if self._totals is None:
            self._totals = Totals.of(self._lines)
        require_at_most_max(self._totals.total_cents + line.net_cents + line.vat_cents, "lines")
        self._lines.append(line)
        self._totals = self._totals.plus(line)

    def remove_line(self, index: int) -> InvoiceLine:
        """Remove a line by position (draft only)."""
        self._require_draft("remove a line")
        if not 0 <= index < len(self._lines):
            raise InvalidArgument(f"no line at index {index}")
        self._totals = None
        return self._lines.pop(index)

    def totals(self) -> Totals:
        if self._totals is None:
            self._totals = Totals.of(self._lines)
        return self._totals

    # -- life cycle
    def issue(self, number: DocumentNumber, issued_on: date, due_on: date | None = None) -> None:
        """Freeze the invoice under its number. Contribution is taken at this moment."""
        due = self.check_issuable(issued_on, due_on)
        if number.series != INVOICE_SERIES:
            raise InvalidArgument(f"{number} is not in the invoice series")
        if number.year != issued_on.year:
            raise InvalidArgument(f"number {number} does not match the issue year {issued_on.year}")
        self.number, self.issued_on, self.due_on = number, issued_on, due
        self.state = InvoiceState.ISSUED

    def check_issuable(self, issued_on: date, due_on: date | None = None) -> date:
        """Every reason `issue` would refuse, checked before a number is taken (so a refusal
        never queues for the numbering lock); returns the due date."""
        self._require_draft("issue")
        if not self._lines:
            raise FailedPrecondition("cannot issue an invoice without lines", field="lines", reason="NO_LINES")
        if self.totals().total_cents <= 0:
            raise FailedPrecondition("cannot issue an invoice whose total is zero", field="lines", reason="ZERO_TOTAL")
        due = due_on or issued_on + timedelta(days=DEFAULT_PAYMENT_TERM_DAYS)
        if due < issued_on:
            raise InvalidArgument("due date is before the issue date", field="due_on", reason="DUE_BEFORE_ISSUE")
        for line in self._lines:  # client may have changed since the line was added
            self._check_reverse_charge(line)
        return due

    @property
    def paid_cents(self) -> int:
        return sum(p.amount_cents for p in self._payments)

    @property
    def due_cents(self) -> int:
        """What the client still owes (0 once paid or cancelled)."""
        if self.state is InvoiceState.CANCELLED:
            return 0
        return max(0, self.totals().total_cents - self.paid_cents)

    @property
    def credit_balance_cents(self) -> int:
        """Money received beyond what is owed: overpayment, or all payments once cancelled."""
        if self.state is InvoiceState.CANCELLED:
            return self.paid_cents
        return max(0, self.paid_cents - self.totals().total_cents)

    def is_overdue(self, today: date) -> bool:
        return self.due_on is not None and self.due_cents > 0 and today > self.due_on

    def record_payment(self, payment_id: str, amount_cents: int, paid_on: date) -> Payment:
        """Apply a payment: partial -> partially_paid, full or more -> paid (+ credit balance)."""
        require_cents(amount_cents)
        if amount_cents <= 0:
            raise InvalidArgument("payment amount must be positive", field="amount_cents", reason="AMOUNT_NOT_POSITIVE")
        if not payment_id:
            raise InvalidArgument("payment id is required", field="payment_id", reason="FIELD_REQUIRED")
        if any(p.payment_id == payment_id for p in self._payments):
            raise AlreadyExists(f"payment {payment_id} already recorded", field="payment_id", reason="PAYMENT_RECORDED")
        if self.state not in (InvoiceState.ISSUED, InvoiceState.PARTIALLY_PAID):
            raise FailedPrecondition(
                f"cannot record a payment on a {self.state.value} invoice",
                {"state": self.state.value}, reason="INVOICE_NOT_PAYABLE",
            )
        assert self.issued_on is not None
        if paid_on < self.issued_on:
            raise InvalidArgument("payment date is before the issue date", field="paid_on", reason="PAID_BEFORE_ISSUE")
        payment = Payment(payment_id, amount_cents, paid_on)
        self._payments.append(payment)
        total = self.totals().total_cents
        self.state = InvoiceState.PAID if self.paid_cents >= total else InvoiceState.PARTIALLY_PAID
        return payment

    def cancel(self, credit_note_number: DocumentNumber, on: date, reason: str) -> CreditNote:
        """Cancel an issued (possibly paid) invoice by a full credit note."""
        if self.state is InvoiceState.DRAFT:
            raise FailedPrecondition("a draft is discarded, not credited", reason="INVOICE_IS_DRAFT")
        if self.state is InvoiceState.CANCELLED:
            raise FailedPrecondition("invoice is already cancelled", reason="INVOICE_CANCELLED")
        if credit_note_number.series != CREDIT_NOTE_SERIES:
            raise InvalidArgument(f"{credit_note_number} is not in the credit note series")
        if credit_note_number.year != on.year:
            raise InvalidArgument("credit note number does not match its year")
        assert self.issued_on is not None and self.number is not None
        if on < self.issued_on:
            raise InvalidArgument("credit note is dated before the invoice", field="on", reason="DATED_BEFORE_INVOICE")
        if not (reason or "").strip():
            raise InvalidArgument("a credit note needs a reason", field="reason", reason="FIELD_REQUIRED")
        note = CreditNote(credit_note_number, self.number, on, reason.strip(), self.lines)
        self.credit_note = note
        self.state = InvoiceState.CANCELLED
        return note


@dataclass
class StoredInvoice:
    """The aggregate plus what the database keeps beside it."""

    invoice: Invoice
    client_id: str
    contribution_cents: int = 0
    contribution_rate_bp: int = 0
    created_at: datetime | None = None
    #: the wire form of the invoice, made once by the event translator when invoice.issued is
    #: published: the reply reuses it (CreateInvoice's fast path); opaque to the domain
    issued_message: Any = field(default=None, repr=False, compare=False)
