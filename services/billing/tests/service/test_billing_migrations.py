"""Billing's migration history matches the tables the code uses, and 0002 (payroll runs,
partial share-fee payments) upgrades existing data and downgrades, on PostgreSQL and SQLite."""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, text

from coop_billing.adapters import orm
from coop_platform.migrations import downgrade, upgrade
from coop_testkit import postgres_database


def test_migrations_match_the_tables_the_code_uses(svc):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with svc.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), orm.metadata) == []


def _database(backend: str, tmp_path):
    """A brand-new billing database on PostgreSQL, or a SQLite file (make run's)."""
    if backend == "postgresql":
        return postgres_database("coop_billing_mig")
    return nullcontext(f"sqlite:///{tmp_path}/billing.db")


def _execute(url: str, *statements: tuple[str, dict]) -> None:
    """Run SQL statements (with their parameters) in one transaction, as the data of an older revision."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for sql, params in statements:
            conn.execute(text(sql), params)
    engine.dispose()


def _rows(url: str, sql: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows


NOW = datetime.now(UTC)
ACTIVITY = ("INSERT INTO activities (activity_id, member_id, name, sector_code, created_at) "
            "VALUES ('a1', 'm1', 'Design', '74.10', :now)", {"now": NOW})


def _paid_fee_before_partial_payments(url: str) -> str:
    engine = create_engine(url)
    fee_id, now = str(uuid.uuid4()), datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO share_fees (fee_id, member_id, year, amount_cents, number, state, paid_cents, "
            "bank_reference, paid_at, created_at) VALUES (:f, :m, 2026, 3000, 'SH-2026-000001', 'paid', 3000, "
            "'BANK-OLD-1', :now, :now)"), {"f": fee_id, "m": str(uuid.uuid4()), "now": now})
    engine.dispose()
    return fee_id


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0002_backfills_one_payment_per_paid_fee_and_downgrades(backend, tmp_path):
    with _database(backend, tmp_path) as url:
        upgrade("billing", url, "0001")
        fee_id = _paid_fee_before_partial_payments(url)
        upgrade("billing", url)
        engine = create_engine(url)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT bank_reference, fee_id, amount_cents FROM share_fee_payments")
                                ).all() == [("BANK-OLD-1", fee_id, 3000)]
            assert conn.execute(text("SELECT gross_paid_cents, spent_cents FROM contracts")).all() == []
            conn.execute(text("UPDATE share_fees SET state = 'partially_paid' WHERE fee_id = :f"), {"f": fee_id})
        engine.dispose()
        downgrade("billing", url, "0001")
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT state FROM share_fees")).scalar_one() == "billed"
            tables = set(inspect(conn).get_table_names())
            assert not {"payroll_runs", "share_fee_payments"} & tables
        engine.dispose()
        upgrade("billing", url)



@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0003_takes_the_employee_names_out_of_contract_events_in_the_outbox(backend, tmp_path):
    from coop_platform.envelope import dumps, make_envelope

    with _database(backend, tmp_path) as url:
        upgrade("billing", url, "0002_payroll_shares")
        employee = {"memberId": str(uuid.uuid4()), "memberNumber": "M000042", "givenName": "Marie",
                    "familyName": "Dubois", "preferredLanguage": "fr"}
        created = make_envelope("billing", "contract.created", {"contract": {"revision": 1}, "employee": employee})
        paid = make_envelope("billing", "share.paid", {"memberId": employee["memberId"], "memberNumber": "M000042"})
        engine = create_engine(url)
        with engine.begin() as conn:
            for n, (key, envelope) in enumerate((("contract.created", created), ("share.paid", paid)), start=1):
                conn.execute(text("INSERT INTO outbox (seq, event_id, exchange, routing_key, body, created_at) "
                                  "VALUES (:s, :i, 'billing.events', :k, :b, :now)"),
                             {"s": n, "i": envelope["id"], "k": key, "b": dumps(envelope), "now": datetime.now(UTC)})
        engine.dispose()
        upgrade("billing", url)
        engine = create_engine(url)
        with engine.connect() as conn:
            bodies = dict(conn.execute(text("SELECT routing_key, body FROM outbox")).all())
            members = {c["name"] for c in inspect(conn).get_columns("members")}
        engine.dispose()
        assert "Marie" not in bodies["contract.created"] and "Dubois" not in bodies["contract.created"]
        assert __import__("json").loads(bodies["contract.created"])["data"]["employee"] == {
            "memberId": employee["memberId"], "memberNumber": "M000042", "preferredLanguage": "fr"}
        assert bodies["share.paid"] == dumps(paid)
        assert {"status_at", "identity_at", "erased_at"} <= members
        downgrade("billing", url, "0002_payroll_shares")
        upgrade("billing", url)


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0004_gives_existing_contracts_the_rates_of_their_start_date(backend, tmp_path):
    with _database(backend, tmp_path) as url:
        upgrade("billing", url, "0003_member_event_times")
        contract = ("INSERT INTO contracts (contract_id, member_id, activity_id, state, start_date, end_date, days, "
                    "gross_cents, job_title, joint_committee, social_charges_cents, employer_cost_cents, "
                    "employment_contribution_cents, total_cost_cents, reserved_cents, revision, created_at, "
                    "updated_at) VALUES (:c, 'm1', 'a1', 'reserved', :s, :s, 1, 100, 'x', '200', 27, 127, 10, "
                    "137, 137, 1, :now, :now)")
        _execute(url, ("INSERT INTO rates (kind, effective_from, basis_points) "
                       "VALUES ('employment', '2030-01-01', 800)", {}), ACTIVITY,
                 (contract, {"c": "before", "s": "2029-06-01", "now": NOW}),
                 (contract, {"c": "after", "s": "2030-06-01", "now": NOW}))
        upgrade("billing", url)
        rates = _rows(url, "SELECT contract_id, social_charges_rate_bp, employment_rate_bp FROM contracts")
        assert sorted(rates) == [("after", 2700, 800), ("before", 2700, 750)]
        downgrade("billing", url, "0003_member_event_times")


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0005_gives_each_series_the_date_of_its_latest_document(backend, tmp_path):
    with _database(backend, tmp_path) as url:
        upgrade("billing", url, "0004_paid_basis")
        invoice = ("INSERT INTO invoices (invoice_id, member_id, activity_id, client_id, state, number, year, "
                   "issued_on, credit_note_number, credit_note_on, created_at) VALUES (:i, 'm1', 'a1', 'c1', "
                   ":state, :number, 2026, :issued, :cn, :note, :now)")
        _execute(url, ACTIVITY, ("INSERT INTO clients (client_id, name, country, address, created_at) "
                                 "VALUES ('c1', 'Client', 'BE', 'Rue 1', :now)", {"now": NOW}),
                 *[(invoice, {"i": f"i{n}", "state": "cancelled" if note else "issued", "number": f"2026-00000{n}",
                              "issued": issued, "cn": "CN-2027-000001" if note else None, "note": note, "now": NOW})
                   for n, (issued, note) in enumerate((("2026-03-01", None), ("2026-06-01", "2027-01-15"),
                                                       ("2026-04-01", None)), start=1)],
                 ("INSERT INTO number_counters (series, year, last_value) VALUES "
                  "('', 2026, 3), ('CN', 2027, 1), ('SH', 2026, 7)", {}))
        upgrade("billing", url)
        last = {(series, year): str(day) if day else None
                for series, year, day in _rows(url, "SELECT series, year, last_on FROM number_counters")}
        assert last == {("", 2026): "2026-06-01", ("CN", 2027): "2027-01-15", ("SH", 2026): None}
        downgrade("billing", url, "0004_paid_basis")


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0006_keeps_existing_clients_as_the_verified_records_and_downgrades_with_invoices_on_them(backend, tmp_path):
    with _database(backend, tmp_path) as url:
        upgrade("billing", url, "0005_closed_years")
        _execute(url, ACTIVITY, ("INSERT INTO clients (client_id, name, country, address, vat_number, created_at) "
                                 "VALUES ('c1', 'Client', 'BE', 'Rue 1', 'BE0403170701', :now)", {"now": NOW}),
                 ("INSERT INTO invoices (invoice_id, member_id, activity_id, client_id, state, created_at) "
                  "VALUES ('i1', 'm1', 'a1', 'c1', 'draft', :now)", {"now": NOW}))
        upgrade("billing", url)
        assert _rows(url, "SELECT vat_number, claimed_vat_number, owner_member_id, verified_by, "
                          "verified_at IS NOT NULL FROM clients") == [("BE0403170701", None, None, "revision 0006", True)]
        downgrade("billing", url, "0005_closed_years")  # the invoice on the client stays valid
        assert _rows(url, "SELECT client_id, vat_number FROM clients") == [("c1", "BE0403170701")]
        upgrade("billing", url)


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0007_reserves_the_bank_references_already_used_per_payer_and_year(backend, tmp_path):
    with _database(backend, tmp_path) as url:
        upgrade("billing", url, "0006_client_verification")
        invoice = ("INSERT INTO invoices (invoice_id, member_id, activity_id, client_id, state, created_at) "
                   "VALUES (:i, 'm1', 'a1', 'c1', 'paid', :now)")
        payment = ("INSERT INTO payments (invoice_id, payment_id, seq, amount_cents, paid_on) "
                   "VALUES (:i, :p, 0, 100, :on)")
        _execute(url, ACTIVITY, ("INSERT INTO clients (client_id, name, country, address, created_at) "
                                 "VALUES ('c1', 'Client', 'BE', 'Rue 1', :now)", {"now": NOW}),
                 (invoice, {"i": "i1", "now": NOW}), (invoice, {"i": "i2", "now": NOW}),
                 (payment, {"i": "i1", "p": "BANK-1", "on": "2026-03-01"}),
                 (payment, {"i": "i2", "p": "BANK-1", "on": "2026-04-01"}),  # used twice before the rule
                 (payment, {"i": "i2", "p": "BANK-1b", "on": "2025-12-31"}))
        upgrade("billing", url)
        assert sorted(_rows(url, "SELECT client_id, year, payment_id, invoice_id FROM payment_references")) == [
            ("c1", 2025, "BANK-1b", "i2"), ("c1", 2026, "BANK-1", "i1")]
        assert _rows(url, "SELECT count(*) FROM idempotency_keys") == [(0,)]
        downgrade("billing", url, "0006_client_verification")
