"""In-memory fakes of service_layer/ports.py: the elections repository and unit of work, for
use-case tests that run without a database (tests/service_layer/). Rows are SimpleNamespaces,
read by attribute like SQL rows. Locks are no-ops: one test, one thread."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from coop_elections.domain.election import ElectionSpec
from coop_elections.domain.stored import StoredElection


class FakeElectionRepository:
    def __init__(self) -> None:
        self.elections: dict[str, tuple[StoredElection, datetime, str | None, str | None]] = {}
        self.roll: dict[str, dict[str, SimpleNamespace]] = {}
        self.register: dict[str, dict[str, str]] = {}
        self.audit: list[SimpleNamespace] = []
        self.undos: dict[tuple[str, str], SimpleNamespace] = {}
        self.ballot_rows: dict[str, dict[str, dict[str, Any]]] = {}
        self.superseded: dict[str, int] = {}
        self.trustee_key_rows: dict[str, dict[int, SimpleNamespace]] = {}
        self.mix_rows: dict[tuple[str, str], dict[int, SimpleNamespace]] = {}
        self.share_rows: dict[str, dict[int, bytes]] = {}
        self.papers: dict[tuple[str, str], SimpleNamespace] = {}
        self.candidacy_rows: dict[tuple[str, str, str], SimpleNamespace] = {}
        self.proxy_rows: dict[tuple[str, str], SimpleNamespace] = {}
        self.result_rows: dict[str, SimpleNamespace] = {}
        self.members: dict[str, SimpleNamespace] = {}

    # -- elections
    def add_election(self, election_id: str, tenant: str, spec: ElectionSpec, seed: str, now: datetime,
                     request_id: str | None = None, request_sha256: str | None = None) -> bool:
        if request_id and any(t == tenant and r == request_id for e, _, r, _ in self._rows() for t in [e.tenant]):
            return False
        stored = StoredElection(election_id, tenant, spec, seed, "scheduled", False, None, None, None, False)
        self.elections[election_id] = (stored, now, request_id, request_sha256)
        return True

    def _rows(self) -> Iterable[tuple[StoredElection, datetime, str | None, str | None]]:
        return self.elections.values()

    def election_by_request(self, tenant: str, request_id: str) -> Any:
        for e, _, r, sha in self._rows():
            if e.tenant == tenant and r == request_id:
                return SimpleNamespace(election_id=e.election_id, creation_request_sha256=sha)
        raise LookupError(request_id)

    def election(self, tenant: str, election_id: str, lock: str = "") -> StoredElection | None:
        row = self.elections.get(election_id)
        return replace(row[0]) if row and row[0].tenant == tenant else None

    def list_elections(self, tenant: str, limit: int, after: tuple[str, str] | None = None) -> list[Any]:
        rows = sorted(((e, at) for e, at, _, _ in self._rows() if e.tenant == tenant),
                      key=lambda r: (r[1], r[0].election_id), reverse=True)
        if after is not None:
            position = (datetime.fromisoformat(after[0]), after[1])
            rows = [r for r in rows if (r[1], r[0].election_id) < position]
        return [(replace(e), at) for e, at in rows[:limit]]

    def due(self, column: str, now: datetime, statuses: tuple[str, ...]) -> list[tuple[str, str]]:
        at = (lambda e: e.spec.window.opens_at) if column == "opens_at" else (lambda e: e.closes_at)
        return [(e.tenant, e.election_id) for e, *_ in self._rows() if at(e) <= now and e.status in statuses]

    def in_status(self, status: str) -> list[tuple[str, str]]:
        return [(e.tenant, e.election_id) for e, *_ in self._rows() if e.status == status]

    def member_rolls_due(self, tenant: str, now: datetime, until: datetime) -> list[str]:
        return [e.election_id for e, *_ in self._rows() if e.tenant == tenant and not e.roll_frozen
                and now < e.spec.roll_cutoff <= until and e.status == "scheduled" and not self.roll.get(e.election_id)]

    def closing_soon_due(self, now: datetime, lead_until: datetime) -> list[tuple[str, str]]:
        return [(e.tenant, e.election_id) for e, *_ in self._rows()
                if now < e.closes_at <= lead_until and e.spec.window.opens_at <= now
                and not e.closing_soon_sent and e.status != "closed"]

    def add_trustee_key(self, election_id: str, trustee: int, commitment: str, transport_key: str,
                        published_by: str, now: datetime) -> bool:
        keys = self.trustee_key_rows.setdefault(election_id, {})
        if trustee in keys:
            return False
        keys[trustee] = SimpleNamespace(trustee=trustee, commitment=commitment, transport_key=transport_key,
                                        published_by=published_by, published_at=now)
        return True

    def trustee_keys(self, election_id: str) -> list[Any]:
        return [row for _, row in sorted(self.trustee_key_rows.get(election_id, {}).items())]

    def add_mix(self, election_id: str, question_id: str, step: int, mixer: str, width: int, outputs: bytes,
                proof: bytes, now: datetime) -> bool:
        steps = self.mix_rows.setdefault((election_id, question_id), {})
        if step in steps:
            return False
        steps[step] = SimpleNamespace(step=step, mixer=mixer, width=width, outputs=outputs, proof=proof)
        return True

    def mix(self, election_id: str, question_id: str, step: int) -> Any | None:
        return self.mix_rows.get((election_id, question_id), {}).get(step)

    def mix_steps(self, election_id: str) -> dict[str, list[str]]:
        return {q: [row.mixer for _, row in sorted(steps.items())]
                for (e, q), steps in sorted(self.mix_rows.items()) if e == election_id and steps}

    def add_decryption_shares(self, election_id: str, trustee: int, shares: bytes, now: datetime) -> bool:
        stored = self.share_rows.setdefault(election_id, {})
        if trustee in stored:
            return False
        stored[trustee] = shares
        return True

    def decryption_shares(self, election_id: str, trustees: Iterable[int] | None = None) -> dict[int, bytes]:
        stored = self.share_rows.get(election_id, {})
        return {t: b for t, b in stored.items() if trustees is None or t in set(trustees)}

    def decrypted_by(self, election_id: str) -> list[int]:
        return sorted(self.share_rows.get(election_id, {}))

    def update_election(self, election_id: str, **values: Any) -> None:
        e, *rest = self.elections[election_id]
        self.elections[election_id] = (replace(e, **values), *rest)  # type: ignore[assignment]

    def save_results(self, election_id: str, results_json: str, box_json: str, election_json: str,
                     head_hash: str, now: datetime) -> None:
        self.result_rows[election_id] = SimpleNamespace(election_id=election_id, results_json=results_json,
                                                        box_json=box_json, election_json=election_json,
                                                        head_hash=head_hash, published_at=now)

    def results(self, election_id: str) -> Any:
        return self.result_rows.get(election_id)

    # -- roll and register
    def roll_voters_present(self, election_id: str, voter_ids: list[str]) -> set[str]:
        return set(voter_ids) & set(self.roll.get(election_id, {}))

    def add_roll_entries(self, election_id: str, entries: list[tuple[str, int, str | None]]) -> None:
        for v, w, cat in entries:
            self.roll.setdefault(election_id, {})[v] = SimpleNamespace(voter_id=v, weight=w, category=cat)

    def remove_roll_entries(self, election_id: str, voter_ids: Iterable[str]) -> int:
        on = self.roll.get(election_id, {})
        return sum(on.pop(v, None) is not None for v in list(voter_ids))

    def roll_entries(self, election_id: str) -> list[tuple[str, int]]:
        return [(r.voter_id, r.weight) for r in self.roll.get(election_id, {}).values()]

    def roll_entries_page(self, election_id: str, after: str, limit: int) -> list[tuple[str, int]]:
        return sorted((v, w) for v, w in self.roll_entries(election_id) if v > after)[:limit]

    def roll_entry(self, election_id: str, voter_id: str) -> Any:
        return self.roll.get(election_id, {}).get(voter_id)

    def roll_weights(self, election_id: str, voter_ids: Iterable[str]) -> dict[str, int]:
        on = self.roll.get(election_id, {})
        return {v: on[v].weight for v in set(voter_ids) if v in on}

    def roll_weight_range(self, election_id: str) -> tuple[int | None, int | None]:
        weights = [w for _, w in self.roll_entries(election_id)]
        return (min(weights), max(weights)) if weights else (None, None)

    def roll_totals(self, election_id: str) -> tuple[int, int]:
        weights = [w for _, w in self.roll_entries(election_id)]
        return len(weights), sum(weights)

    def mark_voted(self, election_id: str, voter_id: str, channel: str) -> bool:
        return bool(self.mark_voted_many(election_id, [voter_id], channel))

    def mark_voted_many(self, election_id: str, voter_ids: list[str], channel: str) -> set[str]:
        register = self.register.setdefault(election_id, {})
        new = {v for v in voter_ids if v not in register}
        register.update({v: channel for v in new})
        return new

    def has_voted(self, election_id: str, voter_id: str) -> bool:
        return voter_id in self.register.get(election_id, {})

    def voted_count(self, election_id: str) -> int:
        return len(self.register.get(election_id, {}))

    def non_voters(self, election_id: str) -> list[str]:
        return sorted(v for v, _ in self.roll_entries(election_id) if not self.has_voted(election_id, v))

    def in_person_count(self, election_id: str) -> int:
        return sum(c == "in_person" for c in self.register.get(election_id, {}).values())

    def register_channel(self, election_id: str, voter_id: str) -> str | None:
        return self.register.get(election_id, {}).get(voter_id)

    def unmark_in_person(self, election_id: str, voter_id: str) -> bool:
        register = self.register.get(election_id, {})
        return register.get(voter_id) == "in_person" and register.pop(voter_id) is not None

    def add_sign_in_audit(self, election_id: str, voter_id: str, teller: str, action: str, reason: str,
                          at: datetime) -> None:
        self.audit.append(SimpleNamespace(sequence=len(self.audit) + 1, election_id=election_id, voter_id=voter_id,
                                          teller_id=teller, action=action, reason=reason, at=at))

    def last_sign_in_audit(self, election_id: str, voter_id: str, action: str | None = None) -> Any:
        rows = [r for r in self.audit if r.election_id == election_id and r.voter_id == voter_id
                and (action is None or r.action == action)]
        return rows[-1] if rows else None

    def sign_in_audit_page(self, election_id: str, after: int, limit: int) -> list[Any]:
        return [r for r in self.audit if r.election_id == election_id and r.sequence > after][:limit]

    def pending_undo(self, election_id: str, voter_id: str) -> Any:
        return self.undos.get((election_id, voter_id))

    def add_pending_undo(self, election_id: str, voter_id: str, teller: str, reason: str) -> None:
        self.undos[(election_id, voter_id)] = SimpleNamespace(requested_by=teller, reason=reason)

    def drop_pending_undo(self, election_id: str, voter_id: str) -> None:
        self.undos.pop((election_id, voter_id), None)

    # -- ballots, papers, candidacies, proxies
    def add_ballots(self, rows: list[dict[str, Any]]) -> set[str]:
        stored = set()
        for row in rows:
            box = self.ballot_rows.setdefault(row["election_id"], {})
            if row["tracker"] not in box:
                box[row["tracker"]] = dict(row)
                stored.add(row["tracker"])
        return stored

    def ballots_by_tracker(self, election_id: str, trackers: list[str]) -> dict[str, Any]:
        box = self.ballot_rows.get(election_id, {})
        return {t: SimpleNamespace(**box[t]) for t in trackers if t in box}

    def remove_ballot(self, election_id: str, tracker: str, revote_hash: str) -> bool:
        box = self.ballot_rows.get(election_id, {})
        if tracker in box and box[tracker]["revote_hash"] == revote_hash:
            del box[tracker]
            return True
        return False

    def mark_superseded(self, election_id: str) -> None:
        self.superseded[election_id] = self.superseded.get(election_id, 0) + 1

    def superseded_count(self, election_id: str) -> int:
        return self.superseded.get(election_id, 0)

    def discard_cast_ballots(self, election_id: str) -> None:
        self.ballot_rows.pop(election_id, None)
        self.superseded.pop(election_id, None)

    def ballots(self, election_id: str) -> list[tuple[str, int, str]]:
        return [(t, r["weight"], r["content"]) for t, r in self.ballot_rows.get(election_id, {}).items()]

    def ballots_in_order(self, election_id: str, page: int = 200) -> Iterator[tuple[str, int, str]]:
        return iter(sorted(self.ballots(election_id)))

    def ballot_totals(self, election_id: str) -> tuple[int, int]:
        rows = self.ballots(election_id)
        return len(rows), sum(w for _, w, _ in rows)

    def paper(self, election_id: str, paper_id: str) -> Any:
        return self.papers.get((election_id, paper_id))

    def add_paper(self, election_id: str, paper_id: str, content_json: str, teller: str) -> bool:
        if (election_id, paper_id) in self.papers:
            return False
        self.papers[(election_id, paper_id)] = SimpleNamespace(state="pending", content=content_json,
                                                               first_teller=teller, tracker=None)
        return True

    def set_paper(self, election_id: str, paper_id: str, **values: Any) -> None:
        vars(self.papers[(election_id, paper_id)]).update(values)

    def drop_paper(self, election_id: str, paper_id: str) -> None:
        self.papers.pop((election_id, paper_id), None)

    def papers_counted(self, election_id: str) -> int:
        return sum(e == election_id and p.state == "counted" for (e, _), p in self.papers.items())

    def candidacies(self, election_id: str, question_id: str = "") -> list[Any]:
        return [r for k, r in sorted(self.candidacy_rows.items())
                if k[0] == election_id and (not question_id or k[1] == question_id)]

    def candidacy(self, election_id: str, question_id: str, candidate_id: str) -> Any:
        row = self.candidacy_rows.get((election_id, question_id, candidate_id))
        return SimpleNamespace(**vars(row)) if row else None

    def save_candidacy(self, election_id: str, question_id: str, candidate_id: str,
                       statement: str, category: str, withdrawn: bool) -> None:
        self.candidacy_rows[(election_id, question_id, candidate_id)] = SimpleNamespace(
            election_id=election_id, question_id=question_id, candidate_id=candidate_id, statement=statement,
            category=category, withdrawn=withdrawn)

    def erase_candidacies(self, tenant: str, candidate_id: str, at: datetime) -> None:
        for (eid, _, cid), row in self.candidacy_rows.items():
            e = self.elections[eid][0]
            if cid == candidate_id and e.tenant == tenant:
                row.statement = json.dumps([])
                if e.spec.has_nominations and e.spec.nominations_open <= at < e.spec.nominations_close:
                    row.withdrawn = True

    def proxy(self, election_id: str, giver: str) -> Any:
        return self.proxy_rows.get((election_id, giver))

    def proxies(self, election_id: str) -> list[Any]:
        return [r for (e, _), r in self.proxy_rows.items() if e == election_id]

    def save_proxy(self, election_id: str, giver: str, holder: str, status: str) -> None:
        self.proxy_rows[(election_id, giver)] = SimpleNamespace(giver_id=giver, holder_id=holder, status=status)

    def usable_proxies(self, election_id: str, uses: list[tuple[str, str]]) -> set[str]:
        return {g for g, h in uses if (row := self.proxy(election_id, g)) is not None
                and row.holder_id == h and row.status == "active"}

    def set_proxy_status(self, election_id: str, giver: str, from_status: str, to_status: str,
                         holder: str | None = None) -> bool:
        row = self.proxy(election_id, giver)
        if row is None or row.status != from_status or (holder is not None and row.holder_id != holder):
            return False
        row.status = to_status
        return True

    # -- the members projection
    def project_member(self, member_id: str, at: datetime, *, status: str | None = None,
                       category: str | None = None, in_good_standing: bool | None = None) -> None:
        row = self.members.setdefault(member_id, SimpleNamespace(
            member_id=member_id, status="active", category="user", in_good_standing=False, at={}))
        for name, value in (("status", status), ("category", category), ("in_good_standing", in_good_standing)):
            if value is not None and (name not in row.at or row.at[name] <= at):
                setattr(row, name, value)
                row.at[name] = at

    def member(self, member_id: str) -> Any:
        return self.members.get(member_id)

    def members_in_good_standing(self) -> list[tuple[str, str]]:
        return [(m.member_id, m.category) for m in self.members.values() if m.in_good_standing and m.status == "active"]

    def projection_state(self) -> tuple[int, datetime | None, datetime | None]:
        stamps = [at for m in self.members.values() for at in m.at.values()]
        return len(self.members), max(stamps, default=None), max(stamps, default=None)


class FakeUnitOfWork:
    """Commits are counted and published events kept (in commit order); an uncommitted unit's
    events are dropped, like the outbox's rows."""

    def __init__(self) -> None:
        self.elections = FakeElectionRepository()
        self.published: list[Any] = []
        self._pending: list[Any] = []
        self.commits = 0

    def __enter__(self) -> FakeUnitOfWork:
        self._pending = []
        return self

    def __exit__(self, *exc: object) -> None:
        self._pending = []

    def commit(self) -> None:
        self.published.extend(self._pending)
        self._pending = []
        self.commits += 1

    def rollback(self) -> None:
        self._pending = []

    def read_only(self) -> FakeUnitOfWork:
        return self

    def publish(self, event: Any, *, correlation_id: str | None = None) -> str:
        self._pending.append(event)
        return str(len(self.published) + len(self._pending))
