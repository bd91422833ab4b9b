"""Tables of the billing database (SQLAlchemy Core; the repository maps rows to domain objects).

The domain's aggregates are frozen/slotted dataclasses, so rather than mapping them
imperatively the repository builds them from rows and writes rows back explicitly.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from coop_platform.idempotency import idempotency_table
from coop_platform.tables import BigIntPK, add_platform_tables

metadata = MetaData()
add_platform_tables(metadata)
idempotency_keys = idempotency_table(metadata)  # request_id -> first answer (CreateInvoice, RecordPayment...)

# Projection of membership events: identity and standing, never the source of truth. Each part
# remembers the CloudEvents time of the event that last set it (status_at, standing_at,
# identity_at) and takes only a newer event; erased_at is set by member.erased, after which the
# names stay empty whatever arrives.
members = Table(
    "members",
    metadata,
    Column("member_id", String(36), primary_key=True),
    Column("member_number", String(20), nullable=False, server_default=""),
    Column("given_name", String(100), nullable=False, server_default=""),
    Column("family_name", String(100), nullable=False, server_default=""),
    Column("preferred_language", String(8), nullable=False, server_default="fr"),
    Column("status", String(20), nullable=False, server_default="active"),
    Column("in_good_standing", Boolean, nullable=False, server_default="false"),
    Column("standing_at", DateTime(timezone=True), nullable=True),  # time of the event that set it
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("status_at", DateTime(timezone=True), nullable=True),
    Column("identity_at", DateTime(timezone=True), nullable=True),
    Column("erased_at", DateTime(timezone=True), nullable=True),
    Index("ix_members_number", "member_number"),
    Index("ix_members_status", "status"),
)

# A client a member creates is theirs (owner_member_id) and unverified until the back office
# verifies it; one the back office creates is verified at once (owner_member_id NULL).
# vat_number is the VAT number of a VERIFIED client, unique: the real company's record. A
# member's unverified client keeps the number it was given in claimed_vat_number (unique per
# member), so it never locks the real company out; verification moves it into vat_number.
clients = Table(
    "clients",
    metadata,
    Column("client_id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("address", String(500), nullable=False),
    Column("vat_number", String(20), nullable=True, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("owner_member_id", String(36), nullable=True),
    Column("claimed_vat_number", String(20), nullable=True),
    Column("verified_at", DateTime(timezone=True), nullable=True),
    Column("verified_by", String(100), nullable=True),
    Index("uq_clients_member_vat", "owner_member_id", "claimed_vat_number", unique=True,
          postgresql_where=text("verified_at IS NULL"), sqlite_where=text("verified_at IS NULL")),
)

activities = Table(
    "activities",
    metadata,
    Column("activity_id", String(36), primary_key=True),
    Column("member_id", String(36), nullable=False),
    Column("name", String(200), nullable=False),
    Column("sector_code", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_activities_member", "member_id", "created_at"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("entry_id", BigIntPK, primary_key=True, autoincrement=True),
    Column("activity_id", String(36), ForeignKey("activities.activity_id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("on", Date, nullable=False),
    Column("reference", String(64), nullable=False),
    Column("contract_id", String(36), nullable=True),
    Column("balance_delta", BigInteger, nullable=False),
    Column("reserved_delta", BigInteger, nullable=False),
    Index("ix_ledger_activity", "activity_id", "entry_id"),
    Index("ix_ledger_reference", "activity_id", "reference"),
)

rates = Table(
    "rates",
    metadata,
    Column("kind", String(20), primary_key=True),
    Column("effective_from", Date, primary_key=True),
    Column("basis_points", Integer, nullable=False),
)

# One row per (series, year): locked FOR UPDATE while a number is taken (gapless numbering).
# last_on: the date of the series' latest document; an earlier one is refused (numbers follow dates).
number_counters = Table(
    "number_counters",
    metadata,
    Column("series", String(4), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last_value", Integer, nullable=False),
    Column("last_on", Date, nullable=True),
)

# One row per year anything was dated in. A closed year (closed_at set, CloseYear) takes nothing
# dated inside it any more. Every dated write holds its year's row FOR SHARE until it commits and
# CloseYear takes it FOR UPDATE, so a write and the closing of its year never overlap.
fiscal_years = Table(
    "fiscal_years",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_by", String(100), nullable=True),
)

invoices = Table(
    "invoices",
    metadata,
    Column("invoice_id", String(36), primary_key=True),
    Column("member_id", String(36), nullable=False),
    Column("activity_id", String(36), ForeignKey("activities.activity_id"), nullable=False),
    Column("client_id", String(36), ForeignKey("clients.client_id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("number", String(20), nullable=True, unique=True),
    Column("year", Integer, nullable=True),
    Column("issued_on", Date, nullable=True),
    Column("due_on", Date, nullable=True),
    Column("net_cents", BigInteger, nullable=False, server_default="0"),
    Column("vat_cents", BigInteger, nullable=False, server_default="0"),
    Column("total_cents", BigInteger, nullable=False, server_default="0"),
    Column("paid_cents", BigInteger, nullable=False, server_default="0"),
    Column("contribution_cents", BigInteger, nullable=False, server_default="0"),
    Column("contribution_rate_bp", Integer, nullable=False, server_default="0"),
    Column("credit_note_number", String(20), nullable=True, unique=True),
    Column("credit_note_on", Date, nullable=True),
    Column("credit_note_reason", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_invoices_member", "member_id", "created_at"),
    Index("ix_invoices_issued", "issued_on"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("invoice_id", String(36), ForeignKey("invoices.invoice_id"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("description", String(500), nullable=False),
    Column("quantity", String(24), nullable=False),
    Column("unit_price_cents", BigInteger, nullable=False),
    Column("vat_rate", String(20), nullable=False),
)

payments = Table(
    "payments",
    metadata,
    Column("invoice_id", String(36), ForeignKey("invoices.invoice_id"), primary_key=True),
    Column("payment_id", String(100), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("paid_on", Date, nullable=False),
)

# A bank reference is unique per payer (the invoice's client) and year of payment, not only per
# invoice: the same transfer cannot be recorded on two invoices of one client.
payment_references = Table(
    "payment_references",
    metadata,
    Column("client_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("payment_id", String(100), primary_key=True),
    Column("invoice_id", String(36), ForeignKey("invoices.invoice_id"), nullable=False),
)

contracts = Table(
    "contracts",
    metadata,
    Column("contract_id", String(36), primary_key=True),
    Column("member_id", String(36), nullable=False),
    Column("activity_id", String(36), ForeignKey("activities.activity_id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("days", Integer, nullable=True),
    Column("hours", String(24), nullable=True),
    Column("gross_cents", BigInteger, nullable=False),
    Column("job_title", String(200), nullable=False),
    Column("joint_committee", String(10), nullable=False),
    Column("social_charges_cents", BigInteger, nullable=False),
    Column("employer_cost_cents", BigInteger, nullable=False),
    Column("employment_contribution_cents", BigInteger, nullable=False),
    Column("total_cost_cents", BigInteger, nullable=False),
    Column("reserved_cents", BigInteger, nullable=False),  # still set aside (payroll consumes it)
    Column("gross_paid_cents", BigInteger, nullable=False, server_default="0"),  # payroll runs so far
    Column("spent_cents", BigInteger, nullable=False, server_default="0"),  # what those runs cost
    # the rates of the reservation (the start date's): what the statement shows as applied
    Column("social_charges_rate_bp", Integer, nullable=False, server_default="0"),
    Column("employment_rate_bp", Integer, nullable=False, server_default="0"),
    Column("revision", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_contracts_member", "member_id", "created_at"),
    Index("ix_contracts_activity", "activity_id"),
)

share_fees = Table(
    "share_fees",
    metadata,
    Column("fee_id", String(36), primary_key=True),
    Column("member_id", String(36), nullable=False),
    Column("year", Integer, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("number", String(20), nullable=False, unique=True),
    Column("state", String(20), nullable=False),  # billed, partially_paid, paid
    Column("paid_cents", BigInteger, nullable=False, server_default="0"),  # sum of share_fee_payments
    Column("bank_reference", String(100), nullable=True, unique=True),  # the latest payment's
    Column("paid_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("member_id", "year", name="uq_share_fees_member_year"),
)

# One row per payment of a share fee (partial payments accumulate); the bank reference is the
# idempotency key, unique across all fees.
share_fee_payments = Table(
    "share_fee_payments",
    metadata,
    Column("bank_reference", String(100), primary_key=True),
    Column("fee_id", String(36), ForeignKey("share_fees.fee_id"), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_share_fee_payments_fee", "fee_id", "recorded_at"),
)

# One row per payroll run recorded on a contract (idempotency per contract and reference), with
# its cost part by part; the budget debit itself is the PAYROLL ledger entry of the same reference.
payroll_runs = Table(
    "payroll_runs",
    metadata,
    Column("contract_id", String(36), ForeignKey("contracts.contract_id"), primary_key=True),
    Column("payroll_reference", String(64), primary_key=True),
    Column("member_id", String(36), nullable=False),
    Column("activity_id", String(36), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("gross_cents", BigInteger, nullable=False),
    Column("social_charges_cents", BigInteger, nullable=False),
    Column("employment_contribution_cents", BigInteger, nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_payroll_runs_member", "member_id", "paid_on"),
)

envelopes = Table(
    "envelopes",
    metadata,
    Column("envelope_id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("retained_bp", Integer, nullable=False),
    Column("retained_cents", BigInteger, nullable=False),
    Column("scenario", Text, nullable=False),  # JSON of the adopted scenario
    Column("adopted_by", String(100), nullable=False),
    Column("adopted_at", DateTime(timezone=True), nullable=False),
)

payouts = Table(
    "payouts",
    metadata,
    Column("envelope_id", String(36), ForeignKey("envelopes.envelope_id"), primary_key=True),
    Column("member_id", String(36), primary_key=True),
    Column("amount_cents", BigInteger, nullable=False),
)
