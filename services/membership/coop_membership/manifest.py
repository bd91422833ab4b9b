"""How the platform finds the membership service (entry point `coop.services` in pyproject.toml)."""

from coop_platform.registry import ServiceSpec

SERVICE = ServiceSpec(
    name="membership",
    package="coop_membership",
    grpc_port=50051,
    api_metrics_port=9101,
    worker_metrics_port=9201,
    tenants=("coop",),
    cli_modules=("coop_membership.entrypoints.cli",),
)
