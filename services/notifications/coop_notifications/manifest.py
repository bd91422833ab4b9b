"""How the platform finds the notifications service (entry point `coop.services` in pyproject.toml)."""

from coop_platform.registry import ServiceSpec

SERVICE = ServiceSpec(
    name="notifications",
    package="coop_notifications",
    grpc_port=50055,
    api_metrics_port=9105,
    worker_metrics_port=9205,
    tenants=("coop",),  # the cooperative's members
    cli_modules=("coop_notifications.entrypoints.cli",),  # `coop notifications ...`
)
