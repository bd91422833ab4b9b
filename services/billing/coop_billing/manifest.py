"""How the platform finds the billing service (entry point `coop.services` in pyproject.toml)."""

from coop_platform.registry import ServiceSpec

SERVICE = ServiceSpec(
    name="billing",
    package="coop_billing",
    grpc_port=50052,
    api_metrics_port=9102,
    worker_metrics_port=9202,
    tenants=("coop",),
    cli_modules=("coop_billing.entrypoints.cli",),
)
