"""The services installed here, found by entry points (group `coop.services`), never by name.

Each service package ships a `manifest.py` with a `SERVICE = ServiceSpec(...)` and names it in
pyproject.toml; `make run`, `coop`, the default ports and the development tokens' audiences
follow what is installed. A partner who installs only the elections service sees only it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.metadata import entry_points

GROUP = "coop.services"


@dataclass(frozen=True)
class ServiceSpec:
    #: "membership", "board_meetings": the service's name in settings, queues and databases
    name: str
    #: Python package: coop_<name>, holding entrypoints.grpc_api and entrypoints.worker
    package: str
    #: local defaults, so `make run` and the docs agree
    grpc_port: int
    api_metrics_port: int
    worker_metrics_port: int
    #: tenants served unless COOP_SERVED_TENANTS says otherwise ("*": any trusted issuer's)
    tenants: tuple[str, ...] = ("coop",)
    #: modules with `add_parser(subparsers)` for `coop` (one per family of subcommands)
    cli_modules: tuple[str, ...] = ()

    @property
    def audience(self) -> str:
        return "coop-" + self.name.replace("_", "-")


@functools.cache
def services() -> dict[str, ServiceSpec]:
    """Every installed service, by name, in port order."""
    found: list[ServiceSpec] = []
    for ep in entry_points(group=GROUP):
        spec = ep.load()
        if not isinstance(spec, ServiceSpec):
            raise TypeError(f"entry point {ep.name} in {GROUP} must name a ServiceSpec, not {spec!r}")
        found.append(spec)
    return {s.name: s for s in sorted(found, key=lambda s: s.grpc_port)}


def spec_of(name: str) -> ServiceSpec | None:
    return services().get(name)
