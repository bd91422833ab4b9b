"""An encrypted election driven with `coop` alone against a running api: the admin creates and
closes it, three trustees run their key ceremony through the service, voters fetch the election,
encrypt and cast, two mixers shuffle, two trustees decrypt online, the admin finishes the tally
and exports the record, which the independent verifier accepts. Commands out of turn are refused
with a clear line."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from coop.elections.v1 import elections_pb2 as pb1
from coop.elections.v2 import elections_pb2 as pb
from coop.elections.v2 import elections_pb2_grpc as pb_grpc
from coop_cli.main import main
from coop_elections.client import load_election, prepare_ballot
from coop_elections.domain.crypto.trustees import Dealing, Threshold
from coop_elections.entrypoints import cli
from coop_elections.entrypoints.cli import read_definition
from coop_elections.entrypoints.verify_encrypted import main as verify
from coop_platform.auth import issue_token

TENANT = "partner-x"
BEFORE = datetime(2027, 4, 20, tzinfo=UTC)
DURING = datetime(2027, 5, 10, 12, tzinfo=UTC)
AFTER = datetime(2027, 5, 15, 15, 0, 1, tzinfo=UTC)
TRUSTEES = ("tr-ana", "tr-ben", "tr-cas")
MIXERS = ("mix-a", "mix-b")
ELECTION_YAML = """\
texts: [{language: en, title: Encrypted Assembly 2027}]
questions:
  - {question_id: accounts, method: resolution, texts: [{language: en, title: Approve the accounts}]}
  - {question_id: board, method: stv, seats: 1, mandate_years: 4, candidates: [ann, bob, cat],
     texts: [{language: en, title: Board}]}
window: {opens_at: "2027-05-01T08:00:00+00:00", assembly_day: 2027-05-15, closes_local: "17:00",
         time_zone: Europe/Brussels}
roll_cutoff: "2027-04-30T08:00:00+00:00"
encryption: {threshold: 2, trustee_ids: [tr-ana, tr-ben, tr-cas], mixer_ids: [mix-a, mix-b]}
"""
VOTES = {"v1": ("yes", "ann,bob"), "v2": ("yes", "ann"), "v3": ("no", "cat,bob")}
WEIGHTS = {"v1": 1, "v2": 2, "v3": 1}


@pytest.fixture()
def api(api, monkeypatch):
    """The api of conftest.py, its address in COOP_ELECTIONS_ADDR and no token or TLS inherited."""
    target, _ = api
    monkeypatch.delenv("COOP_TOKEN", raising=False)
    monkeypatch.delenv("COOP_TLS_CA", raising=False)
    monkeypatch.setenv("COOP_ELECTIONS_ADDR", target)
    return api


def coop(*args: str) -> tuple[int, str, str]:
    """`coop ARGS --tenant partner-x` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    argv = [*args, "--tenant", TENANT] if args[0] in ("elections", "roll", "mix") or args[1] in (
        "publish", "fetch-public", "decrypt-online", "fetch", "cast") else list(args)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def ok(*args: str) -> str:
    code, out, err = coop(*args)
    assert code == 0, f"coop {' '.join(args)}: exit {code}\n{out}\n{err}"
    return out


def _create(tmp_path: Path) -> str:
    definition = tmp_path / "election.yaml"
    definition.write_text(ELECTION_YAML)
    return ok("elections", "create", "--file", str(definition)).split()[0]


def _stub(target: str) -> tuple[grpc.Channel, pb_grpc.ElectionsServiceStub]:
    channel = grpc.insecure_channel(target)
    return channel, pb_grpc.ElectionsServiceStub(channel)


def _md(subject: str, role: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {issue_token(subject, [role], tenant=TENANT)}")]


def test_the_encryption_setting_is_read_from_the_election_file(tmp_path):
    path = tmp_path / "election.yaml"
    path.write_text(ELECTION_YAML)
    encryption = read_definition(str(path)).encryption
    assert (encryption.threshold, list(encryption.trustee_ids), list(encryption.mixer_ids)) == (
        2, list(TRUSTEES), list(MIXERS))
    assert "encryption: {threshold: 2" in coop("elections", "--help")[1]


def test_a_whole_encrypted_election_runs_with_the_commands_alone(api, tmp_path, monkeypatch):
    target, clock = api
    eid = _create(tmp_path)
    roll = tmp_path / "roll.csv"
    roll.write_text("voter_id,weight\n" + "".join(f"{v},{w}\n" for v, w in WEIGHTS.items()))
    ok("roll", "import", str(roll), "--election", eid, "--quiet")

    # the key ceremony: keygen on each trustee's machine, the public files through the service
    folders = {i: tmp_path / f"trustee-{i}" for i in (1, 2, 3)}
    for i, folder in folders.items():
        ok("trustee", "keygen", "--election", eid, "--trustee", str(i), "--threshold", "2", "--trustees", "3",
           "--dir", str(folder))
    for i, folder in folders.items():
        published = ok("trustee", "publish", "--election", eid, "--public", str(folder / f"trustee-{i}.public.json"),
                       "--as", TRUSTEES[i - 1])
        assert f"trustee {i} ({TRUSTEES[i - 1]}): published" in published
    assert "election key: " in published and "missing" not in published
    service_key = published.split("election key: ")[1].split()[0]
    board = tmp_path / "board"  # what the trustees send each other: the sealed shares
    board.mkdir()
    for i, folder in folders.items():
        fetched = ok("trustee", "fetch-public", "--election", eid, "--dir", str(folder), "--as", TRUSTEES[i - 1])
        assert fetched.count("fingerprint") == 3 and service_key in fetched
        ok("trustee", "deal", "--dir", str(folder), "--trustee", str(i),
           *(str(folder / f"trustee-{j}.public.json") for j in (1, 2, 3)))
        shutil.copy(folder / f"shares-from-{i}.json", board)
    for i, folder in folders.items():
        combined = ok("trustee", "combine", "--dir", str(folder), "--trustee", str(i),
                      "--public", *(str(folder / f"trustee-{j}.public.json") for j in (1, 2, 3)),
                      "--shares", *(str(board / f"shares-from-{j}.json") for j in (1, 2, 3) if j != i))
        assert combined.strip() == service_key

    clock.set(DURING)
    assert "open" in ok("elections", "open", eid)
    voters = tmp_path / "voters"
    voters.mkdir()
    receipts, check_commands = {}, {}
    for voter, (accounts, board_ranking) in VOTES.items():
        election_json = voters / f"{voter}-election.json"
        assert service_key in ok("vote", "fetch", "--election", eid, "--out", str(election_json), "--as", voter)
        ballot = voters / f"{voter}-ballot.json"
        ok("vote", "encrypt", str(election_json), "--answer", f"accounts={accounts}", "--answer",
           f"board={board_ranking}", "--out", str(ballot))
        assert (voters / f"{voter}-ballot.json.opening").exists()
        cast = ok("vote", "cast", "--election", eid, str(ballot), "--as", voter)
        assert not (voters / f"{voter}-ballot.json.opening").exists()  # it would tell the vote
        receipts[voter] = json.loads(ballot.read_text())["sha256"]
        assert f"receipt {receipts[voter]}" in cast and "tracker " in cast and "ballot hash " in cast
        check_commands[voter] = cast.split("python -m coop_elections.entrypoints.verify_encrypted RECORD ")[1].split()
    again = coop("vote", "cast", "--election", eid, str(voters / "v1-ballot.json"), "--as", "v1")
    assert again[0] == 1 and "ALREADY_VOTED" in again[2] and "Traceback" not in again[2]

    clock.set(AFTER)
    assert "tallying" in ok("elections", "close", eid)
    assert "board: 4 rows, mixed by nobody yet; next: mix-a" in ok("elections", "tally-state", eid)
    monkeypatch.setattr(cli, "PROGRESS_MIN", 1)  # long streams show their progress on stderr
    code, first, err = coop("mix", "--election", eid, "--question", "board", "--as", "mix-a", "--processes", "1")
    assert code == 0 and "step 0 of question 'board' by mix-a: 4 rows and the proof accepted" in first
    assert "receiving: 100%" in err and "sending: 100%" in err and "shuffling 4 rows of 3 ciphertexts" in err
    monkeypatch.setattr(cli, "PROGRESS_MIN", 1000)
    assert "next: mix-b" in first
    assert "stored already" in ok("mix", "--election", eid, "--question", "board", "--as", "mix-a")
    second = ok("mix", "--election", eid, "--question", "board", "--as", "mix-b", "--processes", "2")
    assert "mixed by mix-a, mix-b; every mix done" in second and "mixes complete" in second

    not_yet = coop("elections", "finish-tally", eid)
    assert not_yet[0] == 1 and "DECRYPTION_INCOMPLETE" in not_yet[2]
    decrypted = ok("trustee", "decrypt-online", "--election", eid, "--key", str(folders[3] / "trustee-3.key.json"),
                   "--trustee", "3", "--as", "tr-cas", "--processes", "1")
    assert "decrypted by trustee 3; not by trustees 1, 2" in decrypted
    decrypted = ok("trustee", "decrypt-online", "--election", eid, "--key", str(folders[1] / "trustee-1.key.json"),
                   "--trustee", "1", "--as", "tr-ana", "--processes", "2")
    assert "ready: coop elections finish-tally" in decrypted

    results = ok("elections", "finish-tally", eid)
    assert "accounts: adopted (yes 3, no 1, abstain 0" in results  # v2 weighs 2
    assert "board: elected ann" in results and f"election {eid}: 3 ballots, total weight 4" in results
    assert ok("elections", "results", eid) == results

    record = tmp_path / "record"
    exported = ok("elections", "export-record", eid, "--dir", str(record))
    assert f"python -m coop_elections.entrypoints.verify_encrypted {record}" in exported
    assert sorted(p.name for p in record.iterdir()) == [
        "ballots.json", "decryption-shares-1.json", "decryption-shares-3.json", "election.json", "mixes.json",
        "results.json", "trustee-1.public.json", "trustee-2.public.json", "trustee-3.public.json"]
    assert verify([str(record), "--processes", "1"]) == 0
    assert verify([str(record), "--processes", "1", *check_commands["v1"]]) == 0  # the command cast printed
    again = coop("elections", "export-record", eid, "--dir", str(record))
    assert again[0] == 2 and "not an empty folder" in again[2]


@pytest.fixture()
def tallying(api, tmp_path):
    """An encrypted election past its close, set up through the api: (target, election id)."""
    target, clock = api
    eid = _create(tmp_path)
    channel, stub = _stub(target)
    with channel:
        admin = _md("admin-1", "partner")
        stub.ImportVoterRoll(pb.ImportVoterRollRequest(election_id=eid, voters=[
            pb1.VoterEntry(voter_id=v, weight=1) for v in VOTES]),
            metadata=admin)
        threshold = Threshold(2, 3)
        for i in threshold.trustees:
            stub.PublishTrusteeKey(pb.PublishTrusteeKeyRequest(
                election_id=eid, trustee=i, commitment=Dealing.generate(i, threshold).publish(eid.encode()).to_bytes(),
                transport_public_key=bytes([i]) * 32), metadata=_md(TRUSTEES[i - 1], "trustee"))
        clock.set(DURING)
        stub.OpenElection(pb.OpenElectionRequest(election_id=eid), metadata=admin)
        key = stub.GetElectionKey(pb.GetElectionKeyRequest(election_id=eid), metadata=admin).key
        path = tmp_path / "published.json"
        path.write_text(key.election_json)
        election = load_election(path)
        for voter in VOTES:
            stub.CastBallot(pb.CastBallotRequest(election_id=eid, encrypted_ballot=prepare_ballot(
                election, {"board": ["cat"]}).ballot.to_bytes()), metadata=_md(voter, "member"))
        clock.set(AFTER)
        stub.CloseElection(pb.CloseElectionRequest(election_id=eid), metadata=admin)
    return target, eid


def test_a_mixer_out_of_turn_or_no_mixer_at_all_is_refused_before_any_work(tallying):
    _, eid = tallying
    code, out, err = coop("mix", "--election", eid, "--question", "board", "--as", "mix-b", "--processes", "1")
    assert code == 1 and "Traceback" not in err
    assert "step 0 of question 'board' is 'mix-a''s to shuffle, not 'mix-b''s" in err and "nothing sent" in err
    code, _, err = coop("mix", "--election", eid, "--question", "board", "--as", "mallory")
    assert code == 1 and "'mallory' is not a mixer of election" in err and "mix-a, mix-b" in err
    assert "next: mix-a" in ok("elections", "tally-state", eid)  # nothing stored
    code, _, err = coop("mix", "--election", eid, "--question", "accounts", "--as", "mix-a")
    assert code == 1 and "NOT_A_RANKED_QUESTION" in err
    code, _, err = coop("mix", "--election", eid, "--question", "board")
    assert code == 2 and "--as SUBJECT" in err


def test_the_record_before_the_finish_and_trustees_before_the_mixes_are_refused_cleanly(tallying, tmp_path):
    _, eid = tallying
    record = tmp_path / "record"
    code, out, err = coop("elections", "export-record", eid, "--dir", str(record))
    assert code == 1 and "TALLY_PENDING" in err and "Traceback" not in err
    assert not record.exists() and "verify_encrypted" not in out
    code, _, err = coop("elections", "finish-tally", eid)
    assert code == 1 and "MIXES_INCOMPLETE" in err
    missing = coop("trustee", "decrypt-online", "--election", eid, "--key", str(tmp_path / "nope.json"),
                   "--trustee", "1", "--as", "tr-ana")
    assert missing[0] == 2 and "nope.json" in missing[2]


def test_fetching_the_election_before_the_key_is_complete_names_the_missing_trustees(api, tmp_path):
    _, _ = api
    eid = _create(tmp_path)
    folder = tmp_path / "t1"
    ok("trustee", "keygen", "--election", eid, "--trustee", "1", "--threshold", "2", "--trustees", "3",
       "--dir", str(folder))
    published = ok("trustee", "publish", "--election", eid, "--public", str(folder / "trustee-1.public.json"),
                   "--as", "tr-ana")
    assert "missing: trustees 2, 3" in published
    out = tmp_path / "election.json"
    code, _, err = coop("vote", "fetch", "--election", eid, "--out", str(out), "--as", "v1")
    assert code == 1 and "trustees 2 (tr-ben), 3 (tr-cas) have not published yet" in err and not out.exists()
    wrong = coop("trustee", "publish", "--election", eid, "--public", str(folder / "trustee-1.public.json"),
                 "--as", "tr-ben")
    assert wrong[0] == 1 and "NOT_THIS_TRUSTEE" in wrong[2]
    # a trustee's own public file that differs from what the service holds is never overwritten
    other = tmp_path / "other"
    ok("trustee", "keygen", "--election", eid, "--trustee", "1", "--threshold", "2", "--trustees", "3",
       "--dir", str(other))
    code, _, err = coop("trustee", "fetch-public", "--election", eid, "--dir", str(other))
    assert code == 2 and "is not what trustee 1 published on the service" in err
    fetched = ok("trustee", "fetch-public", "--election", eid, "--dir", str(folder))
    assert "trustee 1 (tr-ana): fingerprint" in fetched and "not published yet: trustees 2, 3" in coop(
        "trustee", "fetch-public", "--election", eid, "--dir", str(folder))[2]
