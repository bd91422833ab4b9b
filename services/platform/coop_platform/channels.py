"""gRPC client channels for the admin CLIs and the healthcheck: plaintext, or TLS.

One place decides how a client reaches an api, so every command speaks TLS the same way:
- `COOP_TLS_CA`: a PEM bundle of the CA that signed the api's certificate. When set, the
  channel is TLS and the server's certificate is verified against it.
- `COOP_TLS_SERVER_NAME`: the name the certificate must carry, when it differs from the host
  of the target (a probe dialling 127.0.0.1 inside the pod, a tunnel, a port-forward).
Without `COOP_TLS_CA` the channel is plaintext, as `make run` serves it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc


class ClientTLSError(ValueError):
    """The client's TLS settings cannot be used (a CA bundle that cannot be read)."""


@dataclass(frozen=True)
class ClientTLS:
    """How a client channel is secured. `enabled` without `ca_file` trusts the system's CAs."""

    enabled: bool = False
    ca_file: str | None = None
    server_name: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ClientTLS:
        """COOP_TLS_CA and COOP_TLS_SERVER_NAME; empty values count as unset."""
        env = os.environ if environ is None else environ
        ca_file = env.get("COOP_TLS_CA") or None
        return cls(enabled=ca_file is not None, ca_file=ca_file,
                   server_name=env.get("COOP_TLS_SERVER_NAME") or None)

    def credentials(self) -> grpc.ChannelCredentials:
        root = None
        if self.ca_file:
            try:
                with open(self.ca_file, "rb") as handle:
                    root = handle.read()
            except OSError as exc:
                raise ClientTLSError(f"cannot read the CA bundle {self.ca_file}: {exc.strerror}") from exc
        return grpc.ssl_channel_credentials(root_certificates=root)


def open_channel(target: str, tls: ClientTLS | None = None,
                 options: Sequence[tuple[str, Any]] = ()) -> grpc.Channel:
    """A channel to `target` (host:port): TLS when `tls` (default: from the environment) says
    so, plaintext otherwise. Raises ClientTLSError when the CA bundle cannot be read."""
    tls = ClientTLS.from_env() if tls is None else tls
    if not tls.enabled:
        return grpc.insecure_channel(target, options=list(options))
    extra = [("grpc.ssl_target_name_override", tls.server_name)] if tls.server_name else []
    return grpc.secure_channel(target, tls.credentials(), options=[*options, *extra])
