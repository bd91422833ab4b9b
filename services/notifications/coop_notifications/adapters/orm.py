"""Tables of the notifications service (SQLAlchemy Core). Every table carries the tenant.

- recipients: the projection of membership's events (contact, language, status); an erasure
  empties the contact columns and keeps the pseudonymous member id.
- deliveries: the ledger, one row per event x recipient x channel (unique); contexts hold no
  contact data (the address and name are read from recipients when the mail is rendered).
- preferences: opt-outs per member and category.
- suppressions: addresses that bounced or were refused for good, by SHA-256 (no address kept).
- election_voters: the frozen roll per election (elections' election.roll_frozen), the results'
  audience;
- voted_members: who voted per election (elections' election.voted), for the reminder's
  re-check; an election's rows go when its results are published.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)

from coop_platform.idempotency import idempotency_table
from coop_platform.tables import add_platform_tables

metadata = MetaData()
add_platform_tables(metadata)
idempotency_keys = idempotency_table(metadata)  # request_id -> first answer (every retryable write)

TS = DateTime(timezone=True)

recipients = Table(
    "recipients", metadata,
    Column("tenant", String(100), primary_key=True),
    Column("member_id", String(64), primary_key=True),
    Column("member_number", String(32), nullable=True),
    Column("given_name", String(200), nullable=True),
    Column("email", String(320), nullable=True),
    Column("language", String(8), nullable=True),
    Column("status", String(16), nullable=True),
    Column("in_good_standing", Boolean, nullable=True),
    Column("erased", Boolean, nullable=False, default=False),
    # per group of values, the time of the event that set them (events arrive in any order)
    Column("contact_as_of", TS, nullable=True),
    Column("status_as_of", TS, nullable=True),
    Column("standing_as_of", TS, nullable=True),
)

deliveries = Table(
    "deliveries", metadata,
    Column("delivery_key", String(40), primary_key=True),
    Column("tenant", String(100), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("recipient_id", String(64), nullable=False),
    Column("channel", String(8), nullable=False),  # email | inapp
    Column("notification", String(64), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("priority_rank", SmallInteger, nullable=False),  # 0 = legal first
    Column("category", String(24), nullable=False),
    Column("context", JSON, nullable=False),
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", TS, nullable=False),  # pending / deferred: not before
    Column("lease_until", TS, nullable=True),  # claimed: until then
    Column("claimed_by", String(100), nullable=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("submitted_at", TS, nullable=True),
    Column("last_code", Integer, nullable=True),
    Column("last_detail", String(500), nullable=True),
    Column("read_at", TS, nullable=True),
    Column("archived_at", TS, nullable=True),
    UniqueConstraint("event_id", "recipient_id", "channel", name="uq_deliveries_event_recipient_channel"),
    Index("ix_deliveries_due", "channel", "state", "priority_rank", "due_at"),
    Index("ix_deliveries_inbox", "tenant", "recipient_id", "channel", "created_at"),
    Index("ix_deliveries_digestible", "priority_rank", "state", "channel", "recipient_id"),
)

preferences = Table(
    "preferences", metadata,
    Column("tenant", String(100), primary_key=True),
    Column("member_id", String(64), primary_key=True),
    Column("category", String(24), primary_key=True),
    Column("opted_out", Boolean, nullable=False),
    Column("updated_at", TS, nullable=False),
)

election_titles = Table(  # titles of elections and ("initiative:<id>") initiatives, from their first event
    "election_titles", metadata,
    Column("tenant", String(100), primary_key=True),
    Column("election_id", String(64), primary_key=True),
    Column("titles", JSON, nullable=False),
)

digest_frequencies = Table(  # daily (default) or weekly
    "digest_frequencies", metadata,
    Column("tenant", String(100), primary_key=True),
    Column("member_id", String(64), primary_key=True),
    Column("frequency", String(8), nullable=False),
    Column("updated_at", TS, nullable=False),
)

voted_members = Table(  # who voted, per election (election.voted): the reminder's re-check
    "voted_members", metadata,
    Column("tenant", String(100), primary_key=True),
    Column("election_id", String(64), primary_key=True),
    Column("member_id", String(64), primary_key=True),
    Column("voted_at", TS, nullable=False),  # the first election.voted's
)

election_voters = Table(  # the frozen roll, per election (election.roll_frozen): the results' audience
    "election_voters", metadata,
    Column("tenant", String(100), primary_key=True),
    Column("election_id", String(64), primary_key=True),
    Column("voter_id", String(64), primary_key=True),
)

suppressions = Table(
    "suppressions", metadata,
    Column("address_sha256", String(64), primary_key=True),
    Column("reason", String(500), nullable=False),
    Column("suppressed_at", TS, nullable=False),
)
