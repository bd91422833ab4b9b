"""SQL rows of elections and their published results; elections as domain values
(StoredElection) and their definitions as JSON columns."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from coop_elections.adapters import orm
from coop_elections.adapters.rows import Rows, election_by_id, utc_or_none
from coop_elections.domain.election import ElectionSpec, EncryptionSpec, QuestionSpec, Text
from coop_elections.domain.model import Method
from coop_elections.domain.stored import StoredElection
from coop_elections.domain.window import VotingWindow


def texts_to_json(texts: Iterable[Text]) -> list[dict[str, str]]:
    return [{"language": t.language, "title": t.title, "description": t.description} for t in texts]


def texts_from_json(data: list[dict[str, str]]) -> tuple[Text, ...]:
    return tuple(Text(d["language"], d["title"], d.get("description", "")) for d in data)


def question_to_json(q: QuestionSpec) -> dict[str, Any]:
    return {
        "question_id": q.question_id, "method": q.method.value, "texts": texts_to_json(q.texts),
        "candidates": list(q.candidates), "seats": q.seats, "mandate_years": q.mandate_years,
        "majority": q.majority, "majority_strict": q.majority_strict,
        "quorum_count": q.quorum_count, "quorum_fraction": q.quorum_fraction,
    }


def question_from_json(d: dict[str, Any]) -> QuestionSpec:
    return QuestionSpec(
        question_id=d["question_id"], method=Method(d["method"]), texts=texts_from_json(d["texts"]),
        candidates=tuple(d["candidates"]), seats=d["seats"], mandate_years=d["mandate_years"],
        majority=d["majority"], majority_strict=d["majority_strict"],
        quorum_count=d["quorum_count"], quorum_fraction=d["quorum_fraction"],
    )


def encryption_to_json(encryption: EncryptionSpec | None) -> str | None:
    if encryption is None:
        return None
    return json.dumps({"threshold": encryption.threshold, "trustees": list(encryption.trustees),
                       "mixers": list(encryption.mixers)})


def encryption_from_json(text: str | None) -> EncryptionSpec | None:
    if not text:
        return None
    d = json.loads(text)
    return EncryptionSpec(d["threshold"], tuple(d["trustees"]), tuple(d["mixers"]))


def _row_to_election(row: Any) -> StoredElection:
    h, m = (int(x) for x in row.closes_local.split(":"))
    window = VotingWindow.__new__(VotingWindow)  # stored windows were validated at creation
    object.__setattr__(window, "opens_at", utc_or_none(row.opens_at))
    object.__setattr__(window, "assembly_day", row.assembly_day)
    object.__setattr__(window, "closes_local", time(h, m))
    object.__setattr__(window, "tz", row.time_zone)
    spec = ElectionSpec(
        texts=texts_from_json(json.loads(row.texts)),
        questions=tuple(question_from_json(q) for q in json.loads(row.questions)),
        window=window, roll_cutoff=utc_or_none(row.roll_cutoff), allow_revote=row.allow_revote,
        max_proxies_held=row.max_proxies_held, nominations_open=utc_or_none(row.nominations_open),
        nominations_close=utc_or_none(row.nominations_close),
        max_permanent_staff_seats=row.max_permanent_staff_seats,
        encryption=encryption_from_json(row.encryption),
    )
    return StoredElection(
        election_id=row.election_id, tenant=row.tenant, spec=spec, tie_break_seed=row.tie_break_seed,
        status=row.status, roll_frozen=row.roll_frozen, roll_size=row.roll_size,
        roll_weight=row.roll_weight, roll_hash=row.roll_hash, closing_soon_sent=row.closing_soon_sent,
        election_key=row.election_key,
    )


class ElectionRows(Rows):
    def add_election(self, election_id: str, tenant: str, spec: ElectionSpec, seed: str, now: datetime,
                     request_id: str | None = None, request_sha256: str | None = None) -> bool:
        """Insert; False (nothing written) when the tenant's `request_id` is taken already."""
        w = spec.window
        stmt = self.dialect.insert(orm.elections).values(
            election_id=election_id, tenant=tenant, texts=json.dumps(texts_to_json(spec.texts)),
            questions=json.dumps([question_to_json(q) for q in spec.questions]),
            opens_at=w.opens_at, assembly_day=w.assembly_day,
            closes_local=w.closes_local.strftime("%H:%M"), time_zone=w.tz, closes_at=w.closes_at,
            roll_cutoff=spec.roll_cutoff, allow_revote=spec.allow_revote,
            max_proxies_held=spec.max_proxies_held, nominations_open=spec.nominations_open,
            nominations_close=spec.nominations_close,
            max_permanent_staff_seats=spec.max_permanent_staff_seats, tie_break_seed=seed,
            status="scheduled", roll_frozen=False, closing_soon_sent=False,
            created_at=now, creation_request_id=request_id, creation_request_sha256=request_sha256,
            encryption=encryption_to_json(spec.encryption),
        )
        if request_id is None:
            self.session.execute(stmt)
            return True
        return self.session.execute(stmt.on_conflict_do_nothing(
            index_elements=["tenant", "creation_request_id"])).rowcount == 1

    def election_by_request(self, tenant: str, request_id: str) -> Any:
        c = orm.elections.c
        return self.session.execute(select(c.election_id, c.creation_request_sha256).where(
            c.tenant == tenant, c.creation_request_id == request_id)).one()

    def election(self, tenant: str, election_id: str, lock: str = "") -> StoredElection | None:
        """Tenant-scoped lookup; lock is "", "share" or "update" (PostgreSQL row locks)."""
        query = election_by_id(self.dialect, lock)
        row = self.session.execute(query, {"election_id": election_id, "tenant": tenant}).first()
        return _row_to_election(row) if row else None

    def list_elections(self, tenant: str, limit: int,
                       after: tuple[str, str] | None = None) -> list[tuple[StoredElection, datetime]]:
        """The tenant's elections, newest first, after the (created_at ISO, election id) position;
        each with its creation time (the page token's position)."""
        c = orm.elections.c
        query = select(orm.elections).where(c.tenant == tenant)
        if after is not None:
            created, election_id = datetime.fromisoformat(after[0]), after[1]
            query = query.where(or_(c.created_at < created, and_(c.created_at == created, c.election_id < election_id)))
        rows = self.session.execute(query.order_by(c.created_at.desc(), c.election_id.desc()).limit(limit))
        return [(_row_to_election(r), utc_or_none(r.created_at)) for r in rows]

    def due(self, column: str, now: datetime, statuses: tuple[str, ...]) -> list[tuple[str, str]]:
        """(tenant, election id) of elections whose `column` instant has passed."""
        c = orm.elections.c
        rows = self.session.execute(select(c.tenant, c.election_id).where(
            getattr(c, column) <= now, c.status.in_(statuses)))
        return [(r.tenant, r.election_id) for r in rows]

    def in_status(self, status: str) -> list[tuple[str, str]]:
        """(tenant, election id) of every election in `status` (e.g. the tallies under way)."""
        c = orm.elections.c
        return [(r.tenant, r.election_id) for r in self.session.execute(
            select(c.tenant, c.election_id).where(c.status == status))]

    def member_rolls_due(self, tenant: str, now: datetime, until: datetime) -> list[str]:
        """Elections of `tenant` whose roll cut-off falls in [now, until) and whose roll is still
        empty and open: the worker builds them from the members projection just before the cut-off."""
        c, r = orm.elections.c, orm.voter_roll.c
        has_roll = select(r.voter_id).where(r.election_id == c.election_id).exists()
        rows = self.session.execute(select(c.election_id).where(
            c.tenant == tenant, c.roll_frozen.is_(False), c.roll_cutoff > now, c.roll_cutoff <= until,
            c.status == "scheduled", ~has_roll))
        return [row.election_id for row in rows]

    def closing_soon_due(self, now: datetime, lead_until: datetime) -> list[tuple[str, str]]:
        c = orm.elections.c
        rows = self.session.execute(select(c.tenant, c.election_id).where(
            c.closes_at <= lead_until, c.closes_at > now, c.opens_at <= now,
            c.closing_soon_sent.is_(False), c.status != "closed"))
        return [(r.tenant, r.election_id) for r in rows]

    def update_election(self, election_id: str, **values: Any) -> None:
        self.session.execute(update(orm.elections).where(
            orm.elections.c.election_id == election_id).values(**values))

    # -- trustees of encrypted elections
    def add_trustee_key(self, election_id: str, trustee: int, commitment: str, transport_key: str,
                        published_by: str, now: datetime) -> bool:
        """Store what trustee `trustee` published; False (nothing written) if it published already."""
        stmt = self.dialect.insert(orm.trustee_keys).values(
            election_id=election_id, trustee=trustee, commitment=commitment, transport_key=transport_key,
            published_by=published_by, published_at=now)
        return self.session.execute(stmt.on_conflict_do_nothing(
            index_elements=["election_id", "trustee"])).rowcount == 1

    def trustee_keys(self, election_id: str) -> list[Any]:
        """The published rows (trustee, commitment, transport_key, published_by, published_at), by trustee."""
        t = orm.trustee_keys.c
        return list(self.session.execute(select(t.trustee, t.commitment, t.transport_key, t.published_by,
                                                t.published_at).where(t.election_id == election_id)
                                         .order_by(t.trustee)))

    # -- the tally of encrypted elections
    def add_mix(self, election_id: str, question_id: str, step: int, mixer: str, width: int, outputs: bytes,
                proof: bytes, now: datetime) -> bool:
        stmt = self.dialect.insert(orm.mixes).values(
            election_id=election_id, question_id=question_id, step=step, mixer=mixer, width=width, outputs=outputs,
            proof=proof, submitted_at=now)
        return self.session.execute(stmt.on_conflict_do_nothing(
            index_elements=["election_id", "question_id", "step"])).rowcount == 1

    def mix(self, election_id: str, question_id: str, step: int) -> Any | None:
        """(step, mixer, width, outputs, proof) of one step: a tally reads only the last one's
        outputs (24 MiB at the cooperative's scale, per step)."""
        m = orm.mixes.c
        return self.session.execute(select(m.step, m.mixer, m.width, m.outputs, m.proof).where(
            m.election_id == election_id, m.question_id == question_id, m.step == step)).first()

    def mix_steps(self, election_id: str) -> dict[str, list[str]]:
        """Question id -> the mixers who shuffled it, in step order (no blobs read)."""
        m = orm.mixes.c
        out: dict[str, list[str]] = {}
        for row in self.session.execute(select(m.question_id, m.mixer).where(m.election_id == election_id)
                                        .order_by(m.question_id, m.step)):
            out.setdefault(row.question_id, []).append(row.mixer)
        return out

    def add_decryption_shares(self, election_id: str, trustee: int, shares: bytes, now: datetime) -> bool:
        stmt = self.dialect.insert(orm.decryption_shares).values(
            election_id=election_id, trustee=trustee, shares=shares, submitted_at=now)
        return self.session.execute(stmt.on_conflict_do_nothing(
            index_elements=["election_id", "trustee"])).rowcount == 1

    def decryption_shares(self, election_id: str, trustees: Iterable[int] | None = None) -> dict[int, bytes]:
        d = orm.decryption_shares.c
        query = select(d.trustee, d.shares).where(d.election_id == election_id)
        if trustees is not None:
            query = query.where(d.trustee.in_(list(trustees)))
        return {row.trustee: bytes(row.shares) for row in self.session.execute(query)}

    def decrypted_by(self, election_id: str) -> list[int]:
        d = orm.decryption_shares.c
        return [row.trustee for row in self.session.execute(
            select(d.trustee).where(d.election_id == election_id).order_by(d.trustee))]

    # -- published results
    def save_results(self, election_id: str, results_json: str, box_json: str, election_json: str,
                     head_hash: str, now: datetime) -> None:
        self.session.execute(insert(orm.results).values(
            election_id=election_id, results_json=results_json, box_json=box_json,
            election_json=election_json, head_hash=head_hash, published_at=now))

    def results(self, election_id: str) -> Any:
        return self.session.execute(select(orm.results).where(
            orm.results.c.election_id == election_id)).first()
