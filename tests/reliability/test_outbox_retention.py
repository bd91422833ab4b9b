"""Erased personal data does not outlive the outbox retention (hardening point 7): the events a
member's admission and resignation wrote carry their name and e-mail; once the member is erased
and those rows are older than COOP_OUTBOX_RETENTION_DAYS, the purge the worker runs leaves no
outbox row holding them. Real PostgreSQL, the membership service layer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from coop_domain.principal import system_principal
from coop_membership.adapters.unit_of_work import SqlMembershipUnitOfWork
from coop_membership.domain.model import Address, Category, MemberDetails, Status
from coop_membership.service_layer import members, personal_data
from coop_platform.db import make_session_factory
from coop_platform.delivery import DeliverySettings
from coop_platform.outbox import purge_outbox

pytestmark = [pytest.mark.postgres]


def test_after_erasure_no_outbox_row_older_than_the_retention_holds_the_members_personal_data(membership_db):
    _, engine = membership_db
    sessions = make_session_factory(engine)

    def uow_factory():
        return SqlMembershipUnitOfWork(sessions)

    tag = uuid.uuid4().hex[:8]
    email, family_name = f"erase-me-{tag}@example.org", f"Erasable{tag}"
    details = MemberDetails(given_name="Eve", family_name=family_name, email=email, phone="+32 2 555 02 02",
                            address=Address("Rue Haute 2", "1000", "Bruxelles", "BE"),
                            country_of_residence="BE", preferred_language="fr", category=Category.USER)
    admin = system_principal("test")
    member_id = members.register_member(uow_factory(), admin, details, admit=True).member.member_id
    members.change_status(uow_factory(), admin, member_id, Status.RESIGNED, "moving abroad")
    personal_data.erase_personal_data(uow_factory(), admin, member_id, "GDPR request")

    def rows_holding_personal_data() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM outbox WHERE body LIKE :e OR body LIKE :n"),
                                {"e": f"%{email}%", "n": f"%{family_name}%"}).scalar_one()

    assert rows_holding_personal_data() >= 1, "the admission's events carry the name and e-mail"
    retention = timedelta(days=DeliverySettings.from_env().outbox_retention_days)
    with engine.begin() as conn:  # the relay sent them, and the retention went by
        conn.execute(text("UPDATE outbox SET published_at = :at, created_at = :at"),
                     {"at": datetime.now(UTC) - retention - timedelta(hours=1)})
    purge_outbox(engine, retention)
    assert rows_holding_personal_data() == 0
