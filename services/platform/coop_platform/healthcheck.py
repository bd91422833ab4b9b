"""`python -m coop_platform.healthcheck`: exit 0 when the api's gRPC health check says SERVING.

The api reports NOT_SERVING while its database is unreachable, so this is a readiness check
(Compose healthcheck, Kubernetes readiness probe when the api speaks TLS, which the kubelet's
own gRPC probe cannot). Never use it as a liveness probe: a database outage would restart the
api. The port defaults to COOP_GRPC_PORT and TLS to COOP_TLS_CA / COOP_TLS_SERVER_NAME, so
inside an api container or pod it needs no argument.
"""

from __future__ import annotations

import argparse
import os
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from coop_platform.channels import ClientTLS, ClientTLSError, open_channel


def check(target: str, service: str = "", timeout: float = 3.0, tls: ClientTLS | None = None) -> bool:
    """True when `target` answers SERVING for `service` ("" = the whole server). Plaintext
    unless `tls` says otherwise (tests and local tools call it without TLS)."""
    with open_channel(target, tls or ClientTLS()) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def main(argv: list[str] | None = None) -> int:
    env_tls = ClientTLS.from_env()
    port = os.environ.get("COOP_GRPC_PORT")
    parser = argparse.ArgumentParser(prog="python -m coop_platform.healthcheck",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(port) if port else None, required=not port,
                        help="gRPC port (default: COOP_GRPC_PORT)")
    parser.add_argument("--service", default="", help='health service name ("" = the whole server)')
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the answer")
    parser.add_argument("--tls", action="store_true",
                        help="speak TLS (implied by --ca; without --ca the system's CAs verify the server)")
    parser.add_argument("--ca", default=env_tls.ca_file,
                        help="PEM CA bundle that verifies the server (default: COOP_TLS_CA)")
    parser.add_argument("--server-name", default=env_tls.server_name,
                        help="name the server's certificate must carry (default: COOP_TLS_SERVER_NAME)")
    args = parser.parse_args(argv)
    tls = ClientTLS(enabled=args.tls or bool(args.ca), ca_file=args.ca or None, server_name=args.server_name)
    try:
        ok = check(f"{args.host}:{args.port}", args.service, args.timeout, tls)
    except ClientTLSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("SERVING" if ok else "NOT_SERVING")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
