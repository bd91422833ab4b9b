"""SQL access for the elections service and its unit of work (rows + outbox, one transaction)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from coop_elections.adapters import orm
from coop_elections.domain.election import ElectionSpec, QuestionSpec, Text
from coop_elections.domain.model import Method
from coop_elections.domain.window import VotingWindow
from coop_platform.unit_of_work import UnitOfWork


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: member projection column -> column holding the time of the event that set it
_AT = {"status": "status_at", "category": "category_at", "in_good_standing": "standing_at"}


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


@dataclass
class StoredElection:
    """An election row, parsed."""

    election_id: str
    tenant: str
    spec: ElectionSpec
    tie_break_seed: str
    status: str
    roll_frozen: bool
    roll_size: int | None
    roll_weight: int | None
    roll_hash: str | None
    closing_soon_sent: bool

    @property
    def closes_at(self) -> datetime:
        return self.spec.window.closes_at

    def roll_is_frozen(self, now: datetime) -> bool:
        return self.roll_frozen or now >= self.spec.roll_cutoff


def _row_to_election(row: Any) -> StoredElection:
    h, m = (int(x) for x in row.closes_local.split(":"))
    window = VotingWindow.__new__(VotingWindow)  # stored windows were validated at creation
    object.__setattr__(window, "opens_at", _aware(row.opens_at))
    object.__setattr__(window, "assembly_day", row.assembly_day)
    object.__setattr__(window, "closes_local", time(h, m))
    object.__setattr__(window, "tz", row.time_zone)
    spec = ElectionSpec(
        texts=texts_from_json(json.loads(row.texts)),
        questions=tuple(question_from_json(q) for q in json.loads(row.questions)),
        window=window, roll_cutoff=_aware(row.roll_cutoff), allow_revote=row.allow_revote,
        max_proxies_held=row.max_proxies_held, nominations_open=_aware(row.nominations_open),
        nominations_close=_aware(row.nominations_close),
        max_permanent_staff_seats=row.max_permanent_staff_seats,
    )
    return StoredElection(
        election_id=row.election_id, tenant=row.tenant, spec=spec, tie_break_seed=row.tie_break_seed,
        status=row.status, roll_frozen=row.roll_frozen, roll_size=row.roll_size,
        roll_weight=row.roll_weight, roll_hash=row.roll_hash, closing_soon_sent=row.closing_soon_sent,
    )


_HOT: dict[tuple[str, str], Any] = {}


def _hot_statement(dialect: str, name: str) -> Any:
    """The statements every ballot runs, built once per dialect with bound parameters: building
    a statement and its cache key on each call cost about as much CPU as running it."""
    key = (dialect, name)
    stmt = _HOT.get(key)
    if stmt is None:
        ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
        e, r = orm.elections.c, orm.voter_roll.c
        if name.startswith("election"):
            stmt = select(orm.elections).where(e.election_id == bindparam("election_id"),
                                               e.tenant == bindparam("tenant"))
            if name != "election" and dialect == "postgresql":
                stmt = stmt.with_for_update(read=name == "election:share")
        elif name == "roll_entry":
            stmt = select(r.weight, r.category).where(r.election_id == bindparam("election_id"),
                                                      r.voter_id == bindparam("voter_id"))
        elif name == "mark_voted":
            stmt = ins(orm.voters_who_voted).on_conflict_do_nothing(index_elements=["election_id", "voter_id"])
        elif name == "mark_voted_returning":  # executemany: one multi-row INSERT, compiled once
            stmt = (ins(orm.voters_who_voted).on_conflict_do_nothing(index_elements=["election_id", "voter_id"])
                    .returning(orm.voters_who_voted.c.voter_id))
        elif name == "add_ballots":
            stmt = (ins(orm.ballots).on_conflict_do_nothing(index_elements=["election_id", "tracker"])
                    .returning(orm.ballots.c.tracker))
        else:
            raise KeyError(name)
        stmt = _HOT.setdefault(key, stmt)
    return stmt


class SqlElectionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def _hot(self, name: str) -> Any:
        return _hot_statement(self.dialect, name)

    # -- elections
    def add_election(self, election_id: str, tenant: str, spec: ElectionSpec, seed: str, now: datetime,
                     request_id: str | None = None, request_sha256: str | None = None) -> bool:
        """Insert; False (nothing written) when the tenant's `request_id` is taken already."""
        w = spec.window
        stmt = self._insert(orm.elections).values(
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
        query = self._hot(f"election:{lock}" if lock else "election")
        row = self.session.execute(query, {"election_id": election_id, "tenant": tenant}).first()
        return _row_to_election(row) if row else None

    def list_elections(self, tenant: str, limit: int) -> list[StoredElection]:
        rows = self.session.execute(select(orm.elections).where(orm.elections.c.tenant == tenant)
                                    .order_by(orm.elections.c.created_at.desc()).limit(limit))
        return [_row_to_election(r) for r in rows]

    def due(self, column: str, now: datetime, statuses: tuple[str, ...]) -> list[tuple[str, str]]:
        """(tenant, election id) of elections whose `column` instant has passed."""
        c = orm.elections.c
        rows = self.session.execute(select(c.tenant, c.election_id).where(
            getattr(c, column) <= now, c.status.in_(statuses)))
        return [(r.tenant, r.election_id) for r in rows]

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

    # -- roll
    def roll_voters_present(self, election_id: str, voter_ids: list[str]) -> set[str]:
        found: set[str] = set()
        c = orm.voter_roll.c
        for start in range(0, len(voter_ids), 1000):
            chunk = voter_ids[start:start + 1000]
            found.update(self.session.execute(select(c.voter_id).where(
                c.election_id == election_id, c.voter_id.in_(chunk))).scalars())
        return found

    def add_roll_entries(self, election_id: str, entries: list[tuple[str, int, str | None]]) -> None:
        if entries:
            self.session.execute(insert(orm.voter_roll), [
                {"election_id": election_id, "voter_id": v, "weight": w, "category": cat}
                for v, w, cat in entries])

    def roll_entries(self, election_id: str) -> list[tuple[str, int]]:
        c = orm.voter_roll.c
        return [(r.voter_id, r.weight) for r in self.session.execute(
            select(c.voter_id, c.weight).where(c.election_id == election_id))]

    def roll_entry(self, election_id: str, voter_id: str) -> Any:
        return self.session.execute(self._hot("roll_entry"),
                                    {"election_id": election_id, "voter_id": voter_id}).first()

    def roll_weights(self, election_id: str, voter_ids: Iterable[str]) -> dict[str, int]:
        """The roll weight of each of these voters who is on the roll (one query for a batch)."""
        c = orm.voter_roll.c
        return {r.voter_id: int(r.weight) for r in self.session.execute(
            select(c.voter_id, c.weight).where(c.election_id == election_id, c.voter_id.in_(set(voter_ids))))}

    def roll_weight_range(self, election_id: str) -> tuple[int | None, int | None]:
        """The smallest and largest weight on the roll (None, None for an empty roll)."""
        c = orm.voter_roll.c
        low, high = self.session.execute(select(func.min(c.weight), func.max(c.weight))
                                         .where(c.election_id == election_id)).one()
        return (int(low), int(high)) if low is not None else (None, None)

    def roll_totals(self, election_id: str) -> tuple[int, int]:
        c = orm.voter_roll.c
        size, weight = self.session.execute(select(func.count(), func.coalesce(func.sum(c.weight), 0))
                                            .where(c.election_id == election_id)).one()
        return int(size), int(weight)

    # -- register of who voted
    def mark_voted(self, election_id: str, voter_id: str, channel: str) -> bool:
        """Insert into the register; False when the voter is already in it (no exception, so the
        transaction stays usable; on PostgreSQL a concurrent insert waits for the other)."""
        result = self.session.execute(self._hot("mark_voted"),
                                      {"election_id": election_id, "voter_id": voter_id, "channel": channel})
        return result.rowcount == 1

    def mark_voted_many(self, election_id: str, voter_ids: list[str], channel: str) -> set[str]:
        """mark_voted for distinct voters in one statement; returns those newly in the register."""
        if not voter_ids:
            return set()
        rows = [{"election_id": election_id, "voter_id": v, "channel": channel} for v in voter_ids]
        return set(self.session.execute(self._hot("mark_voted_returning"), rows).scalars())

    def has_voted(self, election_id: str, voter_id: str) -> bool:
        c = orm.voters_who_voted.c
        return self.session.execute(select(c.voter_id).where(
            c.election_id == election_id, c.voter_id == voter_id)).first() is not None

    def voted_count(self, election_id: str) -> int:
        c = orm.voters_who_voted.c
        return int(self.session.execute(select(func.count()).where(c.election_id == election_id)).scalar_one())

    def non_voters(self, election_id: str) -> list[str]:
        r, v = orm.voter_roll.c, orm.voters_who_voted.c
        voted = select(v.voter_id).where(v.election_id == election_id)
        return sorted(self.session.execute(select(r.voter_id).where(
            r.election_id == election_id, r.voter_id.not_in(voted))).scalars())

    def in_person_count(self, election_id: str) -> int:
        c = orm.voters_who_voted.c
        return int(self.session.execute(select(func.count()).where(
            c.election_id == election_id, c.channel == "in_person")).scalar_one())

    def register_channel(self, election_id: str, voter_id: str) -> str | None:
        """How this voter is in the register (online, proxy, in_person), or None."""
        c = orm.voters_who_voted.c
        return self.session.execute(select(c.channel).where(
            c.election_id == election_id, c.voter_id == voter_id)).scalar_one_or_none()

    def unmark_in_person(self, election_id: str, voter_id: str) -> bool:
        """Take a voter signed in at the Assembly out of the register (an undone sign-in)."""
        c = orm.voters_who_voted.c
        return self.session.execute(delete(orm.voters_who_voted).where(
            c.election_id == election_id, c.voter_id == voter_id, c.channel == "in_person")).rowcount == 1

    # -- tellers' sign-in audit
    def add_sign_in_audit(self, election_id: str, voter_id: str, teller: str, action: str, reason: str,
                          at: datetime) -> None:
        self.session.execute(insert(orm.sign_in_audit).values(
            election_id=election_id, voter_id=voter_id, teller_id=teller, action=action, reason=reason, at=at))

    def last_sign_in_audit(self, election_id: str, voter_id: str, action: str | None = None) -> Any:
        """The newest audit row of this voter (of this action, when given), or None."""
        c = orm.sign_in_audit.c
        query = select(orm.sign_in_audit).where(c.election_id == election_id, c.voter_id == voter_id)
        if action:
            query = query.where(c.action == action)
        return self.session.execute(query.order_by(c.sequence.desc()).limit(1)).first()

    def sign_in_audit_page(self, election_id: str, after: int, limit: int) -> list[Any]:
        c = orm.sign_in_audit.c
        return list(self.session.execute(select(orm.sign_in_audit).where(
            c.election_id == election_id, c.sequence > after).order_by(c.sequence).limit(limit)))

    def _locked_row(self, table: Any, election_id: str, key: str, value: str) -> Any:
        """One row of an election by its key, locked for this transaction on PostgreSQL (SQLite's
        transactions hold the whole file already)."""
        query = select(table).where(table.c.election_id == election_id, table.c[key] == value)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        return self.session.execute(query).first()

    def pending_undo(self, election_id: str, voter_id: str) -> Any:
        return self._locked_row(orm.pending_sign_in_undos, election_id, "voter_id", voter_id)

    def add_pending_undo(self, election_id: str, voter_id: str, teller: str, reason: str) -> None:
        self.session.execute(insert(orm.pending_sign_in_undos).values(
            election_id=election_id, voter_id=voter_id, requested_by=teller, reason=reason))

    def drop_pending_undo(self, election_id: str, voter_id: str) -> None:
        c = orm.pending_sign_in_undos.c
        self.session.execute(delete(orm.pending_sign_in_undos).where(
            c.election_id == election_id, c.voter_id == voter_id))

    # -- ballots
    def add_ballots(self, rows: list[dict[str, Any]]) -> set[str]:
        """Ballots (add_ballot's columns) in one statement; returns the trackers stored (a
        tracker already taken, a chance of one in 2**80, is skipped for the caller to retry)."""
        if not rows:
            return set()
        return set(self.session.execute(self._hot("add_ballots"), rows).scalars())

    def ballots_by_tracker(self, election_id: str, trackers: list[str]) -> dict[str, Any]:
        """tracker -> (content, ballot_hash) of those of these trackers whose ballot stands."""
        c = orm.ballots.c
        return {r.tracker: r for r in self.session.execute(select(c.tracker, c.content, c.ballot_hash).where(
            c.election_id == election_id, c.tracker.in_(set(trackers))))}

    def remove_ballot(self, election_id: str, tracker: str, revote_hash: str) -> bool:
        c = orm.ballots.c
        result = self.session.execute(delete(orm.ballots).where(
            c.election_id == election_id, c.tracker == tracker, c.revote_hash == revote_hash))
        return result.rowcount == 1

    def mark_superseded(self, election_id: str) -> None:
        self.session.execute(insert(orm.superseded_ballots).values(
            election_id=election_id, marker=str(uuid.uuid4())))

    def superseded_count(self, election_id: str) -> int:
        c = orm.superseded_ballots.c
        return int(self.session.execute(select(func.count()).where(c.election_id == election_id)).scalar_one())

    def discard_cast_ballots(self, election_id: str) -> None:
        """Delete an election's casting rows (ballots, superseded markers) once its box is
        published. On SQLite the freed space is overwritten (secure_delete), so the file keeps
        no copy of them; PostgreSQL keeps the dead row versions until VACUUM (see the docs)."""
        if self.dialect == "sqlite":
            self.session.execute(text("PRAGMA secure_delete = ON"))
        for table in (orm.ballots, orm.superseded_ballots):
            self.session.execute(delete(table).where(table.c.election_id == election_id))
        self.set_paper_rows(election_id, content=None, tracker=None)  # kept only to answer retries

    def ballots(self, election_id: str) -> list[tuple[str, int, str]]:
        c = orm.ballots.c
        return [(r.tracker, r.weight, r.content) for r in self.session.execute(
            select(c.tracker, c.weight, c.content).where(c.election_id == election_id))]

    def ballot_totals(self, election_id: str) -> tuple[int, int]:
        c = orm.ballots.c
        n, w = self.session.execute(select(func.count(), func.coalesce(func.sum(c.weight), 0))
                                    .where(c.election_id == election_id)).one()
        return int(n), int(w)

    # -- paper ballots
    def paper(self, election_id: str, paper_id: str) -> Any:
        return self._locked_row(orm.paper_ballots, election_id, "paper_id", paper_id)

    def add_paper(self, election_id: str, paper_id: str, content_json: str, teller: str) -> bool:
        result = self.session.execute(
            self._insert(orm.paper_ballots).values(
                election_id=election_id, paper_id=paper_id, state="pending", content=content_json,
                first_teller=teller)
            .on_conflict_do_nothing(index_elements=["election_id", "paper_id"]))
        return result.rowcount == 1

    def set_paper(self, election_id: str, paper_id: str, **values: Any) -> None:
        self.set_paper_rows(election_id, paper_id, **values)

    def set_paper_rows(self, election_id: str, paper_id: str | None = None, **values: Any) -> None:
        """Update one paper of the election, or all of them."""
        c = orm.paper_ballots.c
        where = [c.election_id == election_id] + ([c.paper_id == paper_id] if paper_id is not None else [])
        self.session.execute(update(orm.paper_ballots).where(*where).values(**values))

    def drop_paper(self, election_id: str, paper_id: str) -> None:
        c = orm.paper_ballots.c
        self.session.execute(delete(orm.paper_ballots).where(
            c.election_id == election_id, c.paper_id == paper_id))

    def papers_counted(self, election_id: str) -> int:
        c = orm.paper_ballots.c
        return int(self.session.execute(select(func.count()).where(
            c.election_id == election_id, c.state == "counted")).scalar_one())

    # -- candidacies
    def candidacies(self, election_id: str, question_id: str = "") -> list[Any]:
        c = orm.candidacies.c
        query = select(orm.candidacies).where(c.election_id == election_id)
        if question_id:
            query = query.where(c.question_id == question_id)
        return list(self.session.execute(query.order_by(c.question_id, c.candidate_id)))

    def candidacy(self, election_id: str, question_id: str, candidate_id: str) -> Any:
        c = orm.candidacies.c
        return self.session.execute(select(orm.candidacies).where(
            c.election_id == election_id, c.question_id == question_id,
            c.candidate_id == candidate_id)).first()

    def save_candidacy(self, election_id: str, question_id: str, candidate_id: str,
                       statement: str, category: str, withdrawn: bool) -> None:
        values = {"statement": statement, "category": category, "withdrawn": withdrawn}
        stmt = self._insert(orm.candidacies).values(
            election_id=election_id, question_id=question_id, candidate_id=candidate_id, **values)
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=["election_id", "question_id", "candidate_id"], set_=values))

    def erase_candidacies(self, tenant: str, candidate_id: str, at: datetime) -> None:
        """Empty this candidate's statements in the tenant's elections; withdraw the candidacies
        whose nomination window is still open at `at`."""
        c, e = orm.candidacies.c, orm.elections.c
        of_tenant = select(e.election_id).where(e.tenant == tenant)
        nominating = of_tenant.where(e.nominations_open <= at, e.nominations_close > at)
        self.session.execute(update(orm.candidacies).where(
            c.candidate_id == candidate_id, c.election_id.in_(of_tenant)).values(statement="[]"))
        self.session.execute(update(orm.candidacies).where(
            c.candidate_id == candidate_id, c.election_id.in_(nominating)).values(withdrawn=True))

    # -- proxies
    def proxy(self, election_id: str, giver: str) -> Any:
        c = orm.proxies.c
        return self.session.execute(select(orm.proxies).where(
            c.election_id == election_id, c.giver_id == giver)).first()

    def proxies(self, election_id: str) -> list[Any]:
        c = orm.proxies.c
        return list(self.session.execute(select(orm.proxies).where(c.election_id == election_id)))

    def save_proxy(self, election_id: str, giver: str, holder: str, status: str) -> None:
        stmt = self._insert(orm.proxies).values(election_id=election_id, giver_id=giver,
                                                holder_id=holder, status=status)
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=["election_id", "giver_id"], set_={"holder_id": holder, "status": status}))

    def usable_proxies(self, election_id: str, uses: list[tuple[str, str]]) -> set[str]:
        """Of these (giver, holder) pairs, the givers whose proxy is active and held by that holder."""
        if not uses:
            return set()
        c = orm.proxies.c
        active = {(r.giver_id, r.holder_id) for r in self.session.execute(select(c.giver_id, c.holder_id).where(
            c.election_id == election_id, c.status == "active", c.giver_id.in_({g for g, _ in uses})))}
        return {giver for giver, holder in uses if (giver, holder) in active}

    def set_proxy_status(self, election_id: str, giver: str, from_status: str, to_status: str,
                         holder: str | None = None) -> bool:
        c = orm.proxies.c
        where = [c.election_id == election_id, c.giver_id == giver, c.status == from_status]
        if holder is not None:
            where.append(c.holder_id == holder)
        return self.session.execute(update(orm.proxies).where(*where).values(status=to_status)).rowcount == 1

    # -- results
    def save_results(self, election_id: str, results_json: str, box_json: str, election_json: str,
                     head_hash: str, now: datetime) -> None:
        self.session.execute(insert(orm.results).values(
            election_id=election_id, results_json=results_json, box_json=box_json,
            election_json=election_json, head_hash=head_hash, published_at=now))

    def results(self, election_id: str) -> Any:
        return self.session.execute(select(orm.results).where(
            orm.results.c.election_id == election_id)).first()

    # -- member projection
    def project_member(self, member_id: str, at: datetime, *, status: str | None = None,
                       category: str | None = None, in_good_standing: bool | None = None) -> None:
        """Record what one membership event (committed at `at`) says about a member, in one
        statement: each given value replaces the stored one unless that came from a newer event
        (events of different types arrive on different queues, in any order). A member first
        seen without a status or a category is active, a user, until an event says otherwise."""
        at = at.astimezone(UTC)
        c = orm.members.c
        given = {"status": status, "category": category, "in_good_standing": in_good_standing}
        stmt = self._insert(orm.members).values(
            member_id=member_id, status=status or "active", category=category or "user",
            in_good_standing=bool(in_good_standing),
            **{_AT[name]: at if value is not None else None for name, value in given.items()})
        changes: dict[str, Any] = {}
        for name, value in given.items():
            if value is None:
                continue
            stamp = _AT[name]
            newer = or_(c[stamp].is_(None), c[stamp] <= stmt.excluded[stamp])
            changes[name] = case((newer, stmt.excluded[name]), else_=c[name])
            changes[stamp] = case((newer, stmt.excluded[stamp]), else_=c[stamp])
        self.session.execute(stmt.on_conflict_do_update(index_elements=["member_id"], set_=changes)
                             if changes else stmt.on_conflict_do_nothing(index_elements=["member_id"]))

    def member(self, member_id: str) -> Any:
        return self.session.execute(select(orm.members).where(orm.members.c.member_id == member_id)).first()

    def members_in_good_standing(self) -> list[tuple[str, str]]:
        c = orm.members.c
        return [(r.member_id, r.category) for r in self.session.execute(
            select(c.member_id, c.category).where(c.in_good_standing.is_(True), c.status == "active"))]


class ElectionsUnitOfWork(UnitOfWork):
    """Repository + outbox in one transaction."""

    elections: SqlElectionRepository

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        super().__init__(session_factory, source="elections")

    def _open(self) -> None:
        self.elections = SqlElectionRepository(self.session)
