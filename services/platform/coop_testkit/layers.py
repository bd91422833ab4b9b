"""The layering rule of every service, checked on its source (docs/architecture.md, "Layers"):

- domain/: pure. No gRPC, protobuf, SQLAlchemy, nameko, kombu, eventlet, no generated stubs,
  no platform; only the standard library, `coop_domain` and its own domain modules (plus pure
  libraries a service names, e.g. python-stdnum).
- service_layer/: use cases on abstractions. None of the above frameworks or stubs, and none of
  its own adapters or entrypoints: it receives a unit of work (a Protocol) and returns values.

Every service has a test calling `layer_violations("coop_<name>")` and asserting none.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

FRAMEWORKS = ("grpc", "grpc_status", "google.protobuf", "google.rpc", "google.type", "sqlalchemy", "nameko",
              "kombu", "eventlet", "alembic", "psycopg2", "coop.")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def _forbidden(name: str, package: str, layer: str, allowed: tuple[str, ...]) -> bool:
    if name.startswith(allowed):
        return False
    if name.endswith("_pb2") or "_pb2." in name or "_pb2_grpc" in name:
        return True
    if any(name == f or name.startswith(f if f.endswith(".") else f + ".") for f in FRAMEWORKS):
        return True
    own = f"{package}."
    if layer == "domain":
        return name.startswith(("coop_platform", "coop_testkit", "coop_cli")) or (
            name.startswith(own) and not name.startswith(f"{own}domain"))
    return name.startswith((f"{own}adapters", f"{own}entrypoints", "coop_testkit", "coop_cli"))


def layer_violations(package: str, *, allowed: tuple[str, ...] = ()) -> list[str]:
    """'file:line imports name' for every import breaking the rule in `package`'s domain and
    service layer; `allowed`: module prefixes a service explicitly permits (pure libraries)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(package)
    root = Path(next(iter(spec.submodule_search_locations)))
    problems = []
    for layer in ("domain", "service_layer"):
        folder = root / layer
        if not folder.is_dir():
            problems.append(f"{package} has no {layer}/ package")
            continue
        for path in sorted(folder.rglob("*.py")):
            for line, name in _imports(path):
                if _forbidden(name, package, layer, allowed):
                    problems.append(f"{path.relative_to(root.parent)}:{line} imports {name}")
    return problems
