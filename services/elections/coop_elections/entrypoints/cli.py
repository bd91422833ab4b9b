"""`coop elections ...` and `coop roll ...`: run an election over gRPC without writing a client
(partners run them against their own tenant).

    coop elections create --file election.yaml     define an election (YAML or JSON)
    coop elections list | show ID | open ID | close ID | results ID [--json]
    coop roll import FILE.csv --election ID        import a roll (voter_id,weight), all or nothing
    coop roll entries --election ID                a frozen roll's entries, checked against its hash

An encrypted election, after its close (docs/trustees.md, "Running an encrypted election with
the CLI", has every party's commands in order):

    coop elections tally-state ID                  the mixes done, the next mixer, the trustees'
                                                   decryptions
    coop elections finish-tally ID [--json]        decrypt, count and publish (once k trustees did)
    coop elections export-record ID --dir D        the published record into the folder D, for
                                                   python -m coop_elections.entrypoints.verify_encrypted D

The election file is a v2 CreateElectionRequest (proto/coop/elections/v2/elections.proto) in
YAML or JSON, e.g.

    texts: [{language: en, title: General Assembly 2027}]
    questions:
      - {question_id: accounts, method: resolution, texts: [{language: en, title: Approve the accounts}]}
      - {question_id: board, method: stv, seats: 2, mandate_years: 4, candidates: [ann, bob, cat],
         texts: [{language: en, title: Board}]}
    window: {opens_at: "2027-05-01T08:00:00+00:00", assembly_day: "2027-05-15", closes_local: "17:00",
             time_zone: Europe/Brussels}
    roll_cutoff: "2027-04-30T08:00:00+00:00"

`method` is plurality, approval, stv, schulze or resolution. Instead of assembly_day and
closes_local, `close_time` (an RFC 3339 instant) has them computed in the election's zone. The
file's SHA-256 is the request id unless it gives `request_id`: running the same file again
answers with the election it created, never a second one. For encrypted ballots, add

    encryption: {threshold: 2, trustee_ids: [tr-ana, tr-ben, tr-cas], mixer_ids: [mix-a, mix-b]}

threshold k of the trustees (their tokens' subjects, in trustee order 1..n) decrypt; the mixers
(2 to 10, in order) shuffle the ranked ballots after the close.

The token: COOP_TOKEN (one from your tenant's identity provider), or else a development token for
--tenant (default "coop") with the "admin" role, or the "partner" role for any other tenant,
which only services in development mode accept. The commands of trustees, mixers and voters
(`coop trustee publish`, `coop mix`, `coop vote cast`, ...) act as a named party: without
COOP_TOKEN, their development token is for `--as SUBJECT` (a trustee or mixer id of the
election, a voter id). TLS: COOP_TLS_CA and COOP_TLS_SERVER_NAME (docs/deploy.md). Exit status
0 on success, 1 when the service refuses, 2 for bad usage or a bad file.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from tqdm import tqdm

from coop.elections.v1 import elections_pb2 as pb1
from coop.elections.v2 import elections_pb2 as pb
from coop.elections.v2 import elections_pb2_grpc as pb_grpc
from coop_cli.main import cli_metadata
from coop_cli.rpc import call_service
from coop_domain.principal import DEFAULT_TENANT
from coop_platform.auth import issue_token

CHUNK_ROWS = 5000
DEFAULT_TARGET = "127.0.0.1:50053"
#: From this many items on, a stream shows its progress on stderr.
PROGRESS_MIN = 1000
Stub = pb_grpc.ElectionsServiceStub
Command = Callable[[Stub, list[tuple[str, str]], argparse.Namespace], int]


def read_roll_csv(path: str) -> tuple[list[pb1.VoterRollRow], list[tuple[int, str, str]]]:
    """Rows of a roll file and the rows that cannot even be sent (a weight that is no integer)."""
    rows: list[pb1.VoterRollRow] = []
    errors: list[tuple[int, str, str]] = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if "voter_id" not in (reader.fieldnames or []):
            raise SystemExit(f"error: {path}: no voter_id column (expected voter_id,weight)")
        for record in reader:
            voter = (record.get("voter_id") or "").strip()
            text = (record.get("weight") or "").strip()
            try:
                weight = int(text) if text else 0
            except ValueError:
                errors.append((reader.line_num, "weight", f"weight {text!r} is not an integer"))
                continue
            rows.append(pb1.VoterRollRow(line=reader.line_num, voter_id=voter, weight=weight))
    return rows, errors


def _metadata(tenant: str) -> list[tuple[str, str]]:
    return cli_metadata(("admin",) if tenant == DEFAULT_TENANT else ("partner",), tenant=tenant)


def _run(args: argparse.Namespace, command: Command) -> int:
    return call_service(args, Stub, command, metadata=_metadata(args.tenant),
                        options=[("grpc.max_send_message_length", 64 << 20)])


# -- the commands of trustees, mixers and voters (coop trustee / mix / vote) ------------------
class UsageError(Exception):
    """A command that cannot start (an option missing, a file that cannot be used): exit 2."""


def connection_options(party: str | None = None) -> argparse.ArgumentParser:
    """--target and --tenant, and for a command acting as a named party (`party`: "trustee",
    "mixer", "voter") --as SUBJECT: whom its development token names."""
    target = os.environ.get("COOP_ELECTIONS_ADDR", DEFAULT_TARGET)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--target", default=target, help=f"elections api address (COOP_ELECTIONS_ADDR, default "
                                                         f"{DEFAULT_TARGET})")
    common.add_argument("--tenant", default=DEFAULT_TENANT,
                        help="tenant of the development token made when COOP_TOKEN is not set (default coop)")
    if party:
        common.add_argument("--as", dest="as_subject", metavar="SUBJECT", default="",
                            help=f"the {party} id the development token names, when COOP_TOKEN is not set")
    return common


def party_metadata(args: argparse.Namespace, role: str, default_subject: str = "") -> list[tuple[str, str]]:
    """COOP_TOKEN when set; otherwise a development token for --as SUBJECT (or `default_subject`,
    for a command any caller of the tenant may run) with `role`, in --tenant."""
    token = os.environ.get("COOP_TOKEN")
    if not token:
        subject = getattr(args, "as_subject", "") or default_subject
        if not subject:
            raise UsageError(f"--as SUBJECT: whom the development token names (the {role} id), "
                             "or set COOP_TOKEN")
        token = issue_token(subject, [role], tenant=args.tenant)
    return [("authorization", f"Bearer {token}")]


def token_subject(metadata: list[tuple[str, str]]) -> str:
    """The subject of the metadata's bearer token (read, not verified: the service verifies it),
    or "" when it cannot be read."""
    import jwt  # PyJWT, as coop_platform.auth

    for name, value in metadata:
        if name == "authorization" and value.startswith("Bearer "):
            try:
                claims = jwt.decode(value.removeprefix("Bearer "), options={"verify_signature": False})
            except jwt.PyJWTError:
                return ""
            return str(claims.get("sub") or "")
    return ""


def run_as(args: argparse.Namespace, role: str, command: Command, default_subject: str = "") -> int:
    """`command(stub, metadata, args)` with the party's token; a refusal prints one line and returns
    1, a UsageError (raised before or during the command) one line and 2."""
    try:
        metadata = party_metadata(args, role, default_subject)
        return call_service(args, Stub, command, metadata=metadata,
                            options=[("grpc.max_send_message_length", 64 << 20)])
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def progress(total: int, desc: str, unit: str) -> tqdm:
    """A progress bar on stderr for a stream of `total` items, silent for short ones."""
    return tqdm(total=total, desc=desc, unit=unit, disable=total < PROGRESS_MIN, file=sys.stderr,
                mininterval=1.0)


def _numbers(items: Iterable[int]) -> str:
    return ", ".join(str(i) for i in items)


def _trustees(items: Iterable[int]) -> str:
    items = list(items)
    return f"trustee {items[0]}" if len(items) == 1 else f"trustees {_numbers(items)}"


def show_tally_state(state: pb.TallyState) -> None:
    """Where an encrypted election's tally stands, as the tally commands print it."""
    print(f"election {state.election_id}: tally, {state.threshold} trustees needed to decrypt")
    for q in state.mixes:
        done = ", ".join(q.done_by) or "nobody yet"
        nxt = f"next: {q.next_mixer}" if q.next_mixer else "every mix done"
        print(f"  {q.question_id}: {q.rows} rows, mixed by {done}; {nxt}")
    decrypted = (f"decrypted by {_trustees(state.decrypted_by)}" if state.decrypted_by
                 else "no trustee has decrypted yet")
    waiting = f"; not by {_trustees(state.missing_trustees)}" if state.decrypted_by and state.missing_trustees else ""
    print(f"mixes {'complete' if state.mixes_complete else 'incomplete'}; {decrypted}{waiting}")
    if state.ready_to_finish:
        print(f"ready: coop elections finish-tally {state.election_id}")


def show_key_state(key: pb.ElectionKey) -> None:
    """Who published, who is missing and the election key once complete."""
    n = len(key.trustees) + len(key.missing)
    print(f"election {key.election_id}: {key.threshold} of {n} trustees")
    for t in sorted(key.trustees, key=lambda t: t.trustee):
        print(f"  trustee {t.trustee} ({t.trustee_id}): published")
    if key.missing:
        print(f"missing: {_trustees(key.missing)}")
    else:
        print(f"election key: {key.public_key.hex()}")


# -- roll ------------------------------------------------------------------------------------
def import_roll(stub: Stub, metadata: list[tuple[str, str]], path: str, election_id: str, *,
                quiet: bool = False) -> int:
    """Stream the file; print the report. Returns the exit status."""
    rows, bad = read_roll_csv(path)
    if bad:
        for line, field, message in bad:
            print(f"line {line}: {field}: {message}", file=sys.stderr)
        print(f"{len(rows) + len(bad)} rows read, nothing sent; {len(bad)} bad rows", file=sys.stderr)
        return 1
    bar = tqdm(total=len(rows), unit="voter", desc=f"sending {os.path.basename(path)}", disable=quiet)

    def chunks() -> Iterator[pb.StreamVoterRollRequest]:
        for start in range(0, max(len(rows), 1), CHUNK_ROWS):
            part = rows[start:start + CHUNK_ROWS]
            yield pb.StreamVoterRollRequest(election_id=election_id if start == 0 else "", rows=part)
            bar.update(len(part))

    try:
        report = stub.StreamVoterRoll(chunks(), metadata=metadata, timeout=600).report
    finally:
        bar.close()
    for err in report.errors:
        print(f"line {err.line}: {err.field or '-'}: {err.message}", file=sys.stderr)
    if report.committed:
        r = report.roll
        print(f"{report.rows_imported} voters imported; roll: {r.size} voters, total weight {r.total_weight}"
              + (", frozen" if r.frozen else ""))
        return 0
    print(f"{report.rows_received} rows received, nothing imported; {len(report.errors)} bad rows")
    return 1


def _roll_import(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    return import_roll(stub, md, args.file, args.election, quiet=args.quiet)


def _roll_entries(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    """voter_id,weight lines of a frozen roll, then its SHA-256 recomputed and compared."""
    from coop_elections.domain.published import RollHasher

    hasher, summary = RollHasher(), None
    print("voter_id,weight")
    for message in stub.StreamVoterRollEntries(pb.StreamVoterRollEntriesRequest(election_id=args.election),
                                               metadata=md, timeout=600):
        summary = summary or message.roll
        for entry in message.entries:
            hasher.add(entry.voter_id, entry.weight)
            print(f"{entry.voter_id},{entry.weight}")
    digest = hasher.hexdigest()
    same = summary is not None and digest == summary.sha256
    print(f"# {hasher.size} voters, total weight {hasher.total_weight}, sha256 {digest}: "
          + ("matches the published hash" if same else "DOES NOT match the published hash"), file=sys.stderr)
    return 0 if same else 1


# -- elections -------------------------------------------------------------------------------
METHODS = {"plurality", "approval", "stv", "schulze", "resolution"}


def _plain(value: Any) -> Any:
    """YAML's dates and times as the strings the request wants; method words as enum names."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        out = {k: _plain(v) for k, v in value.items()}
        if isinstance(out.get("method"), str) and out["method"].lower() in METHODS:
            out["method"] = f"METHOD_{out['method'].upper()}"
        return out
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def read_definition(path: str) -> pb.CreateElectionRequest:
    """An election file (YAML, or JSON for a .json file) as a v2 CreateElectionRequest."""
    import yaml  # PyYAML (a dependency of coopgov: pyproject.toml)

    try:
        raw = Path(path).read_bytes()
        data = json.loads(raw) if path.endswith(".json") else yaml.safe_load(raw)
    except (OSError, ValueError, yaml.YAMLError) as exc:  # unreadable, or not JSON / YAML
        raise SystemExit(f"error: {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SystemExit(f"error: {path}: an election file holds a mapping (texts, questions, window, ...)")
    try:
        request = json_format.ParseDict(_plain(data), pb.CreateElectionRequest())
    except json_format.ParseError as exc:
        raise SystemExit(f"error: {path}: {exc}") from exc
    if not request.request_id:
        request.request_id = "file-" + hashlib.sha256(raw).hexdigest()[:40]
    return request


def _show(e: pb1.Election) -> str:
    status = pb1.ElectionStatus.Name(e.status).removeprefix("ELECTION_STATUS_").lower()
    title = next((t.title for t in e.texts if t.language == "en"), e.texts[0].title if e.texts else "")
    return f"{e.election_id}  {status:9}  opens {e.window.opens_at}  closes {e.closes_at}  {title}"


def _create(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    answer = stub.CreateElection(read_definition(args.file), metadata=md, timeout=60)
    print(_show(answer.election))
    print(f"roll cut-off {answer.election.roll_cutoff}; votes close at "
          f"{answer.close_time.ToDatetime().isoformat()}Z ({answer.election.window.closes_local} "
          f"{answer.election.window.time_zone} on {answer.election.window.assembly_day})")
    return 0


def _list(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    token = ""
    while True:
        page = stub.ListElections(pb.ListElectionsRequest(page_size=200, page_token=token), metadata=md)
        for e in page.elections:
            print(_show(e))
        token = page.next_page_token
        if not token:
            return 0


def _show_one(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    election = stub.GetElection(pb.GetElectionRequest(election_id=args.election_id), metadata=md).election
    print(json_format.MessageToJson(election, preserving_proto_field_name=True))
    return 0


def _open(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    print(_show(stub.OpenElection(pb.OpenElectionRequest(election_id=args.election_id), metadata=md).election))
    return 0


def _print_results(answer: pb.GetResultsResponse | pb.CloseElectionResponse | pb.FinishTallyResponse,
                   as_json: bool) -> None:
    if as_json:
        print(json_format.MessageToJson(answer, preserving_proto_field_name=True))
        return
    r = answer.results
    print(f"election {r.election_id}: {r.ballots} ballots, total weight {r.total_weight}, "
          f"published {r.published_at}")
    for q in r.questions:
        if q.method == pb1.METHOD_RESOLUTION:
            outcome = "adopted" if q.adopted else "rejected"
            print(f"  {q.question_id}: {outcome} (yes {q.tallies['yes']}, no {q.tallies['no']}, "
                  f"abstain {q.tallies['abstain']}{'' if q.quorum_met else ', quorum not met'})")
        else:
            tallies = ", ".join(f"{c} {v}" for c, v in sorted(q.tallies.items(), key=lambda kv: kv[0]))
            print(f"  {q.question_id}: elected {', '.join(q.winners) or 'nobody'} ({tallies})"
                  + (f"; mandates {q.mandate_start} to {q.mandate_end}" if q.mandate_start else ""))
    print(f"box head hash {r.box_head_hash}; tie-break seed {r.tie_break_seed}")


def _results(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    _print_results(stub.GetResults(pb.GetResultsRequest(election_id=args.election_id), metadata=md), args.json)
    return 0


def _close(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    answer = stub.CloseElection(pb.CloseElectionRequest(election_id=args.election_id), metadata=md, timeout=600)
    if answer.status == pb1.ELECTION_STATUS_TALLYING and not args.json:  # encrypted: mixes and decryption first
        print(f"election {args.election_id}: voting closed, tallying: the mixers run `coop mix`, then k trustees "
              f"`coop trustee decrypt-online`; then `coop elections finish-tally {args.election_id}`")
        return 0
    _print_results(answer, args.json)
    return 0


# -- the tally of an encrypted election --------------------------------------------------------
def _tally_state(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    show_tally_state(stub.GetTallyState(pb.GetTallyStateRequest(election_id=args.election_id), metadata=md,
                                        timeout=60).tally)
    return 0


def _finish_tally(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    _print_results(stub.FinishTally(pb.FinishTallyRequest(election_id=args.election_id), metadata=md,
                                    timeout=3600), args.json)
    return 0


def _record_file(folder: Path, name: str) -> Path:
    if not name or Path(name).name != name or name.startswith("."):
        raise UsageError(f"the service sent a record file named {name!r}: not a plain file name, refused")
    return folder / name


def export_record(stub: Stub, md: list[tuple[str, str]], election_id: str, folder: Path) -> list[Path]:
    """StreamEncryptedRecord into `folder` (made if missing, must be empty), file by file; each file
    is written under a temporary name and renamed once complete. On a failure nothing is left."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"{folder}: not an empty folder; the record goes into a new or empty one")
    made = not folder.exists()
    done: list[Path] = []
    current: tuple[Path, Path, Any] | None = None  # final path, temporary path, open file
    bar = tqdm(unit="B", unit_scale=True, desc="receiving the record", file=sys.stderr, disable=None,
               mininterval=1.0)  # on a terminal; the files' lines below in any case

    def complete() -> None:
        nonlocal current
        if current is not None:
            final, partial, handle = current
            handle.close()
            partial.replace(final)
            done.append(final)
            print(f"{final.name}: {final.stat().st_size} bytes", file=sys.stderr)
            current = None

    try:
        for part in stub.StreamEncryptedRecord(pb.StreamEncryptedRecordRequest(election_id=election_id),
                                               metadata=md, timeout=3600):
            if current is None or current[0].name != part.file_name:
                complete()
                final = _record_file(folder, part.file_name)
                if final in done:
                    raise UsageError(f"the service sent {part.file_name} twice")
                folder.mkdir(parents=True, exist_ok=True)
                partial = folder / f".{part.file_name}.part"
                current = (final, partial, partial.open("wb"))
            current[2].write(part.chunk)
            bar.update(len(part.chunk))
        complete()
    except BaseException:
        if current is not None:
            current[2].close()
            current[1].unlink(missing_ok=True)
        for path in done:
            path.unlink(missing_ok=True)
        if made and folder.exists() and not any(folder.iterdir()):
            folder.rmdir()
        raise
    finally:
        bar.close()
    return done


def _export_record(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    files = export_record(stub, md, args.election_id, folder)
    print(f"the record of election {args.election_id}: {len(files)} files in {folder}")
    print(f"check it: python -m coop_elections.entrypoints.verify_encrypted {folder}")
    return 0


def _run_admin(args: argparse.Namespace, command: Command) -> int:
    """_run, with a UsageError (a folder that cannot take the record, ...) as exit status 2."""
    try:
        return _run(args, command)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    common = connection_options()
    text = (__doc__ or "").split("\n\n", 1)[1]

    def command(parent: argparse._SubParsersAction, name: str, helptext: str,
                run: Command) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=helptext, description=helptext, parents=[common])
        p.set_defaults(func=lambda args: _run_admin(args, run))
        return p

    elections = sub.add_parser("elections", help="elections: create from a file, list, open, close, results, "
                                                 "an encrypted election's tally",
                               description=text, formatter_class=argparse.RawDescriptionHelpFormatter)
    esub = elections.add_subparsers(dest="action", required=True)
    command(esub, "create", "define an election from a YAML or JSON file (a retry of the same file "
                            "returns the same election)", _create).add_argument("--file", required=True)
    command(esub, "list", "the tenant's elections, newest first", _list)
    for name, helptext, run in (("show", "one election as JSON", _show_one),
                                ("open", "mark it open (the worker does it at the opening time)", _open)):
        command(esub, name, helptext, run).add_argument("election_id")
    for name, helptext, run in (("close", "count and publish once voting has closed (the worker does it too)",
                                 _close),
                                ("results", "the published results (sealed until the close)", _results)):
        p = command(esub, name, helptext, run)
        p.add_argument("election_id")
        p.add_argument("--json", action="store_true", help="the whole answer as JSON, STV rounds included")
    command(esub, "tally-state", "an encrypted election's tally: the mixes done and the next mixer per ranked "
                                 "question, the trustees whose decryption shares are stored",
            _tally_state).add_argument("election_id")
    p = command(esub, "finish-tally", "decrypt an encrypted election's tally with k trustees' shares, count and "
                                      "publish the results (once the mixes and k decryptions are in)", _finish_tally)
    p.add_argument("election_id")
    p.add_argument("--json", action="store_true", help="the whole answer as JSON, STV rounds included")
    p = command(esub, "export-record", "an encrypted election's published record (after finish-tally) into a new "
                                       "or empty folder, for python -m coop_elections.entrypoints.verify_encrypted",
                _export_record)
    p.add_argument("election_id")
    p.add_argument("--dir", required=True, help="the folder to write the record's files into (new or empty)")

    roll = sub.add_parser("roll", help="voter rolls: import a CSV file, list a frozen roll for audit",
                          description=text, formatter_class=argparse.RawDescriptionHelpFormatter)
    rsub = roll.add_subparsers(dest="action", required=True)
    p = command(rsub, "import", "import a CSV roll (voter_id,weight; empty weight = 1), all or nothing; bad rows "
                                "are listed with their line numbers (header = line 1)", _roll_import)
    p.add_argument("file")
    p.add_argument("--election", required=True, help="election id")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    command(rsub, "entries", "a frozen roll's voter_id,weight lines, checked against its published SHA-256",
            _roll_entries).add_argument("--election", required=True, help="election id")
