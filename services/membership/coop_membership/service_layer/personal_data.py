"""Use cases of a member's personal data (GDPR): export everything stored, erase on request."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from coop_domain.clock import utcnow
from coop_domain.errors import FailedPrecondition, InvalidArgument
from coop_domain.principal import Principal
from coop_membership.domain import events as ev
from coop_membership.domain.model import Member, Status, StatusChange
from coop_membership.service_layer.members import MemberView, load_member, view_of
from coop_membership.service_layer.ports import MembershipUnitOfWork


def jsonable(value: Any) -> Any:
    """A value as JSON prints it: dates in ISO form, enums by value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def export_member_data(uow: MembershipUnitOfWork, caller: Principal, member_id: str = "",
                       member_number: str = "") -> tuple[str, str]:
    """(member id, the whole record, history and shares as one JSON document): the member's own
    or, for an admin, anyone's."""
    with uow:
        member = load_member(uow, member_id, member_number)
        caller.require_self_or(member.member_id, "admin")
        view = view_of(uow, member)
        fields = [f for f in Member.__dataclass_fields__ if f != "member_no"]
        data = {
            "member": {f: jsonable(getattr(member, f)) for f in fields}
            | {"member_number": member.member_number, "in_good_standing": view.in_good_standing},
            "status_history": [
                {k: jsonable(v) for k, v in asdict(c).items() if k not in ("id", "member_no")}
                for c in uow.members.history(member.member_no)
            ],
            "shares": [
                {k: jsonable(v) for k, v in asdict(s).items() if k != "member_no"}
                for s in uow.shares.shares_of(member.member_no)
            ],
            "exported_at": utcnow().isoformat(),
        }
    return member.member_id, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)


def erase_personal_data(uow: MembershipUnitOfWork, caller: Principal, member_id: str, reason: str) -> MemberView:
    """Pseudonymise a member who has left; erasing twice answers the erased record again."""
    caller.require("admin")
    if not reason.strip():
        raise InvalidArgument("a reason is required to erase personal data", field="reason", reason="FIELD_REQUIRED")
    with uow:
        member = load_member(uow, member_id, lock=True)
        if member.erased:
            return view_of(uow, member)
        if Status(member.status) in (Status.ACTIVE, Status.SUSPENDED):
            raise FailedPrecondition("an active or suspended member must resign or be excluded before erasure",
                                     reason="MEMBER_STILL_IN", status=Status(member.status).value)
        now = utcnow()
        member.erase(now)
        uow.members.insert_history([StatusChange(member.status, member.status,
                                                 f"personal data erased: {reason}"[:500], caller.subject, now,
                                                 member_no=member.member_no)])
        view = view_of(uow, member)
        uow.publish(ev.MemberUpdated(member, ["erased"], view.in_good_standing))  # v1 consumers
        uow.publish(ev.MemberErased(member))
        uow.forget_published_events(member.member_id)
        uow.commit()
    return view
