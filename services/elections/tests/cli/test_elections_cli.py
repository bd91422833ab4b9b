"""A partner runs an election with `coop` alone, against a running elections api: create from a
YAML file, import the roll, close, read the results and audit the frozen roll."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import grpc

from coop.elections.v1 import elections_pb2 as pb1
from coop.elections.v2 import elections_pb2 as pb
from coop.elections.v2 import elections_pb2_grpc as pb_grpc
from coop_platform.auth import issue_token

BEFORE = datetime(2027, 4, 20, tzinfo=UTC)
DURING = datetime(2027, 5, 10, 12, tzinfo=UTC)
AFTER = datetime(2027, 5, 15, 15, 0, 1, tzinfo=UTC)
ELECTION_YAML = """\
texts: [{language: en, title: Partner Assembly 2027}]
questions:
  - {question_id: accounts, method: resolution, texts: [{language: en, title: Approve the accounts}]}
  - question_id: board
    method: stv
    seats: 2
    mandate_years: 4
    candidates: [ann, bob, cat]
    texts: [{language: en, title: Board}]
window: {opens_at: "2027-05-01T08:00:00+00:00", assembly_day: 2027-05-15, closes_local: "17:00",
         time_zone: Europe/Brussels}
roll_cutoff: "2027-04-30T08:00:00+00:00"
"""


def coop(target: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COOP_ELECTIONS_ADDR": target, "COOP_DEV_MODE": "1"}
    env.pop("COOP_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "coop_cli.main", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_partner_runs_an_election_from_a_file_to_its_results_with_the_cli(api, tmp_path: Path) -> None:
    target, clock = api
    definition = tmp_path / "election.yaml"
    definition.write_text(ELECTION_YAML)
    created = coop(target, "elections", "create", "--file", str(definition), "--tenant", "partner-x")
    assert created.returncode == 0, created.stderr
    election_id = created.stdout.split()[0]
    assert "votes close at 2027-05-15T15:00:00Z" in created.stdout
    again = coop(target, "elections", "create", "--file", str(definition), "--tenant", "partner-x")
    assert again.stdout.split()[0] == election_id  # the same file again: the same election

    roll = tmp_path / "roll.csv"
    roll.write_text("voter_id,weight\n" + "".join(f"v{n}\n" for n in range(5)))
    imported = coop(target, "roll", "import", str(roll), "--election", election_id, "--tenant", "partner-x", "--quiet")
    assert imported.returncode == 0 and "5 voters imported" in imported.stdout, imported.stderr

    clock.set(DURING)  # members vote in the partner's portal
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.ElectionsServiceStub(channel)
        for n, (accounts, ranking) in enumerate([("yes", ["ann", "bob"]), ("yes", ["ann"]), ("no", ["bob", "cat"]),
                                                 ("yes", ["cat"]), ("yes", ["ann", "cat"])]):
            token = issue_token(f"v{n}", ["member"], tenant="partner-x")
            stub.CastBallot(pb.CastBallotRequest(election_id=election_id, answers=[
                pb1.Answer(question_id="accounts", resolution=accounts),
                pb1.Answer(question_id="board", choices=ranking)]), metadata=[("authorization", f"Bearer {token}")])

    sealed = coop(target, "elections", "results", election_id, "--tenant", "partner-x")
    assert sealed.returncode == 1 and "RESULTS_SEALED" in sealed.stderr
    clock.set(AFTER)
    closed = coop(target, "elections", "close", election_id, "--tenant", "partner-x")
    assert closed.returncode == 0, closed.stderr
    results = coop(target, "elections", "results", election_id, "--tenant", "partner-x")
    assert "accounts: adopted (yes 4, no 1" in results.stdout and "board: elected ann" in results.stdout
    as_json = coop(target, "elections", "results", election_id, "--tenant", "partner-x", "--json")
    assert '"stv_counts"' in as_json.stdout and '"first preferences"' in as_json.stdout
    audit = coop(target, "roll", "entries", "--election", election_id, "--tenant", "partner-x")
    assert audit.returncode == 0 and "matches the published hash" in audit.stderr and "v4,1" in audit.stdout
    other = coop(target, "elections", "results", election_id, "--tenant", "partner-y")
    assert other.returncode == 1 and "NOT_FOUND" in other.stderr


def test_the_election_commands_explain_themselves(api) -> None:
    target, _ = api
    shown = coop(target, "elections", "--help")
    assert shown.returncode == 0 and "coop elections create --file election.yaml" in shown.stdout
    assert "close_time" in shown.stdout and "request id" in shown.stdout
    missing = coop(target, "elections", "create", "--file", "/nonexistent.yaml")
    assert missing.returncode == 1 and "error: /nonexistent.yaml" in missing.stderr and "Traceback" not in missing.stderr
