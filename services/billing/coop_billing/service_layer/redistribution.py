"""Use cases of redistribution envelopes: simulate allocation scenarios over members' paid
revenue, adopt one (payout lines and a distribution.payout event per beneficiary)."""

from __future__ import annotations

from typing import Any

from coop_billing.domain import events
from coop_billing.domain import redistribution as rd
from coop_billing.domain.checks import check_text, parse_uuid
from coop_billing.service_layer.common import next_token, page_of
from coop_billing.service_layer.ports import BillingUnitOfWork
from coop_domain.clock import utcnow
from coop_domain.errors import AlreadyExists, InvalidArgument, NotFound
from coop_domain.paging import decode_page_token
from coop_domain.principal import Principal

MAX_SCENARIOS = 10
#: The revenue every allocation key weighs (shown in the simulation's output): what clients paid
#: excl. VAT in the reference period, less the credit notes issued in it.
REVENUE_BASIS = "paid"
DECIDERS = ("board", "admin")


def members_for(uow: BillingUnitOfWork, envelope: rd.Envelope) -> list[rd.MemberRevenue]:
    with uow:
        rows = uow.read_only().redistribution.revenue_by_member(envelope.reference_start, envelope.reference_end)
    return [rd.MemberRevenue(m, revenue, sector) for m, revenue, sector in rows]


def simulate(uow: BillingUnitOfWork, caller: Principal, envelope: rd.Envelope,
             scenarios: list[rd.Scenario]) -> list[rd.SimulationResult]:
    caller.require(*DECIDERS)
    if not scenarios or len(scenarios) > MAX_SCENARIOS:
        raise InvalidArgument(f"give 1 to {MAX_SCENARIOS} scenarios", field="scenarios", reason="SCENARIO_COUNT")
    return rd.simulate(envelope, members_for(uow, envelope), scenarios)


def adopt(uow: BillingUnitOfWork, caller: Principal, envelope_id: str, name: str, envelope: rd.Envelope,
          scenario: rd.Scenario, spec_json: str) -> tuple[rd.SimulationResult, int]:
    """Create payout lines for one scenario and a distribution.payout event per beneficiary."""
    caller.require(*DECIDERS)
    envelope_id = parse_uuid(envelope_id, "envelope_id")
    name = check_text(name, "name", limit=200)
    members = members_for(uow, envelope)
    allocation = rd.allocate(envelope, members, scenario)
    result = rd.simulate(envelope, members, [scenario])[0]
    with uow:
        if not uow.redistribution.add_envelope(
                envelope_id=envelope_id, name=name, amount_cents=envelope.amount_cents,
                retained_bp=envelope.retained_bp, retained_cents=envelope.retained_cents, scenario=spec_json,
                adopted_by=caller.subject[:100], adopted_at=utcnow()):
            raise AlreadyExists(f"envelope {envelope_id} was already adopted", field="envelope_id",
                                reason="ENVELOPE_ADOPTED")
        lines = [dict(envelope_id=envelope_id, member_id=m, amount_cents=a)
                 for m, a in zip(allocation.member_ids, allocation.amounts_cents, strict=True) if a > 0]
        uow.redistribution.add_payouts(lines)
        for line in lines:
            uow.publish(events.DistributionPayout(envelope_id, name, scenario.name, line["member_id"],
                                                  line["amount_cents"]))
        uow.commit()
    return result, len(lines)


def list_payouts(uow: BillingUnitOfWork, caller: Principal, envelope_id: str, token: str,
                 size: int) -> tuple[list[Any], str]:
    caller.require("board", "admin", "teller")
    envelope_id = parse_uuid(envelope_id, "envelope_id")
    size = page_of(size)
    after = decode_page_token(token, "payouts", 1)
    with uow:
        if uow.read_only().redistribution.envelope(envelope_id) is None:
            raise NotFound(f"no adopted envelope {envelope_id}", field="envelope_id")
        rows = uow.redistribution.payouts(envelope_id, str(after[0]) if after else "", size + 1)
    return rows[:size], next_token(rows, size, "payouts", lambda r: (r.member_id,))
