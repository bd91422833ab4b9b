"""Use-case tests on the in-memory fakes (tests/fakes.py): no database, no broker."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from coop_billing.domain import member_facts as facts
from coop_billing.service_layer import clients, handlers
from coop_domain.principal import Principal, system_principal

_spec = importlib.util.spec_from_file_location("billing_fakes", Path(__file__).parents[1] / "fakes.py")
fakes = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = fakes  # dataclasses look their module up
_spec.loader.exec_module(fakes)

ADMIN = Principal("admin-1", roles=frozenset({"admin"}))
TELLER = Principal("teller-1", roles=frozenset({"teller"}))
SERVICE = Principal("payroll-system", roles=frozenset({"service"}))
SYSTEM = system_principal("billing")


def member_caller(member_id: str) -> Principal:
    return Principal(member_id, roles=frozenset({"member"}))


@pytest.fixture
def uow():
    return fakes.FakeBillingUnitOfWork()


def admit(uow, *, good: bool = True, status: str = "active") -> SimpleNamespace:
    """A member as membership's events make it known: admitted, then their standing."""
    member_id = str(uuid.uuid4())
    at = datetime.now(UTC)
    with uow:
        handlers.on_member_admitted(uow, SYSTEM, facts.MemberAdmitted(member_id, "M000042", facts.MemberNames("Ada", "Lovelace", "en"), at))
        handlers.on_member_status_changed(uow, SYSTEM, facts.MemberStatusChanged(member_id, "", status, good, at))
        uow.commit()
    return SimpleNamespace(member_id=member_id, caller=member_caller(member_id))


def activity_and_client(uow, member) -> tuple[str, str]:
    act = clients.create_activity(uow, member.caller, member.member_id, "Concerts", "90.01")
    client, _ = clients.create_client(uow, ADMIN, "Théâtre du Parc", "BE", "Rue de la Loi 3, 1000 Bruxelles", "")
    return act.activity_id, client.client_id


@pytest.fixture(scope="session")
def f() -> SimpleNamespace:
    """The helpers above and the fakes module, for the test files (importlib mode)."""
    return SimpleNamespace(**{k: v for k, v in globals().items() if not k.startswith("_")})
