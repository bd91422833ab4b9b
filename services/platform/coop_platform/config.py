"""Settings from environment variables, with defaults that run on one machine."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: Requests parsed at most, per unary call and per message of a stream (gRPC's own default is the
#: latter): a request is read whole before anything else happens, so this bounds what an
#: unauthenticated caller can make a process hold; imports stream many such messages.
MAX_REQUEST_BYTES = 1024 * 1024
MAX_STREAM_MESSAGE_BYTES = 4 * 1024 * 1024


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _flag(name: str, default: bool | None = None) -> bool | None:
    value = _env(name)
    if value is None:
        return default
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1 or 0 (true or false), not {value!r}")


def seconds_setting(variable: str, default: float, *, low: float = 0.1, high: float = 3600.0,
                    value: str | None = None, environ: Mapping[str, str] | None = None) -> float:
    """A timer interval in seconds from `variable` (or `value` when given): `default` when unset
    or blank. One wording for every worker's timer: a ValueError names the variable, its bounds
    and the text given when it is not a number between `low` and `high`."""
    env = os.environ if environ is None else environ
    text = (env.get(variable) if value is None else value) or ""
    try:
        seconds = float(text) if text.strip() else default
    except ValueError:
        seconds = float("nan")
    if not low <= seconds <= high:  # NaN compares false: refused too
        raise ValueError(f"{variable} must be a number of seconds between {low:g} and {high:g}, got {text!r}")
    return seconds


def dev_mode_from_env() -> bool:
    """COOP_DEV_MODE=1: the development signing key and other development defaults are accepted
    (`make run`, `make test`). Never set it where anyone else can reach the services."""
    return bool(_flag("COOP_DEV_MODE", False))


def default_data_dir() -> Path:
    return Path(_env("COOP_DATA_DIR", str(Path.cwd() / "var")))


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to know about its surroundings."""

    service_name: str
    database_url: str
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Tokens (coop_platform.auth, coop_platform.trust): development mode trusts the built-in
    # development key; otherwise the operator's issuers file is required.
    dev_mode: bool = False
    auth_issuers_file: str | None = None
    jwt_audience: str = ""  # empty: coop-<service>
    jwt_max_lifetime_seconds: int = 8 * 3600
    served_tenants: tuple[str, ...] = ("coop",)
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    grpc_reflection: bool | None = None  # None: on in development mode only
    max_request_bytes: int = MAX_REQUEST_BYTES
    max_stream_message_bytes: int = MAX_STREAM_MESSAGE_BYTES
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    tls_cert: str | None = None
    tls_key: str | None = None
    log_level: str = "INFO"
    outbox_poll_seconds: float = 0.01
    outbox_batch_size: int = 200
    max_deliveries: int = 5
    grpc_workers: int = 32
    api_processes: int = 1
    # spawned workers an api may use for a request's CPU-bound checks (0: one per core)
    cpu_processes: int = 0
    # Python's cyclic-GC thresholds for the api (gen0 allocations, gen1, gen2); empty: Python's
    gc_thresholds: str = "20000,50,100"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def tls_enabled(self) -> bool:
        return bool(self.tls_cert and self.tls_key)

    @property
    def audience(self) -> str:
        return self.jwt_audience or "coop-" + self.service_name.replace("_", "-")

    @property
    def reflection_enabled(self) -> bool:
        return self.dev_mode if self.grpc_reflection is None else self.grpc_reflection


def load_settings(service_name: str, role: str = "api", *, tenants: tuple[str, ...] | None = None) -> Settings:
    """Read COOP_* variables; `role` picks the api or worker metrics port default, `tenants` the
    tenants the service serves unless COOP_SERVED_TENANTS says otherwise ("*": any tenant whose
    issuer is trusted)."""
    from coop_platform.registry import spec_of

    spec = spec_of(service_name)
    grpc_default, api_metrics, worker_metrics = (
        (spec.grpc_port, spec.api_metrics_port, spec.worker_metrics_port) if spec else (50050, 0, 0))
    tenants = tenants or (spec.tenants if spec else ("coop",))
    data_dir = default_data_dir()
    default_db = f"sqlite:///{data_dir / (service_name + '.db')}"
    metrics_default = api_metrics if role == "api" else worker_metrics
    return Settings(
        service_name=service_name,
        database_url=_env("COOP_DATABASE_URL", default_db),
        amqp_url=_env("COOP_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        dev_mode=dev_mode_from_env(),
        auth_issuers_file=_env("COOP_AUTH_ISSUERS_FILE"),
        jwt_audience=_env("COOP_JWT_AUDIENCE", "") or "",
        jwt_max_lifetime_seconds=int(_env("COOP_JWT_MAX_LIFETIME_SECONDS", str(8 * 3600))),
        served_tenants=tuple(t.strip() for t in (_env("COOP_SERVED_TENANTS") or ",".join(tenants)).split(",")
                             if t.strip()),
        grpc_host=_env("COOP_GRPC_HOST", "127.0.0.1"),
        grpc_port=int(_env("COOP_GRPC_PORT", str(grpc_default))),
        grpc_reflection=_flag("COOP_GRPC_REFLECTION"),
        max_request_bytes=int(_env("COOP_GRPC_MAX_REQUEST_BYTES", str(MAX_REQUEST_BYTES))),
        max_stream_message_bytes=int(_env("COOP_GRPC_MAX_STREAM_MESSAGE_BYTES", str(MAX_STREAM_MESSAGE_BYTES))),
        metrics_host=_env("COOP_METRICS_HOST", "127.0.0.1"),
        metrics_port=int(_env("COOP_METRICS_PORT", str(metrics_default))),
        tls_cert=_env("COOP_TLS_CERT"),
        tls_key=_env("COOP_TLS_KEY"),
        log_level=_env("COOP_LOG_LEVEL", "INFO"),
        outbox_poll_seconds=float(_env("COOP_OUTBOX_POLL_SECONDS", "0.01")),
        outbox_batch_size=int(_env("COOP_OUTBOX_BATCH_SIZE", "200")),
        max_deliveries=int(_env("COOP_MAX_DELIVERIES", "5")),
        grpc_workers=int(_env("COOP_GRPC_WORKERS", "32")),
        api_processes=max(1, int(_env("COOP_API_PROCESSES", "1"))),
        cpu_processes=max(0, int(_env("COOP_CPU_PROCESSES", "0"))),
        gc_thresholds=_env("COOP_GC_THRESHOLDS", "20000,50,100") or "",
    )
