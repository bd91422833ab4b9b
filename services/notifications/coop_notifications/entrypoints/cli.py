"""`coop notifications ...`: the secretariat's tasks from the command line, over the api:

    coop notifications postal-list     legal notices no e-mail carried (no address, erased,
                                       refused, bounced), as CSV on stdout, oldest first:
                                       member_id, member_number, notification, event_id,
                                       reason, created_at

The token: COOP_TOKEN, or else a development token for --tenant (default "coop") with the "admin"
role, which only services in development mode accept. The api: --target or
COOP_NOTIFICATIONS_ADDR (default 127.0.0.1:50055). Exit status 0 on success, 1 when the service
refuses, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import csv
import sys

from coop.notifications.v1 import notifications_pb2 as pb
from coop.notifications.v1 import notifications_pb2_grpc as pb_grpc
from coop_cli.rpc import add_connection_arguments, call_service

Stub = pb_grpc.DeliveryServiceStub


def _postal_list(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["member_id", "member_number", "notification", "event_id", "reason", "created_at"])
    token = ""
    while True:
        page = stub.ListPostalFallback(pb.ListPostalFallbackRequest(page_token=token), metadata=md, timeout=60)
        for n in page.notices:
            out.writerow([n.member_id, n.member_number, n.notification, n.event_id, n.reason,
                          n.created_at.ToDatetime().isoformat() + "Z"])
        token = page.next_page_token
        if not token:
            return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    notifications = subparsers.add_parser("notifications", help="notifications: the postal list")
    commands = notifications.add_subparsers(dest="notifications_command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    add_connection_arguments(common, "notifications")
    p = commands.add_parser("postal-list", parents=[common], help="legal notices to post (CSV)",
                            description=(__doc__ or "").split("\n\n", 1)[1],
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=lambda args: call_service(args, Stub, _postal_list))
