"""Statement use cases on the fakes: one member's in their language, and the year-end run,
which goes on past a member whose statement cannot be produced."""

from __future__ import annotations

import pytest

from coop_billing.service_layer import statements
from coop_domain.errors import PermissionDenied
from coop_testkit import cooperative_today

YEAR = cooperative_today().year


def test_a_member_reads_their_statement_in_their_language_and_nobody_else_does(uow, f):
    member, other = f.admit(uow), f.admit(uow)
    uow.store.figures[(member.member_id, YEAR)] = {"revenue": 100_000, "contribution": 6_500, "budget_in": 93_500}
    rendered = statements.get_statement(uow, member.caller, member.member_id, YEAR)
    assert rendered.language == "en" and rendered.statement.revenue_excl_vat_cents == 100_000
    assert "Ada Lovelace" in rendered.text
    with pytest.raises(PermissionDenied):
        statements.get_statement(uow, other.caller, member.member_id, YEAR)


def test_the_year_end_run_streams_every_member_and_reports_one_it_cannot_produce(uow, f):
    members = sorted(f.admit(uow).member_id for _ in range(3))
    uow.store.figures[(members[1], YEAR)] = {"revenue": 2**63}  # beyond the API's 64-bit integers
    with pytest.raises(PermissionDenied):
        statements.statements(uow, f.TELLER, YEAR)
    total, produced = statements.statements(uow, f.SERVICE, YEAR)
    produced = list(produced)
    assert total == 3 and [getattr(p, "member_id", None) or p.statement.member_id for p in produced] == members
    assert isinstance(produced[1], statements.StatementFailure) and "64-bit" in produced[1].reason
    resumed_total, resumed = statements.statements(uow, f.SERVICE, YEAR, after=members[0], limit=1)
    assert resumed_total == 1 and len(list(resumed)) == 1
