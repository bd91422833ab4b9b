"""Fixtures of the service-layer tests: in-memory units of work (tests/fakes.py), callers of
every role, and member details. No database, no broker, no gRPC."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from coop_domain.principal import Principal, system_principal
from coop_membership.domain.model import Category, MemberDetails


def _load_fakes() -> ModuleType:
    """tests/fakes.py by path (pytest's importlib mode gives test folders no package)."""
    name = "coop_membership_test_fakes"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "fakes.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


fakes = _load_fakes()

ADMIN = Principal("admin-1", roles=frozenset({"admin"}))
BOARD = Principal("board-1", roles=frozenset({"board"}))
SERVICE = Principal("billing", roles=frozenset({"service"}))
SYSTEM = system_principal("membership")


def member_principal(member_id: str) -> Principal:
    return Principal(member_id, roles=frozenset({"member"}))


def details(**overrides) -> MemberDetails:
    tag = uuid.uuid4().hex[:10]
    fields = dict(given_name="Ada", family_name="Lovelace", email=f"ada-{tag}@example.org",
                  country_of_residence="BE", preferred_language="fr", category=Category.USER)
    fields.update(overrides)
    return MemberDetails(**fields)


@pytest.fixture
def uow():
    return fakes.FakeUnitOfWork()
