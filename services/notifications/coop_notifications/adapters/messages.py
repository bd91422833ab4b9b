"""Domain values <-> coop.notifications.v1 messages."""

from __future__ import annotations

from google.protobuf.struct_pb2 import Struct

from coop.notifications.v1 import notifications_pb2 as pb
from coop_notifications.domain.catalog import Priority
from coop_notifications.domain.ledger import Delivery
from coop_notifications.domain.preferences import Preference
from coop_platform.pbtypes import to_timestamp

PRIORITY_TO_PB = {
    Priority.LEGAL: pb.PRIORITY_CLASS_LEGAL,
    Priority.TRANSACTIONAL: pb.PRIORITY_CLASS_TRANSACTIONAL,
    Priority.REMINDER: pb.PRIORITY_CLASS_REMINDER,
    Priority.DIGESTIBLE: pb.PRIORITY_CLASS_DIGESTIBLE,
}


def inbox_item_to_pb(d: Delivery) -> pb.InboxItem:
    context = Struct()
    context.update(d.context)
    return pb.InboxItem(notification_id=d.delivery_key, notification=d.notification,
                        priority=PRIORITY_TO_PB[d.priority], category=d.category, context=context,
                        created_at=to_timestamp(d.created_at), read_at=to_timestamp(d.read_at),
                        archived_at=to_timestamp(d.archived_at))


def preference_to_pb(p: Preference) -> pb.Preference:
    return pb.Preference(category=p.category, opted_out=p.opted_out, updated_at=to_timestamp(p.updated_at))
