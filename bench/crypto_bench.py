"""`make bench`'s encrypted-election benchmark (issue 14, Benchmarks): the crypto domain alone,
on this machine's two cores, for 41,702 voters with one STV question (9 candidates, 5 seats) and
one resolution on the ballot.

    client      `encrypt_ballot` with every proof, one ballot after the other in this process (a
                voter's client is one core): median and p99 over `--crypto-sample` ballots.
    cast        what a CastBallot of an encrypted ballot must at least do: decode the ballot's
                bytes and verify every proof (`EncryptedBallot.from_bytes`, `verify_ballot`), in a
                pool of 2 processes; once as a batch (the ceiling in ballots/s), once with 32
                concurrent voters each waiting for their answer before sending the next (the
                latency they would see). No gRPC, no database: the verification's ceiling;
                bench/encrypted_cast_bench.py measures the RPC itself.
    mixes       two shuffles with proofs (`shuffle`, `prove_shuffle`, each over the pool through
                its `mapper`) of the 41,702 ranking rows of width 9, the second shuffling the
                first's outputs. The rows are encrypted directly (9 ElGamal encryptions per voter
                of a random valid ranking's candidate positions, as a ballot's are), not taken
                from 41,702 whole ballots, which would take minutes of encryption.
    decryption  3 of 5 trustees: `decrypt_all` of the last shuffle's outputs plus the resolution's
                3 totals, per trustee over the pool, then `open_all` (every share's proof checked)
                and `count` (discrete logs, STV, resolution). The result must equal the plaintext
                count of the same rankings and answers.
    verify      what `audit` does over the published record: the key, both shuffle proofs, every
                decryption share's proof (`tally.first_bad_share`, per trustee, as the audit does), `open_all` and
                `count` again (the same calls as above: their measured times are counted again),
                the resolution sums, and the ballots' part (proofs, `mix_inputs`' ranking rows,
                the ballot hashes) EXTRAPOLATED from a sample's two-core rate times the voters.
    finish      the peak memory of a tally's finish at this size, in a spawned process of its own:
                `open_all` over the ciphertexts and 3 trustees' shares kept as their stored bytes
                (`Packed`, as FinishTally's job reads them), then the same inputs decoded whole (as
                the finish held them before). Target: the elections worker's 512 MiB limit.
                The same for SubmitMix's check of the second mix (the api, 512 MiB too).
    profile     cProfile of each step on a smaller run (`--crypto-profile-rows` rows, one
                process): the hot functions and their share of the step.

Run it alone (through bench.run, which writes bench/results/crypto.json and latest.json):

    python -m bench.crypto_bench [--voters N] [--quick]     # default 41,702 voters, ~30 minutes
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import os
import pstats
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.common import Check, process_cpu_seconds, summarize_ms
from coop_elections.adapters.encrypted_record import record_files
from coop_elections.domain.counting import count_election
from coop_elections.domain.crypto import audit as au
from coop_elections.domain.crypto.ballots import (
    EncryptedBallot,
    encrypt_ballot,
    ranking_positions,
    verify_ballot,
)
from coop_elections.domain.crypto.box import STORED_KEY, stored_content
from coop_elections.domain.crypto.elgamal import CIPHERTEXT_BYTES, Ciphertext, add_all, encrypt
from coop_elections.domain.crypto.group import Element, random_scalar
from coop_elections.domain.crypto.packed import Packed, published
from coop_elections.domain.crypto.record import RecordSource
from coop_elections.domain.crypto.shuffle import (
    ShuffleProof,
    packed_rows,
    prove_shuffle,
    shuffle,
    verify_shuffle,
)
from coop_elections.domain.crypto.tally import (
    Mix,
    Row,
    TallyInput,
    WeightedBallot,
    box_totals,
    count,
    decrypt_all,
    first_bad_share,
    mix_context,
    mix_inputs,
    open_all,
    portable,
    rebuilt,
)
from coop_elections.domain.crypto.tally import verify_mix as check_mix
from coop_elections.domain.crypto.trustees import (
    DECRYPTION_SHARE_BYTES,
    Dealing,
    DecryptionShare,
    Threshold,
    combine_shares,
    qualify,
)
from coop_elections.domain.model import CastBallot, ElectionDefinition, Method, Question
from coop_elections.domain.trackers import new_tracker

NEEDS_BROKER = False  # bench.run: no RabbitMQ vhost, no database
NAME = "crypto"
FULL_VOTERS = 41_702
CANDIDATES = tuple(f"candidate-{i}" for i in range(1, 10))
ELECTION_ID = "bench-crypto"
EID = ELECTION_ID.encode()
STV_ID, MOTION_ID = "board", "motion"
MOTION_ANSWERS = ("yes", "no", "abstain")
MIXERS = ("service", "observer-of-the-board")
DECRYPTING = (1, 3, 5)
ROWS_PER_TASK = 1_000  # voters per encryption task while building the inputs
PROFILE_CIPHERTEXTS = 3_000  # the profile's decryption steps take at most these
FINISH_MEMORY_LIMIT_MIB = 512  # docker-compose.yml's and deploy/k8s's limit of the elections worker and api


def defaults(*, quick: bool) -> dict[str, Any]:
    if quick:
        return {"crypto_voters": 2_000, "crypto_sample": 50, "crypto_verify_ballots": 100,
                "crypto_profile_rows": 200}
    return {"crypto_voters": FULL_VOTERS, "crypto_sample": 200, "crypto_verify_ballots": 400,
            "crypto_profile_rows": 1_000}


def add_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("crypto")
    g.add_argument("--crypto-voters", type=int,
                   help="voters: ranking rows shuffled and decrypted, resolution answers summed (41,702)")
    g.add_argument("--crypto-sample", type=int, help="ballots encrypted one after the other, timed (200)")
    g.add_argument("--crypto-verify-ballots", type=int, help="ballots verified on the worker pool (400)")
    g.add_argument("--crypto-clients", type=int, default=32, help="concurrent voters while verifying (32)")
    g.add_argument("--crypto-processes", type=int, default=2, help="worker processes (2, one per core)")
    g.add_argument("--crypto-profile-rows", type=int,
                   help="rows of the one-process cProfile run naming the hot functions (1,000; 0: none)")
    g.add_argument("--crypto-seed", type=int, default=14, help="seed of the voters' rankings and answers (14)")
    g.add_argument("--crypto-target-encrypt-ms", type=float, default=150.0)
    g.add_argument("--crypto-target-cast", type=float, default=300.0)
    g.add_argument("--crypto-target-cast-p99", type=float, default=200.0)
    g.add_argument("--crypto-target-mixes-s", type=float, default=600.0)
    g.add_argument("--crypto-target-decrypt-s", type=float, default=300.0)
    g.add_argument("--crypto-target-verify-s", type=float, default=900.0)


def definition(voters: int) -> ElectionDefinition:
    return ElectionDefinition(ELECTION_ID, (Question(STV_ID, Method.STV, CANDIDATES, seats=5),
                                            Question(MOTION_ID, Method.RESOLUTION)),
                              tie_break_seed="bench-crypto-seed", roll_weight=voters)


def log(message: str) -> None:
    print(f"[crypto] {time.strftime('%H:%M:%S')} (load {os.getloadavg()[0]:.2f}) {message}", flush=True)


# -- the voters' plaintexts ----------------------------------------------------------------------


def voter_content(rng: random.Random) -> dict[str, Any]:
    """A random valid ballot: a ranking of 0 (2%) or 1..9 candidates, a resolution answer or none."""
    size = 0 if rng.random() < 0.02 else rng.randint(1, len(CANDIDATES))
    content: dict[str, Any] = {STV_ID: rng.sample(CANDIDATES, size)}
    answer = rng.choices((*MOTION_ANSWERS, None), weights=(55, 30, 10, 5))[0]
    if answer is not None:
        content[MOTION_ID] = answer
    return content


def ranking_values(content: dict[str, Any]) -> tuple[int, ...]:
    """A ranking row's plaintexts: each candidate's position (ranked 1..m, the cut m + 1, then
    the unranked), as the ballot encrypts them."""
    return ranking_positions(CANDIDATES, content[STV_ID])


def motion_values(content: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(content.get(MOTION_ID) == a) for a in MOTION_ANSWERS)


# -- worker processes ----------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(voters: int, public_key: bytes) -> None:
    _WORKER["definition"] = definition(voters)
    _WORKER["key"] = Element.from_bytes(public_key)


def _encrypt_voters(values: list[tuple[tuple[int, ...], tuple[int, ...]]]
                    ) -> list[tuple[tuple[Ciphertext, ...], tuple[Ciphertext, ...]]]:
    """Each voter's ranking row and resolution ciphertexts, fresh randomness for each."""
    key = _WORKER["key"]
    return [(tuple(encrypt(v, key, random_scalar()) for v in ranks),
             tuple(encrypt(v, key, random_scalar()) for v in motion)) for ranks, motion in values]


def _encrypt_ballots(contents: list[dict[str, Any]]) -> list[bytes]:
    return [encrypt_ballot(_WORKER["definition"], c, _WORKER["key"]).to_bytes() for c in contents]


def _cast_check(data: bytes) -> tuple[float, float, int]:
    """CastBallot's crypto: decode the ballot's bytes, verify every proof. (decode ms, verify ms, failures)."""
    t0 = time.perf_counter()
    ballot = EncryptedBallot.from_bytes(data)
    t1 = time.perf_counter()
    failures = verify_ballot(_WORKER["definition"], _WORKER["key"], ballot)
    t2 = time.perf_counter()
    return 1000 * (t1 - t0), 1000 * (t2 - t1), len(failures)


def _noop(x: int) -> int:
    return x


# -- measuring -----------------------------------------------------------------------------------


@dataclass
class Timer:
    wall_s: float = 0.0
    cores: float = 0.0


@contextmanager
def timed() -> Iterator[Timer]:
    """Wall time and the cores used by this process and its workers meanwhile."""
    t = Timer()
    pid = os.getpid()
    c0, t0 = process_cpu_seconds(pid), time.perf_counter()
    yield t
    t.wall_s = time.perf_counter() - t0
    t.cores = (process_cpu_seconds(pid) - c0) / t.wall_s if t.wall_s > 0 else 0.0


def step(timer: Timer, **extra: Any) -> dict[str, Any]:
    """Wall seconds, cores used, and CPU seconds (wall x cores: what a busy machine inflates less)."""
    return {"s": round(timer.wall_s, 2), "cores": round(timer.cores, 2),
            "cpu_s": round(timer.wall_s * timer.cores, 1), **extra}


class _Counted:
    """count() reads only the number of ballots and their weight of the box's BoxTotals: a
    stand-in for 41,702 ballots of weight 1."""

    def __init__(self, voters: int) -> None:
        self.ballots = self.total_weight = voters


# -- the parts -----------------------------------------------------------------------------------


def run_client(args: argparse.Namespace, defn: ElectionDefinition, key: Element,
               rng: random.Random) -> tuple[dict, list[bytes]]:
    contents = [voter_content(rng) for _ in range(args.crypto_sample)]
    encrypt_ballot(defn, contents[0], key)  # warm-up: imports, caches
    times, ballots = [], []
    for content in contents:
        t0 = time.perf_counter()
        ballot = encrypt_ballot(defn, content, key)
        times.append(1000 * (time.perf_counter() - t0))
        ballots.append(ballot.to_bytes())
    return {"ballots": len(times), "latency_ms": summarize_ms(times),
            "ballot_bytes": len(ballots[0])}, ballots


def _copy(text: str) -> str:
    """A string of its own, as each row the database returns is."""
    return text[:-1] + text[-1:]


def run_box_memory(defn: ElectionDefinition, key: Element, sample: list[bytes], ballots: int = 1_000,
                   page: int = 200) -> dict:
    """Peak Python memory of reading a stored box for the tally (tracemalloc), two ways: every
    row fetched and every ballot decoded at once (the service before it streamed), and rows read
    `page` at a time and decoded one at a time into BoxTotals (the service now). The rows are
    the sample's ballots stored as the service stores them ({"encrypted_ballot": hex}) under
    distinct trackers; the whole-box figure scales with the box, the streamed one does not."""
    import tracemalloc

    contents = [json.dumps(stored_content(raw)) for raw in sample]
    trackers = sorted(new_tracker() for _ in range(ballots))

    def fetch(start: int, stop: int) -> list[tuple[str, int, str]]:  # as the repository returns rows
        return [(trackers[n], 1, _copy(contents[n % len(contents)])) for n in range(start, stop)]

    def decode(content: str) -> WeightedBallot:
        return WeightedBallot(EncryptedBallot.from_bytes(bytes.fromhex(json.loads(content)[STORED_KEY])))

    def streamed() -> Iterator[WeightedBallot]:
        for start in range(0, ballots, page):
            for _, _, content in fetch(start, min(start + page, ballots)):
                yield decode(content)

    def record_ballots() -> int:  # ballots.json as StreamEncryptedRecord sends it, chunk by chunk
        rows = ((t, w, json.loads(c)[STORED_KEY]) for start in range(0, ballots, page)
                for t, w, c in fetch(start, min(start + page, ballots)))
        source = RecordSource(defn, Threshold(3, 5), key, (), {}, {}, "", lambda: rows, lambda: (), {})
        return sum(len(chunk) for name, chunks in record_files(source) for chunk in chunks)

    out: dict[str, Any] = {"ballots": ballots, "page": page}
    for name, read in (("whole", lambda: [decode(c) for _, _, c in fetch(0, ballots)]),
                       ("streamed", lambda: box_totals(defn, streamed())),
                       ("record_ballots_streamed", record_ballots)):
        tracemalloc.start()
        with timed() as t:
            kept = read()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del kept
        out[name] = {"peak_mib": round(peak / 2**20, 1), "s": round(t.wall_s, 2)}
    per_ballot = out["whole"]["peak_mib"] * 2**20 / ballots
    out["whole_kib_per_ballot"] = round(per_ballot / 1024, 1)
    out["whole_at_41702_gib"] = round(per_ballot * 41_702 / 2**30, 1)
    return out


def run_cast(args: argparse.Namespace, pool: ProcessPoolExecutor, ballots: list[bytes]) -> dict:
    n = len(ballots)
    list(pool.map(_cast_check, ballots[:2 * args.crypto_processes]))  # warm-up
    with timed() as t:
        batch = list(pool.map(_cast_check, ballots))
    failures = sum(f for _, _, f in batch)
    service = sorted(d + v for d, v, _ in batch)
    lock, latencies, next_ballot = threading.Lock(), [], [0]

    def voter() -> None:
        while True:
            with lock:
                i = next_ballot[0]
                if i >= n:
                    return
                next_ballot[0] += 1
            t0 = time.perf_counter()
            pool.submit(_cast_check, ballots[i]).result()
            with lock:
                latencies.append(1000 * (time.perf_counter() - t0))

    voters = [threading.Thread(target=voter) for _ in range(args.crypto_clients)]
    with timed() as c:
        for v in voters:
            v.start()
        for v in voters:
            v.join()
    return {"ballots": n, "processes": args.crypto_processes, "failures": failures,
            "batch": step(t, ballots_per_s=round(n / t.wall_s, 1),
                          decode_ms=round(statistics.median(d for d, _, _ in batch), 2),
                          verify_ms=round(statistics.median(v for _, v, _ in batch), 2),
                          service_ms=summarize_ms(service)),
            "closed_loop": step(c, clients=args.crypto_clients, ballots_per_s=round(n / c.wall_s, 1),
                                latency_ms=summarize_ms(latencies))}


def run_audit_ballots(pool: ProcessPoolExecutor, defn: ElectionDefinition, key: Element,
                      ballots: list[bytes]) -> dict:
    """audit()'s per-ballot work over a sample, as audit runs it with the pool as its mapper."""
    weighted = [WeightedBallot(EncryptedBallot.from_bytes(b)) for b in ballots]
    n = len(weighted)
    with timed() as proofs:
        failed = list(pool.map(au._ballot_failures, [defn] * n, [key] * n, weighted))
    with timed() as rows:
        mix_inputs(defn.questions[0], weighted, pool.map)
    with timed() as hashes:
        digests = {b.ballot.hash() for b in weighted}
    per = {"proofs": proofs.wall_s / n, "ranking_rows": rows.wall_s / n, "hashes": hashes.wall_s / n}
    return {"sample": n, "failures": sum(len(f) for f in failed), "distinct": len(digests),
            "ms_per_ballot": {k: round(1000 * v, 3) for k, v in per.items()},
            "cores": {"proofs": round(proofs.cores, 2), "ranking_rows": round(rows.cores, 2)}}


def build_inputs(pool: ProcessPoolExecutor, contents: list[dict[str, Any]]
                 ) -> tuple[list[tuple[Ciphertext, ...]], list[tuple[Ciphertext, ...]]]:
    values = [(ranking_values(c), motion_values(c)) for c in contents]
    chunks = [values[i:i + ROWS_PER_TASK] for i in range(0, len(values), ROWS_PER_TASK)]
    rows, motion = [], []
    for part in pool.map(_encrypt_voters, chunks):
        for r, m in part:
            rows.append(r)
            motion.append(m)
    return rows, motion


def run_mix(pool: ProcessPoolExecutor, rows: list, key: Element, step_no: int) -> tuple[Mix, dict]:
    """tally.mix's two calls, each given the pool as its mapper."""
    mixer = MIXERS[step_no]
    context = mix_context(ELECTION_ID, STV_ID, step_no, mixer)
    with timed() as s:
        outputs, witness = shuffle(rows, key, mapper=pool.map)
    with timed() as p:
        proof = prove_shuffle(rows, outputs, witness, key, context, mapper=pool.map)
    del witness
    result = Mix(mixer, tuple(tuple(r) for r in outputs), proof)
    proof_bytes = len(proof.to_bytes())
    return result, {"mixer": mixer, "rows": len(rows), "shuffle": step(s), "prove": step(p),
                    "proof_bytes": proof_bytes, "outputs_bytes": 64 * len(rows) * len(rows[0])}


def verify_mix(pool: ProcessPoolExecutor, rows: list, m: Mix, key: Element, step_no: int) -> dict:
    with timed() as v:
        ok = verify_shuffle(m.proof, rows, list(m.outputs), key,
                            mix_context(ELECTION_ID, STV_ID, step_no, m.mixer), mapper=pool.map)
    return step(v, ok=ok)


# -- where the time goes: cProfile on a smaller run ----------------------------------------------

_SHORT = {
    "crypto_scalarmult_ristretto255": "libsodium scalarmult (variable base)",
    "crypto_scalarmult_ristretto255_base": "libsodium scalarmult_base (G)",
    "crypto_core_ristretto255_add": "libsodium point add",
    "crypto_core_ristretto255_sub": "libsodium point sub",
    "crypto_core_ristretto255_is_valid_point": "libsodium point decode check",
    "crypto_core_ristretto255_from_hash": "libsodium hash to point",
    "crypto_core_ristretto255_scalar_random": "libsodium random scalar",
    "crypto_core_ristretto255_scalar_mul": "libsodium scalar mul",
    "crypto_core_ristretto255_scalar_add": "libsodium scalar add",
    "crypto_core_ristretto255_scalar_reduce": "libsodium scalar reduce",
    # ctypes calls count in their caller: this is the time of libdecaf's sums (group.linear_combination)
    "_decaf.combine": "libdecaf sums of multiples",
}


def _profiled(fn: Callable[[], Any], units: int) -> dict[str, Any]:
    profile = cProfile.Profile()
    t0 = time.perf_counter()
    profile.enable()
    fn()
    profile.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())
    rows = []
    for (path, _line, name), (_cc, ncalls, tottime, _ct, _callers) in stats.items():
        label = _SHORT.get(name, f"{Path(path).stem}.{name}" if path != "~" else name)
        rows.append((tottime, _SHORT.get(label, label), ncalls))
    rows.sort(reverse=True)
    sodium = sum(t for t, label, _ in rows if label.startswith("libsodium"))
    decaf = sum(t for t, label, _ in rows if label.startswith("libdecaf"))
    return {"wall_s_profiled": round(wall, 3), "units": units,
            "libsodium_share": round(sodium / total, 3) if total else None,
            "libdecaf_share": round(decaf / total, 3) if total else None,
            "top": [{"function": label, "share": round(t / total, 3),
                     "calls_per_unit": round(n / units, 1)} for t, label, n in rows[:5]]}


def run_profile(args: argparse.Namespace, defn: ElectionDefinition, key: Element, key_shares: dict,
                qualification: Any, rng: random.Random) -> dict:
    n = min(args.crypto_profile_rows, args.crypto_voters)
    contents = [voter_content(rng) for _ in range(n)]
    rows = [tuple(encrypt(v, key, random_scalar()) for v in ranking_values(c)) for c in contents]
    out: dict[str, Any] = {"rows": n}
    context = mix_context(ELECTION_ID, STV_ID, 0, MIXERS[0])
    state: dict[str, Any] = {}

    def do_shuffle() -> None:
        state["out"], state["witness"] = shuffle(rows, key)

    def do_prove() -> None:
        state["proof"] = prove_shuffle(rows, state["out"], state["witness"], key, context)

    def do_verify() -> None:
        assert verify_shuffle(state["proof"], rows, state["out"], key, context)

    cts = [ct for row in rows for ct in row][:PROFILE_CIPHERTEXTS]

    def do_decrypt() -> None:
        state["shares"] = {t: decrypt_all(key_shares[t], cts, EID) for t in DECRYPTING}

    def do_open() -> None:
        open_all(cts, state["shares"], qualification)

    def do_check() -> None:
        assert first_bad_share(state["shares"][1], cts, qualification, 1, map) is None

    few = contents[:20]

    def do_encrypt() -> None:
        state["ballots"] = [encrypt_ballot(defn, c, key) for c in few]

    def do_verify_ballots() -> None:
        assert not any(verify_ballot(defn, key, b) for b in state["ballots"])

    def do_ranking_rows() -> None:
        mix_inputs(defn.questions[0], [WeightedBallot(b) for b in state["ballots"]])

    for name, fn, units in (("re-encryption (shuffle), per row", do_shuffle, n),
                            ("proof of shuffle, per row", do_prove, n),
                            ("shuffle verification, per row", do_verify, n),
                            ("decryption shares, 3 trustees, per ciphertext", do_decrypt, len(cts)),
                            ("open_all (checks 3 shares), per ciphertext", do_open, len(cts)),
                            ("decryption proof checks, 1 trustee, per ciphertext", do_check, len(cts)),
                            ("ballot encryption, per ballot", do_encrypt, len(few)),
                            ("ballot verification, per ballot", do_verify_ballots, len(few)),
                            ("ranking row from a ballot (mix_inputs), per ballot", do_ranking_rows, len(few))):
        out[name] = _profiled(fn, units)
    return out


# -- the whole run -------------------------------------------------------------------------------


def run(args: argparse.Namespace, amqp_url: str | None = None, log_dir: Path | None = None
        ) -> tuple[dict, list[Check]]:
    voters = args.crypto_voters
    defn = definition(voters)
    rng = random.Random(args.crypto_seed)
    result: dict[str, Any] = {"voters": voters, "candidates": len(CANDIDATES), "seats": 5,
                              "processes": args.crypto_processes, "loadavg": {"start": os.getloadavg()}}

    # Key generation: five trustees, threshold 3 (not a target; seconds).
    threshold = Threshold(3, 5)
    with timed() as t:
        dealings = {i: Dealing.generate(i, threshold) for i in threshold.trustees}
        commitments = tuple(d.publish(EID) for d in dealings.values())
        qualification = qualify(commitments, threshold, EID)
        key_shares = {j: combine_shares(j, {i: d.share_for(j) for i, d in dealings.items()}, qualification)
                      for j in threshold.trustees}
    key = qualification.public_key
    result["key_generation"] = step(t)

    log(f"client: encrypting {args.crypto_sample} ballots one after the other ...")
    result["client"], sample = run_client(args, defn, key, rng)
    log(f"client: {result['client']}")
    result["box_memory"] = run_box_memory(defn, key, sample)
    log(f"box memory for the tally: {result['box_memory']}")

    with ProcessPoolExecutor(args.crypto_processes, initializer=_init_worker,
                             initargs=(voters, key.to_bytes())) as pool:
        list(pool.map(_noop, range(4 * args.crypto_processes)))  # start the workers
        extra = args.crypto_verify_ballots - len(sample)
        if extra > 0:
            more = [voter_content(rng) for _ in range(extra)]
            for part in pool.map(_encrypt_ballots, [more[i:i + 10] for i in range(0, extra, 10)]):
                sample += part
        sample = sample[:args.crypto_verify_ballots]
        log(f"cast: verifying {len(sample)} ballots on {args.crypto_processes} processes ...")
        result["cast"] = run_cast(args, pool, sample)
        log(f"cast: {result['cast']}")
        result["audit_ballots"] = run_audit_ballots(pool, defn, key, sample)
        log(f"audit's ballot part on the sample: {result['audit_ballots']}")

        contents = [voter_content(rng) for _ in range(voters)]
        log(f"inputs: encrypting {voters:,} ranking rows (9 ciphertexts) and resolution answers (3) ...")
        with timed() as t:
            rows, motion = build_inputs(pool, contents)
        result["inputs"] = step(t, ciphertexts=len(rows) * 9 + len(motion) * 3)
        log(f"inputs: {result['inputs']}")

        mixes, result["mixes"] = [], []
        current = rows
        for step_no in range(len(MIXERS)):
            log(f"mix {step_no + 1}: shuffling and proving {len(current):,} rows ...")
            m, info = run_mix(pool, current, key, step_no)
            mixes.append(m)
            result["mixes"].append(info)
            log(f"mix {step_no + 1}: {info}")
            current = list(m.outputs)

        with timed() as t:
            totals = tuple(add_all(m[k] for m in motion) for k in range(len(MOTION_ANSWERS)))
        result["resolution_sums"] = step(t)
        tally = TallyInput(defn.questions, (mixes[-1].outputs, (totals,)))
        ciphertexts = tally.ciphertexts
        log(f"decryption: {len(ciphertexts):,} ciphertexts, trustees {list(DECRYPTING)} ...")
        shares, per_trustee = {}, {}
        for trustee in DECRYPTING:
            with timed() as t:
                shares[trustee] = decrypt_all(key_shares[trustee], ciphertexts, EID, mapper=pool.map)
            per_trustee[trustee] = step(t)
            log(f"decryption: trustee {trustee}: {per_trustee[trustee]}")
        with timed() as o:
            plaintexts = open_all(ciphertexts, shares, qualification, mapper=pool.map)
        log(f"decryption: open_all {step(o)}")
        with timed() as c:
            encrypted_result = count(defn, _Counted(voters), tally, plaintexts)
        plain_result = count_election(defn, [CastBallot(x) for x in contents])
        same = all(encrypted_result.question(q.id) == plain_result.question(q.id) for q in defn.questions)
        result["decryption"] = {
            "ciphertexts": len(ciphertexts), "trustees": per_trustee, "open_all": step(o),
            "count": step(c), "result_equals_plaintext_count": same,
            "winners": list(encrypted_result.question(STV_ID).winners),
            "share_bytes": len(shares[DECRYPTING[0]][0].to_bytes())}
        log(f"decryption: count {step(c)}; equals the plaintext count: {same}")

        log("verification: key, shuffle proofs, decryption proofs ...")
        verification: dict[str, Any] = {}
        with timed() as t:
            assert qualify(commitments, threshold, EID).public_key == key
        verification["key"] = step(t)
        previous = rows
        verification["mixes"] = []
        for step_no, m in enumerate(mixes):
            verification["mixes"].append(verify_mix(pool, previous, m, key, step_no))
            log(f"verification: mix {step_no + 1}: {verification['mixes'][-1]}")
            previous = list(m.outputs)
        verification["decryption_proofs"] = {}
        for trustee in DECRYPTING:
            with timed() as t:
                bad = first_bad_share(shares[trustee], ciphertexts, qualification, trustee, pool.map)
            verification["decryption_proofs"][trustee] = step(t, ok=bad is None)
            log(f"verification: trustee {trustee}'s shares: {verification['decryption_proofs'][trustee]}")
        result["verification"] = verification
    log("finish memory: open_all of the stored bytes in a process of its own ...")
    result["finish_memory"] = run_finish_memory(ciphertexts, shares, qualification)
    log(f"finish memory: {result['finish_memory']}")
    log("mix check memory: SubmitMix's check of the second mix in a process of its own ...")
    result["mix_memory"] = run_mix_memory(mixes[0].outputs, mixes[1], key)
    log(f"mix check memory: {result['mix_memory']}")
    log(f"shares check memory: SubmitDecryptionShares of trustee {DECRYPTING[0]} in a process of its own ...")
    result["shares_memory"] = run_shares_memory(ciphertexts, DECRYPTING[0], shares[DECRYPTING[0]], qualification)
    log(f"shares check memory: {result['shares_memory']}")
    result["loadavg"]["before_profile"] = os.getloadavg()
    totals_and_profile(args, result, defn, key, key_shares, qualification, rng)
    result["loadavg"]["end"] = os.getloadavg()
    return result, checks(args, result)


def _peak_mib() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would keep the forking parent's)."""
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return round(kib / 1024, 1)


def _finish_memory(folder: str, trustees: tuple[int, ...], qualification: tuple) -> dict[str, Any]:
    """In a fresh process: the peak memory of what FinishTally's job does with the stored bytes
    (read here from files, as the job reads them from the database; open_all over Packed
    sequences in one process, as with COOP_CPU_PROCESSES=1), then of the same inputs decoded
    whole, as the finish held them before."""
    start = _peak_mib()
    ciphertexts = Path(folder, "ciphertexts").read_bytes()
    shares = {i: Path(folder, f"shares-{i}").read_bytes() for i in trustees}
    stored = _peak_mib()
    with timed() as t:
        opened = open_all(Packed(ciphertexts, CIPHERTEXT_BYTES, Ciphertext.from_bytes),
                          {i: Packed(blob, DECRYPTION_SHARE_BYTES, DecryptionShare.from_bytes)
                           for i, blob in shares.items()}, rebuilt(qualification), checked=True)
    packed_peak = _peak_mib()
    decoded = ([Ciphertext.from_bytes(ciphertexts[i:i + CIPHERTEXT_BYTES])
                for i in range(0, len(ciphertexts), CIPHERTEXT_BYTES)],
               {i: [DecryptionShare.from_bytes(blob[k:k + DECRYPTION_SHARE_BYTES])
                    for k in range(0, len(blob), DECRYPTION_SHARE_BYTES)] for i, blob in shares.items()})
    return {"opened": len(opened), "s": round(t.wall_s, 1), "start_mib": start, "stored_bytes_mib": stored,
            "packed_peak_mib": packed_peak, "decoded_peak_mib": _peak_mib(), "decoded_values": len(decoded[0])}


def run_finish_memory(ciphertexts: Sequence[Ciphertext], shares: dict[int, Sequence[DecryptionShare]],
                      qualification: Any) -> dict[str, Any]:
    """The finish's memory at this size."""
    files = {"ciphertexts": b"".join(ct.to_bytes() for ct in ciphertexts),
             **{f"shares-{i}": b"".join(s.to_bytes() for s in given) for i, given in shares.items()}}
    return _in_fresh_process(_finish_memory, files, tuple(shares), portable(qualification))


def _in_fresh_process(measure: Callable[..., dict[str, Any]], files: dict[str, bytes], *args: Any) -> dict[str, Any]:
    """measure(folder, *args) in a spawned process (its peak memory is its own), `files` written
    to that folder first: it reads its inputs as the service reads them from the database."""
    with tempfile.TemporaryDirectory(prefix="coop-memory-") as folder:
        for name, data in files.items():
            Path(folder, name).write_bytes(data)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as one:
            return one.submit(measure, folder, *args).result()


def _file_chunks(path: Path, size: int) -> Iterator[bytes]:
    """A file `size` bytes at a time: a client's stream arrives a message at a time."""
    with open(path, "rb") as f:
        while chunk := f.read(size):
            yield chunk


def _api() -> Any:
    """The api's and the CLIs' modules, imported by the memory steps that receive as the api does
    (before their start is measured: an api process holds them too), not by the bench's other
    processes (the finish's step runs in the worker, which does not)."""
    from coop.elections.v2 import elections_pb2  # noqa: PLC0415
    from coop_elections.entrypoints import grpc_api, mix_cli, trustee_cli  # noqa: PLC0415

    return SimpleNamespace(pb=elections_pb2, receive_mix=grpc_api.receive_mix, receive_shares=grpc_api.receive_shares,
                           mix_rows=mix_cli.ROWS_PER_MESSAGE, proof_chunk=mix_cli.PROOF_CHUNK_BYTES,
                           shares=trustee_cli.SHARES_PER_MESSAGE)


def _mix_messages(folder: str, width: int) -> Iterator[Any]:
    """mix_cli's SubmitMix stream of the outputs file: rows ROWS_PER_MESSAGE a message, then the proof."""
    api = _api()
    pb = api.pb
    yield pb.SubmitMixRequest(header=pb.MixHeader(election_id=ELECTION_ID, question_id=STV_ID, step=1))
    row_bytes = width * CIPHERTEXT_BYTES
    for chunk in _file_chunks(Path(folder, "outputs"), api.mix_rows * row_bytes):
        yield pb.SubmitMixRequest(rows=pb.MixRows(rows=[
            pb.CiphertextRow(ciphertexts=[chunk[i + k:i + k + CIPHERTEXT_BYTES] for k in range(0, row_bytes, CIPHERTEXT_BYTES)])
            for i in range(0, len(chunk), row_bytes)]))
    yield from (pb.SubmitMixRequest(proof_chunk=c) for c in _file_chunks(Path(folder, "proof"), api.proof_chunk))


def _share_messages(folder: str, trustee: int) -> Iterator[Any]:
    """The trustee CLI's SubmitDecryptionShares stream of a shares file, SHARES_PER_MESSAGE a message."""
    api = _api()
    pb = api.pb
    yield pb.SubmitDecryptionSharesRequest(header=pb.DecryptionHeader(election_id=ELECTION_ID, trustee=trustee))
    size = DECRYPTION_SHARE_BYTES
    for chunk in _file_chunks(Path(folder, f"shares-{trustee}"), api.shares * size):
        yield pb.SubmitDecryptionSharesRequest(shares=pb.DecryptionShareChunk(
            shares=[chunk[i:i + size] for i in range(0, len(chunk), size)]))


def _mix_memory(folder: str, width: int, mixer: str, public_key: bytes) -> dict[str, Any]:
    """In a fresh process: the peak memory of SubmitMix on step 1 (its inputs as stored, the
    mixer's stream received as the api receives it, each ciphertext decoded once to refuse a
    malformed one, then checked packed, in one process as with COOP_CPU_PROCESSES=1), then of the
    same rows decoded whole."""
    api = _api()
    start = _peak_mib()
    inputs, key = Path(folder, "inputs").read_bytes(), Element.from_bytes(public_key)
    _, received, proof = api.receive_mix(_mix_messages(folder, width))
    outputs = received.blob()
    stored = _peak_mib()
    with timed() as t:
        for i in range(0, len(outputs), CIPHERTEXT_BYTES):
            Ciphertext.from_bytes(outputs[i:i + CIPHERTEXT_BYTES])
        submitted = Mix(mixer, packed_rows(outputs, width), ShuffleProof.from_bytes(proof))
        ok = check_mix(packed_rows(inputs, width), submitted, key, ELECTION_ID, STV_ID, 1, map)
    packed_peak = _peak_mib()
    decoded = (tuple(packed_rows(inputs, width)), tuple(packed_rows(outputs, width)))
    return {"ok": ok, "rows": len(decoded[0]), "s": round(t.wall_s, 1), "start_mib": start,
            "stored_bytes_mib": stored, "packed_peak_mib": packed_peak, "decoded_peak_mib": _peak_mib()}


def _shares_memory(folder: str, trustee: int, qualification: tuple) -> dict[str, Any]:
    """In a fresh process: the peak memory of SubmitDecryptionShares (the tally's ciphertexts as
    stored, the trustee's stream received as the api receives it, every share's proof checked
    packed, in one process)."""
    api = _api()
    start = _peak_mib()
    ciphertexts = Packed(Path(folder, "ciphertexts").read_bytes(), CIPHERTEXT_BYTES, Ciphertext.from_bytes)
    _, received = api.receive_shares(_share_messages(folder, trustee))
    shares = Packed(received.blob(), DECRYPTION_SHARE_BYTES, DecryptionShare.from_bytes)
    stored = _peak_mib()
    with timed() as t:
        bad = first_bad_share(shares, ciphertexts, rebuilt(qualification), trustee, map)
    return {"ok": bad is None, "shares": len(shares), "s": round(t.wall_s, 1), "start_mib": start,
            "received_mib": stored, "packed_peak_mib": _peak_mib()}


def _listed_shares_memory(folder: str, trustee: int) -> dict[str, Any]:
    """In a fresh process: the same stream received as the api received it before (a list of its
    shares, then joined), without the check (which adds the same to both ways)."""
    _api()
    start = _peak_mib()
    ciphertexts = Path(folder, "ciphertexts").read_bytes()
    listed: list[bytes] = []
    for part in _share_messages(folder, trustee):
        if part.WhichOneof("part") == "shares":
            listed.extend(part.shares.shares)
    joined = b"".join(listed)
    return {"shares": len(joined) // DECRYPTION_SHARE_BYTES, "ciphertexts": len(ciphertexts) // CIPHERTEXT_BYTES,
            "start_mib": start, "listed_peak_mib": _peak_mib()}


def run_shares_memory(ciphertexts: Sequence[Ciphertext], trustee: int, shares: Sequence[DecryptionShare],
                      qualification: Any) -> dict[str, Any]:
    """SubmitDecryptionShares' memory at this size, then as the api received a stream before."""
    files = {"ciphertexts": b"".join(published(ciphertexts)), f"shares-{trustee}": b"".join(published(shares))}
    measured = _in_fresh_process(_shares_memory, files, trustee, portable(qualification))
    before = _in_fresh_process(_listed_shares_memory, files, trustee)
    return {**measured, "listed_start_mib": before["start_mib"], "listed_peak_mib": before["listed_peak_mib"],
            "ok": measured["ok"] and before["shares"] == measured["shares"]}


def run_mix_memory(inputs: Sequence[Row], step: Mix, key: Element) -> dict[str, Any]:
    """SubmitMix's memory at this size."""
    files = {"inputs": b"".join(ct.to_bytes() for row in inputs for ct in row),
             "outputs": b"".join(ct.to_bytes() for row in step.outputs for ct in row),
             "proof": step.proof.to_bytes()}
    return _in_fresh_process(_mix_memory, files, len(inputs[0]), step.mixer, key.to_bytes())


def totals_and_profile(args: argparse.Namespace, result: dict, defn: ElectionDefinition, key: Element,
                 key_shares: dict, qualification: Any, rng: random.Random) -> None:
    """Totals, the extrapolated ballot part, and the profile (after the pool is gone)."""
    voters = result["voters"]
    mixes = result["mixes"]
    result["mixes_total_s"] = round(sum(m["shuffle"]["s"] + m["prove"]["s"] for m in mixes), 1)
    d = result["decryption"]
    d["trustees_total_s"] = round(sum(x["s"] for x in d["trustees"].values()), 1)
    d["total_s"] = round(d["trustees_total_s"] + d["open_all"]["s"], 1)
    d["total_trustees_in_parallel_s"] = round(max(x["s"] for x in d["trustees"].values())
                                              + d["open_all"]["s"], 1)
    v = result["verification"]
    per = result["audit_ballots"]["ms_per_ballot"]
    ballots_s = voters * sum(per.values()) / 1000
    v["ballots_extrapolated"] = {"s": round(ballots_s, 1), "from_sample": result["audit_ballots"]["sample"],
                                 "ms_per_ballot_two_cores": round(sum(per.values()), 3),
                                 **{f"{k}_s": round(voters * x / 1000, 1) for k, x in per.items()}}
    v["open_all_again_s"] = d["open_all"]["s"]
    v["count_again_s"] = d["count"]["s"]
    v["resolution_sums_s"] = result["resolution_sums"]["s"]
    measured = (v["key"]["s"] + sum(m["s"] for m in v["mixes"])
                + sum(x["s"] for x in v["decryption_proofs"].values()) + v["open_all_again_s"]
                + v["count_again_s"] + v["resolution_sums_s"])
    v["measured_s"] = round(measured, 1)
    v["total_s"] = round(measured + ballots_s, 1)
    v["ok"] = (all(m["ok"] for m in v["mixes"]) and all(x["ok"] for x in v["decryption_proofs"].values()))
    if args.crypto_profile_rows:
        log(f"profile: {min(args.crypto_profile_rows, voters)} rows in one process ...")
        result["profile"] = run_profile(args, defn, key, key_shares, qualification, rng)
        for name, prof in result["profile"].items():
            if isinstance(prof, dict):
                top = "; ".join(f"{x['function']} {100 * x['share']:.0f}% ({x['calls_per_unit']}/unit)"
                                for x in prof["top"][:3])
                log(f"profile: {name}: libsodium {100 * (prof['libsodium_share'] or 0):.0f}%, libdecaf "
                    f"{100 * (prof['libdecaf_share'] or 0):.0f}%: {top}")
    log(where_the_time_goes(result))


def where_the_time_goes(result: dict) -> str:
    """The per-phase, per-step breakdown as a small text table."""
    lines = ["where the time goes (wall s, cores used, CPU s):"]

    def add(label: str, s: float, cores: float | None = None) -> None:
        lines.append(f"    {label:<58} {s:>8.1f} s" + (f"   {cores:.2f} cores   {s * cores:>7.1f} CPU s"
                                                         if cores is not None else ""))

    for i, m in enumerate(result["mixes"], 1):
        add(f"mix {i}: re-encryption (shuffle)", m["shuffle"]["s"], m["shuffle"]["cores"])
        add(f"mix {i}: proof of shuffle", m["prove"]["s"], m["prove"]["cores"])
    d = result["decryption"]
    for t, x in d["trustees"].items():
        add(f"decryption: trustee {t}, shares with proofs", x["s"], x["cores"])
    add("decryption: open_all (checks every share, combines)", d["open_all"]["s"], d["open_all"]["cores"])
    add("count (discrete logs, STV, resolution)", d["count"]["s"], d["count"]["cores"])
    v = result["verification"]
    for i, m in enumerate(v["mixes"], 1):
        add(f"verify: shuffle proof {i}", m["s"], m["cores"])
    for t, x in v["decryption_proofs"].items():
        add(f"verify: trustee {t}'s decryption proofs", x["s"], x["cores"])
    add("verify: open_all and count again (measured above)", v["open_all_again_s"] + v["count_again_s"])
    add("verify: resolution sums", v["resolution_sums_s"])
    b = v["ballots_extrapolated"]
    add(f"verify: ballots' proofs, EXTRAPOLATED ({b['from_sample']} sampled)", b["proofs_s"])
    add("verify: ranking rows from the ballots, EXTRAPOLATED", b["ranking_rows_s"])
    add("verify: ballot hashes, EXTRAPOLATED", b["hashes_s"])
    return "\n".join(lines)


# -- checks --------------------------------------------------------------------------------------


def _scaled(target: float, voters: int, unit: str) -> tuple[float, str]:
    """A target for 41,702 voters, scaled linearly for a smaller run (the work is per row)."""
    if voters >= FULL_VOTERS:
        return target, f"< {target:,.0f} {unit}"
    scaled = target * voters / FULL_VOTERS
    return scaled, f"< {target:,.0f} {unit} at {FULL_VOTERS:,} (x{voters:,}/{FULL_VOTERS:,}: {scaled:.1f})"


def checks(args: argparse.Namespace, result: dict) -> list[Check]:
    voters = result["voters"]
    client, cast = result["client"]["latency_ms"], result["cast"]
    batch, loop = cast["batch"], cast["closed_loop"]
    mixes_target, mixes_text = _scaled(args.crypto_target_mixes_s, voters, "s")
    decrypt_target, decrypt_text = _scaled(args.crypto_target_decrypt_s, voters, "s")
    verify_target, verify_text = _scaled(args.crypto_target_verify_s, voters, "s")
    d, v, m, x = result["decryption"], result["verification"], result["finish_memory"], result["mix_memory"]
    y = result["shares_memory"]
    rows = f"{voters:,} rows"
    # The container limit (Compose, Kubernetes) of the worker whose job finishes a tally; the
    # interpreter's own ~60 MiB does not grow with the voters, the rest does.
    memory_text = (f"< {FINISH_MEMORY_LIMIT_MIB} MiB" if voters == FULL_VOTERS else
                   f"< {FINISH_MEMORY_LIMIT_MIB} MiB at {FULL_VOTERS:,} (its growth x{FULL_VOTERS:,}/{voters:,})")

    def fits(step: dict[str, Any]) -> bool:
        """The step's peak at the cooperative's size: its own start (the interpreter and the modules
        its code path imports do not grow with the voters), plus its growth scaled to 41,702."""
        start = step["start_mib"]
        return start + (step["packed_peak_mib"] - start) * FULL_VOTERS / voters < FINISH_MEMORY_LIMIT_MIB
    return [
        Check(NAME, "client: encrypt + prove one ballot (STV 9 + resolution), median", client["p50_ms"],
              "ms", "reported", None),
        Check(NAME, "client: encrypt + prove one ballot, p99", client["p99_ms"], "ms",
              f"< {args.crypto_target_encrypt_ms:.0f} ms", client["p99_ms"] < args.crypto_target_encrypt_ms),
        Check(NAME, f"ballot decode + proof check only, {cast['processes']} processes (CastBallot ceiling)",
              batch["ballots_per_s"], "ballots/s", f">= {args.crypto_target_cast:.0f}/s",
              batch["ballots_per_s"] >= args.crypto_target_cast and not cast["failures"]),
        Check(NAME, f"the same with {loop['clients']} concurrent voters, p99", loop["latency_ms"]["p99_ms"], "ms",
              f"< {args.crypto_target_cast_p99:.0f} ms",
              loop["latency_ms"]["p99_ms"] < args.crypto_target_cast_p99),
        Check(NAME, f"two shuffles with proofs, {rows} of width 9", result["mixes_total_s"], "s",
              mixes_text, result["mixes_total_s"] < mixes_target),
        Check(NAME, f"threshold decryption 3 of 5 with proofs, {d['ciphertexts']:,} ciphertexts "
                    "(trustees one after the other)", d["total_s"], "s", decrypt_text,
              d["total_s"] < decrypt_target and d["result_equals_plaintext_count"]),
        Check(NAME, "  the same, trustees on their own machines at once", d["total_trustees_in_parallel_s"],
              "s", "reported", None),
        Check(NAME, "count (discrete logs, STV 5 seats, resolution)", d["count"]["s"], "s",
              "= plaintext count", bool(d["result_equals_plaintext_count"])),
        Check(NAME, "full verification (ballot part EXTRAPOLATED from the sample)", v["total_s"], "s",
              verify_text, v["total_s"] < verify_target and v["ok"]),
        Check(NAME, "  of which ballots' proofs, rows, hashes (extrapolated)", v["ballots_extrapolated"]["s"],
              "s", "reported", None),
        Check(NAME, "  of which measured: key, shuffles, decryption, count", v["measured_s"], "s",
              "reported", None),
        Check(NAME, "tally finish (open_all of the stored bytes, one process): peak memory",
              m["packed_peak_mib"], "MiB", memory_text, fits(m)),
        Check(NAME, "  the same inputs decoded whole, as the finish held them before", m["decoded_peak_mib"], "MiB",
              "reported", None),
        Check(NAME, "SubmitMix's check of a mix (packed rows, one process): peak memory",
              x["packed_peak_mib"], "MiB", memory_text, fits(x) and x["ok"]),
        Check(NAME, "  the same rows decoded whole, as the check held them before", x["decoded_peak_mib"], "MiB",
              "reported", None),
        Check(NAME, "SubmitDecryptionShares: a trustee's stream joined, every proof checked (one process): "
                    "peak memory", y["packed_peak_mib"], "MiB", memory_text,
              fits(y) and y["ok"]),
        Check(NAME, "  the same stream gathered as a list, then joined, as the api did before", y["listed_peak_mib"],
              "MiB", "reported", None),
    ]


def main(argv: list[str] | None = None) -> int:
    """`--voters N` is `bench.run --only crypto --crypto-voters N`; other options pass through."""
    from bench import run as bench_run

    p = argparse.ArgumentParser(prog="python -m bench.crypto_bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--voters", type=int, help=f"voters ({FULL_VOTERS:,}; --quick: 2,000)")
    known, rest = p.parse_known_args(argv)
    forwarded = ["--only", NAME, *rest]
    if known.voters is not None:
        forwarded += ["--crypto-voters", str(known.voters)]
    return bench_run.main(forwarded)


if __name__ == "__main__":
    sys.exit(main())

