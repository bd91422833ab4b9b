"""Settings from environment variables, with defaults that run on one machine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: Fixed local ports so `make run` and the docs agree: (grpc, api metrics, worker metrics).
DEFAULT_PORTS: dict[str, tuple[int, int, int]] = {
    "membership": (50051, 9101, 9201),
    "billing": (50052, 9102, 9202),
    "elections": (50053, 9103, 9203),
    "board_meetings": (50054, 9104, 9204),
    "notifications": (50055, 9105, 9205),
}

DEV_JWT_SECRET = "coopgov-dev-secret-change-me-in-production"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def default_data_dir() -> Path:
    return Path(_env("COOP_DATA_DIR", str(Path.cwd() / "var")))


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to know about its surroundings."""

    service_name: str
    database_url: str
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "coopgov"
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    metrics_port: int = 0
    tls_cert: str | None = None
    tls_key: str | None = None
    log_level: str = "INFO"
    outbox_poll_seconds: float = 0.01
    outbox_batch_size: int = 200
    max_deliveries: int = 5
    grpc_workers: int = 32
    api_processes: int = 1
    # Python's cyclic-GC thresholds for the api (gen0 allocations, gen1, gen2); empty: Python's
    gc_thresholds: str = "20000,50,100"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def tls_enabled(self) -> bool:
        return bool(self.tls_cert and self.tls_key)


def load_settings(service_name: str, role: str = "api") -> Settings:
    """Read COOP_* variables; `role` picks the api or worker metrics port default."""
    grpc_default, api_metrics, worker_metrics = DEFAULT_PORTS.get(service_name, (50050, 0, 0))
    data_dir = default_data_dir()
    default_db = f"sqlite:///{data_dir / (service_name + '.db')}"
    metrics_default = api_metrics if role == "api" else worker_metrics
    return Settings(
        service_name=service_name,
        database_url=_env("COOP_DATABASE_URL", default_db),
        amqp_url=_env("COOP_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        jwt_secret=_env("COOP_JWT_SECRET", DEV_JWT_SECRET),
        grpc_host=_env("COOP_GRPC_HOST", "127.0.0.1"),
        grpc_port=int(_env("COOP_GRPC_PORT", str(grpc_default))),
        metrics_port=int(_env("COOP_METRICS_PORT", str(metrics_default))),
        tls_cert=_env("COOP_TLS_CERT"),
        tls_key=_env("COOP_TLS_KEY"),
        log_level=_env("COOP_LOG_LEVEL", "INFO"),
        outbox_poll_seconds=float(_env("COOP_OUTBOX_POLL_SECONDS", "0.01")),
        outbox_batch_size=int(_env("COOP_OUTBOX_BATCH_SIZE", "200")),
        max_deliveries=int(_env("COOP_MAX_DELIVERIES", "5")),
        grpc_workers=int(_env("COOP_GRPC_WORKERS", "32")),
        api_processes=max(1, int(_env("COOP_API_PROCESSES", "1"))),
        gc_thresholds=_env("COOP_GC_THRESHOLDS", "20000,50,100") or "",
    )
