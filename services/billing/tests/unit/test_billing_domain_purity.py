"""The domain must stay importable without any framework (DESIGN D2)."""

import ast
import pathlib

import coop_billing.domain as domain

FORBIDDEN = {"nameko", "grpc", "sqlalchemy", "eventlet", "kombu", "alembic", "google"}


def test_domain_modules_import_only_the_standard_library_and_each_other():
    root = pathlib.Path(domain.__file__).parent
    offenders = []
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0].lower() in FORBIDDEN]
    assert offenders == []
