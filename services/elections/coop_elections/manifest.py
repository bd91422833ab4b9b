"""How the platform finds the elections service (entry point `coop.services` in pyproject.toml)."""

from coop_platform.registry import ServiceSpec

SERVICE = ServiceSpec(
    name="elections",
    package="coop_elections",
    grpc_port=50053,
    api_metrics_port=9103,
    worker_metrics_port=9203,
    tenants=("*",),
    # `coop elections ...` and `coop roll ...`; `coop trustee ...`, run on each trustee's machine;
    # `coop vote ...`, on each voter's; `coop mix`, on each mixer's
    cli_modules=("coop_elections.entrypoints.cli", "coop_elections.entrypoints.trustee_cli",
                 "coop_elections.entrypoints.vote_cli", "coop_elections.entrypoints.mix_cli"),
)
