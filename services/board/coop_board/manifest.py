"""How the platform finds the board-meetings service (entry point `coop.services` in pyproject.toml)."""

from coop_platform.registry import ServiceSpec

SERVICE = ServiceSpec(
    name="board",
    package="coop_board",
    grpc_port=50054,
    api_metrics_port=9104,
    worker_metrics_port=9204,
    tenants=("coop",),  # the cooperative's own board; partners run elections alone
    cli_modules=("coop_board.entrypoints.cli",),  # `coop board ...`
)
