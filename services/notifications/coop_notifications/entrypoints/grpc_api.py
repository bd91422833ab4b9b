"""The notifications api process: a plain grpcio server (never eventlet, DESIGN D1).

coop.notifications.v1 has three services: InboxService (the member portal's in-app messages),
PreferenceService (opt-outs per category) and DeliveryService (the postal list, admins). Each method translates the request, runs one use case
as the caller (`current_principal()`; the use case checks role and scopes every query by the
caller's tenant) and translates the answer back. Writes are retryable with a request_id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import grpc

from coop.notifications.v1 import notifications_pb2 as pb
from coop.notifications.v1 import notifications_pb2_grpc as pb_grpc
from coop_domain.clock import utcnow
from coop_notifications import SERVICE_NAME
from coop_notifications.adapters import messages as msg
from coop_notifications.adapters.unit_of_work import SqlNotificationsUnitOfWork
from coop_notifications.service_layer import inbox, postal, preferences
from coop_platform.config import Settings
from coop_platform.grpc_server import RetryableWrites, build_service, current_principal, run_api
from coop_platform.pbtypes import to_timestamp

Clock = Callable[[], datetime]


class _Writes(RetryableWrites):
    def __init__(self, uow_factory: Callable[[], Any], clock: Clock = utcnow) -> None:
        self.uow = uow_factory
        self.clock = clock



class InboxServicer(_Writes, pb_grpc.InboxServiceServicer):
    def ListInbox(self, request, context):
        items, token, unread = inbox.list_inbox(self.uow(), current_principal(), request.member_id,
                                                request.page_size, request.page_token, request.include_archived)
        return pb.ListInboxResponse(items=[msg.inbox_item_to_pb(d) for d in items], next_page_token=token,
                                    unread_count=unread)

    def GetUnreadCount(self, request, context):
        return pb.GetUnreadCountResponse(
            unread_count=inbox.unread_count(self.uow(), current_principal(), request.member_id))

    def MarkRead(self, request, context):
        def work(uow: Any) -> pb.MarkReadResponse:
            return pb.MarkReadResponse(unread_count=inbox.mark_read(
                uow, current_principal(), request.member_id, list(request.notification_ids), self.clock()))
        return self._once("MarkRead", request, pb.MarkReadResponse, work)

    def Archive(self, request, context):
        def work(uow: Any) -> pb.ArchiveResponse:
            return pb.ArchiveResponse(unread_count=inbox.archive(
                uow, current_principal(), request.member_id, list(request.notification_ids), self.clock()))
        return self._once("Archive", request, pb.ArchiveResponse, work)


class PreferenceServicer(_Writes, pb_grpc.PreferenceServiceServicer):
    def GetPreferences(self, request, context):
        member_id, found, frequency = preferences.get_preferences(self.uow(), current_principal(), request.member_id)
        return pb.GetPreferencesResponse(member_id=member_id, preferences=[msg.preference_to_pb(p) for p in found],
                                         digest_frequency=frequency)

    def SetPreference(self, request, context):
        def work(uow: Any) -> pb.SetPreferenceResponse:
            stored = preferences.set_preference(uow, current_principal(), request.member_id, request.category,
                                                request.opted_out, self.clock())
            return pb.SetPreferenceResponse(preference=msg.preference_to_pb(stored))
        return self._once("SetPreference", request, pb.SetPreferenceResponse, work)

    def SetDigestFrequency(self, request, context):
        def work(uow: Any) -> pb.SetDigestFrequencyResponse:
            return pb.SetDigestFrequencyResponse(frequency=preferences.set_digest_frequency(
                uow, current_principal(), request.member_id, request.frequency, self.clock()))
        return self._once("SetDigestFrequency", request, pb.SetDigestFrequencyResponse, work)


class DeliveryServicer(_Writes, pb_grpc.DeliveryServiceServicer):
    def ListPostalFallback(self, request, context):
        found, token = postal.postal_fallback(self.uow(), current_principal(), request.page_size, request.page_token)
        return pb.ListPostalFallbackResponse(next_page_token=token, notices=[pb.PostalNotice(
            member_id=n.member_id, member_number=n.member_number, notification=n.notification,
            event_id=n.event_id, reason=n.reason, created_at=to_timestamp(n.created_at)) for n in found])


# (servicer class taking (uow_factory, clock), add_<Service>Servicer_to_server, full name)
SERVICERS: list[tuple[Any, Callable[[Any, grpc.Server], None], str]] = [
    (InboxServicer, pb_grpc.add_InboxServiceServicer_to_server,
     pb.DESCRIPTOR.services_by_name["InboxService"].full_name),
    (PreferenceServicer, pb_grpc.add_PreferenceServiceServicer_to_server,
     pb.DESCRIPTOR.services_by_name["PreferenceService"].full_name),
    (DeliveryServicer, pb_grpc.add_DeliveryServiceServicer_to_server,
     pb.DESCRIPTOR.services_by_name["DeliveryService"].full_name),
]


def build(settings: Settings, clock: Clock = utcnow):
    """The engine, the registration callback (both services; their names for health) and the
    unit-of-work factory (main() and tests)."""
    def make(uow_factory: Callable[[], Any]) -> list[Any]:
        return [servicer(uow_factory, clock) for servicer, _, _ in SERVICERS]

    def add(servicers: list[Any], server: grpc.Server) -> None:
        for servicer, (_, add_to_server, _) in zip(servicers, SERVICERS, strict=True):
            add_to_server(servicer, server)

    return build_service(settings, SqlNotificationsUnitOfWork, make, add, [name for _, _, name in SERVICERS])


def main() -> None:
    import os

    port = os.environ.get("COOP_UNSUBSCRIBE_PORT")
    if port:  # the one-click unsubscribe endpoint, beside the gRPC server
        from coop_notifications.entrypoints import unsubscribe_http
        from coop_notifications.entrypoints.mail_config import unsubscribe_secret
        from coop_platform.config import load_settings
        from coop_platform.db import Database

        database = Database.open(load_settings(SERVICE_NAME, "api").database_url)
        unsubscribe_http.serve(int(port), unsubscribe_http.app(
            lambda: SqlNotificationsUnitOfWork(database), unsubscribe_secret(), utcnow),
            os.environ.get("COOP_UNSUBSCRIBE_HOST", "127.0.0.1"))
    run_api(SERVICE_NAME, build)


if __name__ == "__main__":
    main()
