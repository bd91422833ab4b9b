"""Tables of the elections service (SQLAlchemy Core).

Secrecy is a property of this schema (docs/elections.md, "Secrecy"):

* ``ballots`` has no voter column and no time column; its key is the random tracker,
  so neither a key nor a timestamp orders ballots by cast time;
* ``voters_who_voted`` (the register) has no tracker, no ballot reference and no time;
* nothing else joins the two. tests/service/test_secrecy_schema.py keeps it that way.

Every election belongs to one tenant; every other table hangs off an election and is
reached only through a tenant-scoped election lookup.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from coop_platform.tables import BigIntPK, add_platform_tables

metadata = MetaData()
add_platform_tables(metadata)


def _election_fk() -> Column:
    return Column("election_id", String(36), ForeignKey("elections.election_id"), primary_key=True)


elections = Table(
    "elections",
    metadata,
    Column("election_id", String(36), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("texts", Text, nullable=False),  # JSON list of {language, title, description}
    Column("questions", Text, nullable=False),  # JSON list of question specs
    Column("opens_at", DateTime(timezone=True), nullable=False),
    Column("assembly_day", Date, nullable=False),
    Column("closes_local", String(5), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("closes_at", DateTime(timezone=True), nullable=False),
    Column("roll_cutoff", DateTime(timezone=True), nullable=False),
    Column("allow_revote", Boolean, nullable=False),
    Column("max_proxies_held", Integer, nullable=False),
    Column("nominations_open", DateTime(timezone=True), nullable=True),
    Column("nominations_close", DateTime(timezone=True), nullable=True),
    Column("max_permanent_staff_seats", Integer, nullable=False),
    Column("tie_break_seed", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("roll_frozen", Boolean, nullable=False),
    Column("roll_size", BigInteger, nullable=True),
    Column("roll_weight", BigInteger, nullable=True),
    Column("roll_hash", String(64), nullable=True),
    Column("closing_soon_sent", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # CreateElection's idempotency key (unique per tenant) and the request it came with
    Column("creation_request_id", String(100), nullable=True),
    Column("creation_request_sha256", String(64), nullable=True),
    # An encrypted election's setting (JSON: threshold, trustee and mixer ids; NULL: plaintext
    # ballots) and, from its opening, the election key the trustees' commitments give (hex)
    Column("encryption", Text, nullable=True),
    Column("election_key", String(64), nullable=True),
    Index("ix_elections_tenant", "tenant"),
    Index("ix_elections_status", "status"),
    Index("uq_elections_creation_request", "tenant", "creation_request_id", unique=True),
)

# What each trustee of an encrypted election published at key generation: its commitments with
# their proof of knowledge (TrusteeCommitment's canonical bytes) and the X25519 key the other
# trustees seal its shares to. Public data: the election key is recomputed from these rows.
trustee_keys = Table(
    "trustee_keys",
    metadata,
    _election_fk(),
    Column("trustee", Integer, primary_key=True),  # 1..n, the trustee's number in the election
    Column("commitment", Text, nullable=False),  # hex
    Column("transport_key", String(64), nullable=False),  # hex
    Column("published_by", String(100), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

# An encrypted election's tally: each mixer's shuffle of a ranked question (the output rows as
# concatenated 64-byte ciphertexts, `width` a row, and the proof's canonical bytes), and each
# trustee's decryption shares (132 bytes each, in the tally's order). Public data, all checked
# on arrival.
mixes = Table(
    "mixes",
    metadata,
    _election_fk(),
    Column("question_id", String(64), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("mixer", String(100), nullable=False),
    Column("width", Integer, nullable=False),
    Column("outputs", LargeBinary, nullable=False),
    Column("proof", LargeBinary, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
)

decryption_shares = Table(
    "decryption_shares",
    metadata,
    _election_fk(),
    Column("trustee", Integer, primary_key=True),
    Column("shares", LargeBinary, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
)

voter_roll = Table(
    "voter_roll",
    metadata,
    _election_fk(),
    Column("voter_id", String(100), primary_key=True),
    Column("weight", BigInteger, nullable=False),
    Column("category", String(30), nullable=True),
)

# The register of who voted. No tracker, no time, no sequence number.
voters_who_voted = Table(
    "voters_who_voted",
    metadata,
    _election_fk(),
    Column("voter_id", String(100), primary_key=True),
    Column("channel", String(10), nullable=False),  # online | proxy | in_person
    sqlite_with_rowid=False,  # no rowid numbering rows in cast order (stored by voter id)
)

# The ballot box. No voter, no time; keyed by the random tracker.
ballots = Table(
    "ballots",
    metadata,
    _election_fk(),
    Column("tracker", String(14), primary_key=True),
    Column("content", Text, nullable=False),  # canonical JSON of the validated content
    Column("weight", BigInteger, nullable=False),
    Column("ballot_hash", String(64), nullable=False),  # entry hash over genesis: a commitment
    Column("revote_hash", String(64), nullable=True),  # SHA-256 of the voter's re-vote code
    sqlite_with_rowid=False,  # no rowid numbering rows in cast order (stored by tracker)
)

# One row per ballot replaced by a re-vote: a random marker, nothing else (only the number
# is published). A counter column on the election would make every cast contend for it.
superseded_ballots = Table(
    "superseded_ballots",
    metadata,
    _election_fk(),
    Column("marker", String(36), primary_key=True),
)

paper_ballots = Table(
    "paper_ballots",
    metadata,
    _election_fk(),
    Column("paper_id", String(40), primary_key=True),
    Column("state", String(10), nullable=False),  # pending | counted
    Column("content", Text, nullable=True),  # the entered answers (emptied at the close)
    Column("first_teller", String(100), nullable=True),
    Column("tracker", String(14), nullable=True),  # once counted, to answer a retry (emptied at the close)
)

# Who signed whom in at the Assembly, and undos (two tellers). Not a ballot link: a sign-in
# touches no ballot, and paper ballots carry no voter.
sign_in_audit = Table(
    "sign_in_audit",
    metadata,
    Column("sequence", BigIntPK, primary_key=True, autoincrement=True),
    Column("election_id", String(36), ForeignKey("elections.election_id"), nullable=False),
    Column("voter_id", String(100), nullable=False),
    Column("teller_id", String(200), nullable=False),
    Column("action", String(20), nullable=False),  # signed_in | undo_requested | undone
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_sign_in_audit_election_voter", "election_id", "voter_id"),
)

# An undo asked by one teller, waiting for a second one.
pending_sign_in_undos = Table(
    "pending_sign_in_undos",
    metadata,
    _election_fk(),
    Column("voter_id", String(100), primary_key=True),
    Column("requested_by", String(200), nullable=False),
    Column("reason", Text, nullable=False),
)

candidacies = Table(
    "candidacies",
    metadata,
    _election_fk(),
    Column("question_id", String(64), primary_key=True),
    Column("candidate_id", String(100), primary_key=True),
    Column("statement", Text, nullable=False),
    Column("category", String(30), nullable=False),
    Column("withdrawn", Boolean, nullable=False),
)

proxies = Table(
    "proxies",
    metadata,
    _election_fk(),
    Column("giver_id", String(100), primary_key=True),
    Column("holder_id", String(100), nullable=False),
    Column("status", String(10), nullable=False),
)

results = Table(
    "election_results",
    metadata,
    _election_fk(),
    Column("results_json", Text, nullable=False),
    Column("box_json", Text, nullable=False),
    Column("election_json", Text, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

# Local projection of membership (our own cooperative only): who is in good standing. The
# *_at columns hold the time of the membership event that set the value (older events lose).
members = Table(
    "member_projection",
    metadata,
    Column("member_id", String(36), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("category", String(30), nullable=False),
    Column("in_good_standing", Boolean, nullable=False),
    Column("status_at", DateTime(timezone=True), nullable=True),
    Column("category_at", DateTime(timezone=True), nullable=True),
    Column("standing_at", DateTime(timezone=True), nullable=True),
)
