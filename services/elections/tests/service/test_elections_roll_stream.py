"""StreamVoterRoll (client streaming, all or nothing, line-numbered errors) and the CLI that
uploads a CSV roll with it."""

from __future__ import annotations

import grpc
import pytest
from elections_svc_helpers import BEFORE, make_election

from coop.elections.v1 import elections_pb2 as pb
from coop_elections.entrypoints import cli

pytestmark = pytest.mark.postgres


def _election(env, voters=()):
    e = make_election(env, list(voters))
    env.clock.set(BEFORE)  # before the cut-off: the roll still takes voters
    return e


def _chunks(election_id, rows, size=2):
    """rows: (voter_id, weight); line numbers as in a CSV file with a header."""
    entries = [pb.VoterRollRow(line=i + 2, voter_id=v, weight=w) for i, (v, w) in enumerate(rows)]
    for start in range(0, len(entries), size):
        yield pb.VoterRollChunk(election_id=election_id if start == 0 else "", rows=entries[start:start + size])


def _roll(env, election_id):
    return env.stub.GetVoterRoll(pb.ElectionRef(election_id=election_id), metadata=env.token("a", "admin"))


def test_stream_imports_in_chunks_with_weights(env):
    e = _election(env)
    admin = env.token("admin-1", "admin")
    rows = [("p1", 0), ("p2", 3), ("p3", 1), ("p4", 0), ("p5", 2)]
    report = env.stub.StreamVoterRoll(_chunks(e.election_id, rows), metadata=admin)
    assert report.committed and report.rows_received == 5 and report.rows_imported == 5
    assert not report.errors
    assert (report.roll.size, report.roll.total_weight) == (5, 1 + 3 + 1 + 1 + 2)
    assert (_roll(env, e.election_id).size, _roll(env, e.election_id).total_weight) == (5, 8)
    entry = env.stub.CheckMyRollEntry(pb.ElectionRef(election_id=e.election_id), metadata=env.token("p2", "member"))
    assert entry.on_roll and entry.weight == 3


def test_bad_rows_come_back_with_line_numbers_and_nothing_is_written(env):
    e = _election(env, ["already"])
    before = env.counts()
    rows = [("ok-1", 1), ("bad id!", 1), ("ok-2", -4), ("ok-1", 1), ("already", 1), ("ok-3", 1)]
    report = env.stub.StreamVoterRoll(_chunks(e.election_id, rows), metadata=env.token("a", "admin"))
    assert not report.committed and report.rows_imported == 0 and report.rows_received == 6
    got = [(x.line, x.field) for x in report.errors]
    assert got == [(3, "voter_id"), (4, "weight"), (5, "voter_id"), (6, "voter_id")]
    assert "first on line 2" in report.errors[2].message and "already on the roll" in report.errors[3].message
    assert env.counts() == before
    assert _roll(env, e.election_id).size == 1


def test_partner_imports_only_into_its_own_tenant(env):
    e = make_election(env, tenant="coop-b", admin_role="partner")
    env.clock.set(BEFORE)
    rows = [("b1", 1), ("b2", 1)]
    report = env.stub.StreamVoterRoll(_chunks(e.election_id, rows), metadata=env.token("pa", "partner", tenant="coop-b"))
    assert report.committed and report.roll.size == 2
    for md, code in ((env.token("pa", "partner", tenant="coop-c"), grpc.StatusCode.NOT_FOUND),
                     (env.token("m", "member", tenant="coop-b"), grpc.StatusCode.PERMISSION_DENIED)):
        with pytest.raises(grpc.RpcError) as info:
            env.stub.StreamVoterRoll(_chunks(e.election_id, [("b3", 1)]), metadata=md)
        assert info.value.code() == code


def test_frozen_roll_mixed_elections_and_empty_streams_are_refused(env):
    e = _election(env)
    admin = env.token("a", "admin")
    with pytest.raises(grpc.RpcError) as info:
        env.stub.StreamVoterRoll(iter([pb.VoterRollChunk(election_id=e.election_id)]), metadata=admin)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    other = _election(env)
    mixed = [pb.VoterRollChunk(election_id=e.election_id, rows=[pb.VoterRollRow(line=2, voter_id="x")]),
             pb.VoterRollChunk(election_id=other.election_id, rows=[pb.VoterRollRow(line=3, voter_id="y")])]
    with pytest.raises(grpc.RpcError) as info:
        env.stub.StreamVoterRoll(iter(mixed), metadata=admin)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as info:
        env.stub.StreamVoterRoll(_chunks("not-a-uuid", [("x", 1)]), metadata=admin)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    env.stub.FreezeVoterRoll(pb.ElectionRef(election_id=e.election_id), metadata=admin)
    with pytest.raises(grpc.RpcError) as info:
        env.stub.StreamVoterRoll(_chunks(e.election_id, [("late", 1)]), metadata=admin)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert _roll(env, e.election_id).size == 0


def test_cli_imports_a_csv_file(env, tmp_path, capsys, monkeypatch):
    e = _election(env)
    path = tmp_path / "roll.csv"
    path.write_text("voter_id,weight\n" + "".join(f"c{i},{'' if i % 3 else 2}\n" for i in range(12_000)))
    monkeypatch.setattr(cli, "CHUNK_ROWS", 5000)  # three chunks
    status = cli.import_roll(env.v2, env.token("a", "admin"), str(path), e.election_id, quiet=True)
    out = capsys.readouterr()
    assert status == 0, out.err
    assert "12000 voters imported" in out.out
    roll = _roll(env, e.election_id)
    assert roll.size == 12_000 and roll.total_weight == 12_000 + 4_000


def test_cli_reports_bad_rows_and_imports_nothing(env, tmp_path, capsys):
    e = _election(env)
    path = tmp_path / "roll.csv"
    path.write_text("voter_id,weight\nv1,1\nv2,two\nv3,1\n")
    assert cli.import_roll(env.v2, env.token("a", "admin"), str(path), e.election_id, quiet=True) == 1
    assert "line 3: weight" in capsys.readouterr().err
    path.write_text("voter_id,weight\nv1,1\nv 2,1\nv1,1\n")
    assert cli.import_roll(env.v2, env.token("a", "admin"), str(path), e.election_id, quiet=True) == 1
    err = capsys.readouterr().err
    assert "line 3: voter_id" in err and "line 4: voter_id" in err
    assert _roll(env, e.election_id).size == 0
    path.write_text("id,weight\nv1,1\n")
    with pytest.raises(SystemExit):
        cli.import_roll(env.v2, env.token("a", "admin"), str(path), e.election_id, quiet=True)
