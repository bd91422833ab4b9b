"""Membership keeps the layering of docs/architecture.md: a pure domain (no framework, no
platform, no environment) and a service layer on ports only."""

from __future__ import annotations

import ast
from pathlib import Path

import coop_membership
from coop_testkit.layers import layer_violations


def test_domain_and_service_layer_import_nothing_they_must_not():
    assert layer_violations("coop_membership") == []


def test_the_domain_reads_no_environment_variable():
    domain = Path(coop_membership.__file__).parent / "domain"
    for path in domain.rglob("*.py"):
        names = {n.id for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Name)}
        imported = {a.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Import | ast.ImportFrom)
                    for a in n.names}
        assert "os" not in imported and "environ" not in names and "getenv" not in imported, path
