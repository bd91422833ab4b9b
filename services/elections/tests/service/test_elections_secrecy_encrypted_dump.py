"""The hardening issue's pairing attacks run against an encrypted election (docs/elections.md,
"Secrecy" and "The encrypted tally"): someone holding a full copy of the elections database
during voting, after the close and after the tally, plus every log line and every event, pairs
a voter with nothing but the ciphertext they sent, and no value the trustees decrypt is a
voter's ciphertext or shares a byte with one.

Attacks tried on every table of the database: the transaction id (xmin) a voter's register row
shares with other rows; the order of rows in a pg_dump (heap order = cast order), the n-th
register row against the n-th ballot; any row, log line or event that names a voter or a
tracker; byte equality between what the voters sent, what each mixer received and returned, and
what the trustees decrypted."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pytest
from elections_svc_helpers import pg_dump_rows
from encrypted_tally_helpers import NAMES, VOTES, Tally
from sqlalchemy import text

from coop.elections.v2 import elections_pb2 as pb
from coop_elections.domain.crypto.ballots import (
    EncryptedBallot,
    EncryptedRanking,
    EncryptedSelection,
)
from coop_elections.domain.crypto.elgamal import Ciphertext

pytestmark = pytest.mark.postgres

#: what a plaintext answer would look like anywhere: a candidate or a resolution choice as a word
ANSWER = re.compile(r"\b(" + "|".join((*NAMES, "yes", "no", "abstain")) + r")\b")
#: tables whose rows are the election's definition: they name every candidate by design
DEFINITION_TABLES = {"elections", "candidacies"}
Dump = dict[str, list[list[str]]]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Copy:
    """What an attacker holds at one moment: the pg_dump and every row's transaction id."""

    dump: Dump
    xmin: dict[str, list[tuple[str, str]]]  # table -> (xmin, row as JSON text)


@dataclass
class Run:
    tally: Tally
    copies: dict[str, Copy] = field(default_factory=dict)  # voting | closed | tallied
    mix_steps: list[tuple[list[tuple[Ciphertext, ...]], list[tuple[Ciphertext, ...]]]] = field(default_factory=list)
    decrypted: list[Ciphertext] = field(default_factory=list)  # what the trustees decrypted
    logs: list[str] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)


def _copy(env) -> Copy:
    xmin: dict[str, list[tuple[str, str]]] = {}
    with env.engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        for table in tables:
            xmin[table] = [(x, row) for x, row in conn.execute(
                text(f'SELECT xmin::text, row_to_json(t)::text FROM "{table}" t'))]
    return Copy(pg_dump_rows(env.url), xmin)


@pytest.fixture(scope="module")
def run(env) -> Iterator[Run]:
    lines, root = _Lines(), logging.getLogger()
    level = root.level
    root.addHandler(lines)
    root.setLevel(logging.DEBUG)
    try:
        logging.getLogger("coop_elections").debug("capture-check")  # the capture itself works
        tally = Tally(env, close=False)  # each member casts alone: one transaction per ballot
        out = Run(tally)
        out.copies["voting"] = _copy(env)
        tally.close()
        out.copies["closed"] = _copy(env)
        for step in (0, 1):
            before = tally.input("board")[2]
            done, _ = tally.mix("board", step)
            out.mix_steps.append((before, list(done.outputs)))
        out.decrypted = tally.ciphertexts()
        for trustee in (1, 3):
            tally.submit_shares(trustee, tally.decrypt(trustee))
        env.v2.FinishTally(pb.FinishTallyRequest(election_id=tally.eid), metadata=tally.admin)
        out.copies["tallied"] = _copy(env)
    finally:
        root.removeHandler(lines)
        root.setLevel(level)
    out.logs = lines.lines
    outbox = "SELECT body FROM outbox WHERE body LIKE :e ORDER BY seq"
    with env.engine.connect() as conn:
        out.events = [json.loads(b) for b in conn.execute(text(outbox), {"e": f"%{tally.eid}%"}).scalars()]
    yield out


def _of_election(rows: Iterable[str], eid: str) -> list[str]:
    return [r for r in rows if eid in r]


def _names_a_voter_or_tracker(row: str, run: Run) -> bool:
    return any(re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", row) for v in VOTES) or any(
        t in row for t in run.tally.trackers.values())


def _components(rows: Iterable[Iterable[Ciphertext]]) -> set[bytes]:
    return {point for row in rows for ct in row for point in (ct.a.to_bytes(), ct.b.to_bytes())}


def _ballot_ciphertexts(raw: bytes) -> list[Ciphertext]:
    out: list[Ciphertext] = []
    for answer in EncryptedBallot.from_bytes(raw).answers:
        if isinstance(answer, EncryptedSelection):
            out += answer.ciphertexts
        elif isinstance(answer, EncryptedRanking):
            out += list(answer.positions)
    return out


@pytest.mark.parametrize("moment", ["voting", "closed", "tallied"])
def test_a_voters_transaction_id_pairs_them_with_their_ciphertext_and_nothing_else(run, moment):
    copy, eid = run.copies[moment], run.tally.eid
    register = {json.loads(row)["voter_id"]: x for x, row in copy.xmin["voters_who_voted"] if eid in row}
    assert sorted(register) == sorted(VOTES)
    for voter, x in register.items():
        same_transaction = {table: [row for rx, row in rows if rx == x] for table, rows in copy.xmin.items()}
        same_transaction = {table: rows for table, rows in same_transaction.items() if rows}
        [ballot] = [json.loads(row) for row in same_transaction.pop("ballots")]
        assert json.loads(ballot["content"]) == {"encrypted_ballot": run.tally.sent[voter].hex()}
        assert ballot["tracker"] == run.tally.trackers[voter]
        # what else that transaction wrote: the register row and the reminder's event, no answer
        assert set(same_transaction) <= {"voters_who_voted", "outbox"}
        assert [ANSWER.findall(row) for rows in same_transaction.values() for row in rows] == [
            [] for rows in same_transaction.values() for _ in rows]
    tally_rows = [x for table in ("mixes", "decryption_shares", "election_results")
                  for x, row in copy.xmin.get(table, []) if eid in row]
    assert not set(tally_rows) & set(register.values())  # no decrypted value shares a voter's transaction


@pytest.mark.parametrize("moment", ["voting", "closed", "tallied"])
def test_the_nth_register_row_of_a_dump_pairs_with_the_nth_ciphertext_only(run, moment):
    dump, eid = run.copies[moment].dump, run.tally.eid
    voters = [r[1] for r in dump["voters_who_voted"] if r[0] == eid]
    contents = [json.loads(r[2]) for r in dump["ballots"] if r[0] == eid]
    paired = dict(zip(voters, contents, strict=True))
    # cast one by one, file order is cast order: the attack works, and yields ciphertexts
    assert paired == {v: {"encrypted_ballot": raw.hex()} for v, raw in run.tally.sent.items()}


@pytest.mark.parametrize("moment", ["voting", "closed", "tallied"])
def test_no_row_naming_a_voter_or_a_tracker_holds_an_answer_in_the_clear(run, moment):
    dump, eid = run.copies[moment].dump, run.tally.eid
    rows = {table: _of_election(("\t".join(r) for r in rows), eid) for table, rows in dump.items()
            if table not in DEFINITION_TABLES}
    naming = {table: [r for r in rs if _names_a_voter_or_tracker(r, run)] for table, rs in rows.items()}
    assert {t for t, rs in naming.items() if rs} >= {"voters_who_voted", "voter_roll"}
    assert {t: [ANSWER.findall(r) for r in rs if ANSWER.search(r)] for t, rs in naming.items()} == {
        t: [] for t in naming}


def test_logs_and_events_name_voters_but_no_tracker_ciphertext_or_answer(run):
    assert run.logs[0].endswith("capture-check")
    # the api logs no line per cast, mix or share (only refusals' bugs): nothing to pair by time
    sent_hex = [raw.hex() for raw in run.tally.sent.values()]
    pieces = [h[i:i + 64] for h in sent_hex for i in range(0, len(h), 4096)]  # a point's bytes, here and there
    for line in run.logs + [json.dumps(e) for e in run.events]:
        assert not any(t in line for t in run.tally.trackers.values()), line
        assert not any(p in line for p in pieces), line
        if _names_a_voter_or_tracker(line, run):
            assert ANSWER.findall(line) == [], line
    voted = [e["data"] for e in run.events if e["type"] == "coop.elections.election.voted.v1"]
    assert sorted(d["voterId"] for d in voted) == sorted(VOTES)  # the reminders' event: who, not what
    assert {k for d in voted for k in d} == {"electionId", "voterId", "votedAt", "tenant"}


def test_no_ciphertext_the_trustees_decrypt_shares_a_byte_with_a_voters_ballot_or_a_mixers_input(run):
    cast = _components([_ballot_ciphertexts(raw) for raw in run.tally.sent.values()])
    first_inputs = run.mix_steps[0][0]
    for inputs, outputs in run.mix_steps:
        assert len(outputs) == len(inputs) == 7  # five ballots, one of weight 3
        assert not _components(outputs) & _components(inputs)  # every row re-encrypted
    decrypted = _components([run.decrypted])
    assert decrypted and not decrypted & (cast | _components(first_inputs) | _components(run.mix_steps[1][0]))
    # the trustees decrypt the last mix's rows for the ranked question, sums for the others
    assert _components(run.mix_steps[1][1]) <= decrypted
