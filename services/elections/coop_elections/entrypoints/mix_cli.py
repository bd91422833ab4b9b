"""`coop mix`: a mixer shuffles one ranked question of an encrypted election, on its own machine.

    coop mix --election E --question Q --as MIXER [--processes P]

After the close (the election is tallying), each ranked question's rows go through the
election's mixers in order (docs/elections.md, "The tally in the service"). `coop mix` reads the
rows this step shuffles (StreamMixInput: the ballots' ranking rows for the first mixer, the
previous mix's outputs after it), re-encrypts and permutes them with a proof of shuffle bound to
the election, the question, the step and the mixer (coop_elections.domain.crypto.tally.mix),
and submits the outputs and the proof (SubmitMix), which the service checks before storing
anything. The permutation and the re-encryption randomness never leave this process's memory:
nothing of them is written anywhere, and they are gone when the command ends.

It refuses, before any work, when the step is not the caller's (another mixer is next, or the
caller is no mixer of this election), and answers at once when the caller's shuffle of this
question is already stored. Without COOP_TOKEN the development token names --as SUBJECT, the
mixer's id in the election, with the mixer role. --processes P (default: one per CPU) spreads
a long shuffle and its proof over P processes; the result is the same with one.

Exit status 0 when the shuffle is stored (or was already), 1 when the service refuses or it is
not the caller's turn, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from coop.elections.v2 import elections_pb2 as pb
from coop_elections.domain.crypto.elgamal import Ciphertext
from coop_elections.domain.crypto.group import Element
from coop_elections.domain.crypto.tally import Mix, mix
from coop_elections.entrypoints.cli import (
    Stub,
    UsageError,
    connection_options,
    progress,
    run_as,
    show_tally_state,
    token_subject,
)
from coop_platform.processes import available_cores

#: Rows per SubmitMix message (a ranking row of 9 ciphertexts: about 600 kB a message).
ROWS_PER_MESSAGE = 1000
#: Bytes of the proof per SubmitMix message.
PROOF_CHUNK_BYTES = 1 << 20
#: Below this many rows per process, a pool costs more than it saves (the shuffle's span of work).
ROWS_PER_PROCESS = 500
Metadata = list[tuple[str, str]]
Row = tuple[Ciphertext, ...]


def shuffle_rows(rows: Sequence[Row], key: Element, election_id: str, question_id: str, step: int,
                 mixer: str, processes: int) -> Mix:
    """tally.mix, spread over this machine's processes when the rows are many (the work carries
    the mixer's secret witness: it never leaves this machine)."""
    workers = min(processes, math.ceil(len(rows) / ROWS_PER_PROCESS))
    if workers <= 1:
        return mix(rows, key, election_id, question_id, step, mixer)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return mix(rows, key, election_id, question_id, step, mixer, mapper=pool.map)


def _input(stub: Stub, md: Metadata, election_id: str, question_id: str) -> tuple[int, str, list[Row]]:
    """(step, its mixer, the rows to shuffle) from StreamMixInput, with progress on stderr."""
    step, mixer, rows, bar = 0, "", [], None
    try:
        for part in stub.StreamMixInput(pb.StreamMixInputRequest(election_id=election_id, question_id=question_id),
                                        metadata=md, timeout=3600):
            step, mixer = part.step, part.mixer
            if bar is None:
                bar = progress(part.total_rows, "receiving", "row")
            rows.extend(tuple(Ciphertext.from_bytes(ct) for ct in row.ciphertexts) for row in part.rows)
            bar.update(len(part.rows))
    finally:
        if bar is not None:
            bar.close()
    return step, mixer, rows


def _submit(stub: Stub, md: Metadata, election_id: str, question_id: str, step: int,
            done: Mix) -> pb.TallyState:
    rows = [pb.CiphertextRow(ciphertexts=[ct.to_bytes() for ct in row]) for row in done.outputs]
    proof = done.proof.to_bytes()
    bar = progress(len(rows), "sending", "row")

    def parts():
        yield pb.SubmitMixRequest(header=pb.MixHeader(election_id=election_id, question_id=question_id, step=step))
        for start in range(0, len(rows), ROWS_PER_MESSAGE):
            chunk = rows[start:start + ROWS_PER_MESSAGE]
            yield pb.SubmitMixRequest(rows=pb.MixRows(rows=chunk))
            bar.update(len(chunk))
        for start in range(0, len(proof), PROOF_CHUNK_BYTES):
            yield pb.SubmitMixRequest(proof_chunk=proof[start:start + PROOF_CHUNK_BYTES])

    try:
        return stub.SubmitMix(parts(), metadata=md, timeout=3600).tally
    finally:
        bar.close()


def _not_yours(stub: Stub, md: Metadata, args: argparse.Namespace, step: int, mixer: str, caller: str) -> str:
    """Why the caller cannot shuffle now, in words."""
    election = stub.GetElection(pb.GetElectionRequest(election_id=args.election), metadata=md, timeout=60).election
    mixers = list(election.encryption.mixer_ids)
    if caller not in mixers:
        return (f"{caller!r} is not a mixer of election {args.election} (its mixers, in order: "
                f"{', '.join(mixers)})")
    if not mixer:
        return f"every mixer has shuffled question {args.question!r}"
    return (f"step {step} of question {args.question!r} is {mixer!r}'s to shuffle, not {caller!r}'s "
            f"(yours is step {mixers.index(caller)}: wait until the mixers before you have shuffled)")


def _mix(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    processes = args.processes if args.processes is not None else available_cores()
    if processes < 1:
        raise UsageError(f"--processes: at least 1, not {processes}")
    caller = token_subject(md)
    state = stub.GetTallyState(pb.GetTallyStateRequest(election_id=args.election), metadata=md, timeout=60).tally
    question = next((q for q in state.mixes if q.question_id == args.question), None)
    if question is not None and caller and caller in question.done_by:
        print(f"{caller}'s shuffle of question {args.question!r} is stored already "
              f"(step {list(question.done_by).index(caller)})")
        show_tally_state(state)
        return 0
    step, mixer, rows = _input(stub, md, args.election, args.question)
    if not mixer or (caller and mixer != caller):
        print(f"error: {_not_yours(stub, md, args, step, mixer, caller)}; nothing sent", file=sys.stderr)
        return 1
    if not rows:
        print(f"error: question {args.question!r} has no ballots to shuffle", file=sys.stderr)
        return 1
    key = Element.from_bytes(stub.GetElectionKey(pb.GetElectionKeyRequest(election_id=args.election), metadata=md,
                                                 timeout=60).key.public_key)
    print(f"shuffling {len(rows)} rows of {len(rows[0])} ciphertexts: question {args.question!r}, step {step}, "
          f"mixer {mixer}", file=sys.stderr)
    started = time.monotonic()
    done = shuffle_rows(rows, key, args.election, args.question, step, mixer, processes)
    print(f"shuffled and proved in {time.monotonic() - started:.1f} s; sending", file=sys.stderr)
    del rows
    state = _submit(stub, md, args.election, args.question, step, done)
    print(f"step {step} of question {args.question!r} by {mixer}: {len(done.outputs)} rows and the proof accepted")
    show_tally_state(state)
    return 0


def _run(args: argparse.Namespace) -> int:
    try:
        return run_as(args, "mixer", _mix)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mix", help="mixers: shuffle a ranked question of an encrypted election, with its proof, "
                                   "after the close", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter, parents=[connection_options("mixer")])
    p.add_argument("--election", required=True, help="election id")
    p.add_argument("--question", required=True, help="the ranked (STV or Schulze) question's id")
    p.add_argument("--processes", type=int, default=None, help="worker processes (default: one per CPU)")
    p.set_defaults(func=_run)
