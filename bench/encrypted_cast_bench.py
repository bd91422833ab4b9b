"""`make bench`'s encrypted CastBallot (issue 14, Benchmarks: "CastBallot with proof verification,
32 concurrent voters: at least 300 ballots/s, p99 under 200 ms"), through the real processes.

    orchestrator (this process): fresh PostgreSQL database, elections api (2 processes, one per
        core) and worker; CreateElection (v2) with 3-of-5 trustees, one STV question (9
        candidates, 5 seats) and a resolution; ImportVoterRoll; each of the five trustees
        publishes its commitments (PublishTrusteeKey, trustee tokens); OpenElection
    voter processes (python -m bench.elections_bench voters --encrypted ...): each fetches the
        election key (GetElectionKey), encrypts its voters' ballots with the client library
        before the start (as a voter's client would, not timed), then 16 threads cast them through
        v2 CastBallot, every voter with its own member token; ~1% of voters send their ballot
        twice at once (exactly one may count)

Only the casting is measured; bench/crypto_bench.py measures the shuffles, the decryption and
the verification.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Check, psycopg_dsn
from bench.elections_bench import (
    CANDIDATES,
    SEATS,
    _cast,
    _db_counts,
    casting_api,
    database_and_worker,
    election_fields,
    voter_id,
)

TRUSTEES = tuple(f"trustee-{i}" for i in range(1, 6))
THRESHOLD = 3


def _create_request(pb1, pb2, opens_at: datetime):
    return pb2.CreateElectionRequest(
        **election_fields(pb1, opens_at, "General Assembly (encrypted bench)", motion=True),
        encryption=pb1.EncryptionSettings(threshold=THRESHOLD, trustee_ids=list(TRUSTEES),
                                          mixer_ids=["service", "observers"]))


def _publish_keys(stub, pb2, election_id: str) -> None:
    """Every trustee's dealing published as `coop trustee publish` does, until the key is whole."""
    from coop_elections.domain.crypto.trustees import Dealing, Threshold
    from coop_testkit import bearer

    threshold = Threshold(THRESHOLD, len(TRUSTEES))
    key = None
    for index, trustee in zip(threshold.trustees, TRUSTEES, strict=True):
        dealing = Dealing.generate(index, threshold)
        key = stub.PublishTrusteeKey(pb2.PublishTrusteeKeyRequest(
            election_id=election_id, trustee=index,
            commitment=dealing.publish(election_id.encode()).to_bytes(),
            transport_public_key=bytes([index]) * 32), metadata=bearer(trustee, "trustee"), timeout=30).key
    if key is None or key.missing or not key.public_key:
        raise RuntimeError("the election key is not complete after every trustee published")


def run(opts, amqp_url: str, log_dir: Path) -> tuple[dict, list[Check]]:
    import grpc

    from coop.elections.v1 import elections_pb2 as pb1
    from coop.elections.v2 import elections_pb2 as pb2
    from coop.elections.v2 import elections_pb2_grpc as pb2_grpc
    from coop_testkit import bearer

    voters = opts.encrypted_voters
    admin = bearer("bench-admin", "admin", ttl=3 * 3600)
    result: dict = {"voters": voters, "candidates": len(CANDIDATES), "seats": SEATS,
                    "questions": ["stv", "resolution"], "trustees": f"{THRESHOLD} of {len(TRUSTEES)}"}
    with database_and_worker(amqp_url, log_dir, "encrypted_cast") as (url, env, wrk):
        with casting_api(opts, env, log_dir, "encrypted_cast") as (port, api):
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            stub = pb2_grpc.ElectionsServiceStub(channel)
            opens_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=opts.open_delay)
            election = stub.CreateElection(_create_request(pb1, pb2, opens_at), metadata=admin,
                                           timeout=30).election
            eid = election.election_id
            for start in range(0, voters, opts.roll_chunk):
                chunk = [pb1.VoterEntry(voter_id=voter_id(i))
                         for i in range(start, min(voters, start + opts.roll_chunk))]
                stub.ImportVoterRoll(pb2.ImportVoterRollRequest(election_id=eid, voters=chunk),
                                     metadata=admin, timeout=120)
            t0 = time.perf_counter()
            _publish_keys(stub, pb2, eid)
            result["key_published_s"] = round(time.perf_counter() - t0, 2)
            if datetime.now(UTC) >= opens_at:
                raise RuntimeError(f"the set-up outlasted --open-delay {opts.open_delay}s")
            time.sleep(max(0.0, (opens_at - datetime.now(UTC)).total_seconds()) + 0.2)
            stub.OpenElection(pb2.OpenElectionRequest(election_id=eid), metadata=admin, timeout=60)
            result["api_processes"] = opts.elections_api_processes
            print(f"  casting {voters:,} encrypted ballots at {opts.voter_procs}x{opts.voter_threads} "
                  "voters ...", flush=True)
            cast_opts = argparse.Namespace(**{**vars(opts), "voters": voters})
            result["cast"] = _cast(cast_opts, f"127.0.0.1:{port}", eid, log_dir, api.proc.pid,
                                   wrk.proc.pid, encrypted=True)
            channel.close()
        result["stored"] = _db_counts(psycopg_dsn(url), eid)
    return result, _checks(opts, result)


def api_cpu_ms_per_ballot(cast: dict) -> float:
    """The api's CPU milliseconds per accepted ballot: on a shared machine the rate swings with
    the neighbours' load (78-126/s for the same code, minutes apart), the CPU a ballot costs less."""
    accepted = cast.get("ballots_accepted") or 0
    if not accepted:
        return 0.0
    return round(cast.get("api_cpu_cores", 0.0) * cast.get("wall_s", 0.0) * 1000.0 / accepted, 2)


def _checks(opts, r: dict) -> list[Check]:
    c, s, d = r["cast"], r["stored"], r["cast"]["doubles"]
    errs = sum(c["errors"].values())
    double_votes = max(0, s["ballots"] - s["voters_who_voted"]) + s["register_duplicates"] + d["both_ok"]
    complete = s["ballots"] == s["voters_who_voted"] == s["voter_roll"] == r["voters"] == c["ballots_accepted"]
    return [
        Check("cast-encrypted", f"encrypted CastBallot, proofs checked ({r['api_processes']} api processes, "
              f"{c['threads']} voters)", c["ballots_per_s"], "ballots/s",
              f">= {opts.target_encrypted_ballots}/s", c["ballots_per_s"] >= opts.target_encrypted_ballots),
        Check("cast-encrypted", "encrypted CastBallot p50", c["p50_ms"], "ms"),
        Check("cast-encrypted", "encrypted CastBallot p99", c["p99_ms"], "ms",
              f"< {opts.target_encrypted_p99:g} ms", c["p99_ms"] < opts.target_encrypted_p99),
        Check("cast-encrypted", "encrypted CastBallot errors", errs, "", "0", errs == 0),
        Check("cast-encrypted", "api / worker CPU while casting",
              f"{c.get('api_cpu_cores', 0):.2f} / {c.get('worker_cpu_cores', 0):.2f}", "cores"),
        Check("cast-encrypted", "api CPU a ballot (its processes and their pool; steadier than the rate)",
              api_cpu_ms_per_ballot(c), "ms"),
        Check("cast-encrypted", "ballots stored / register / roll",
              f"{s['ballots']:,} / {s['voters_who_voted']:,} / {s['voter_roll']:,}", "",
              f"all {r['voters']:,}", complete),
        Check("cast-encrypted", f"double votes ({d['pairs']} voters sent their ballot twice at once)",
              double_votes, "", "0", double_votes == 0 and d["one_ok"] == d["pairs"]),
    ]


def add_options(p) -> None:
    g = p.add_argument_group("cast-encrypted")
    g.add_argument("--encrypted-voters", type=int,
                   help="voters casting an encrypted ballot (4,000: the rate, not the roll size, is measured)")
    g.add_argument("--target-encrypted-ballots", type=int, default=300)
    g.add_argument("--target-encrypted-p99", type=float, default=200.0)


def defaults(*, quick: bool) -> dict:
    return {"encrypted_voters": 600 if quick else 4_000}
