"""Admin commands of the elections service over gRPC (partners run them against their tenant).

    python -m coop_elections.entrypoints.cli roll import FILE.csv --election ID

FILE.csv has a header with the columns voter_id and (optionally) weight (empty = 1). The file is
streamed with StreamVoterRoll in chunks behind a progress bar; the import is all or nothing and
bad rows are listed with their line numbers (header = line 1). Exit status 0 when imported.

The token: COOP_TOKEN (one from your tenant's identity provider), or else a development token for
--tenant (default "coop") with the "admin" role, or the "partner" role for any other tenant, which
only services in development mode accept.

TLS: set COOP_TLS_CA to the CA bundle that signed the api's certificate, and COOP_TLS_SERVER_NAME
to the name it carries when that is not the --target host (docs/deploy.md).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Iterator

import grpc
from tqdm import tqdm

from coop.elections.v1 import elections_pb2 as pb
from coop.elections.v1 import elections_pb2_grpc as pb_grpc
from coop_cli.main import cli_metadata
from coop_platform.auth import DEFAULT_TENANT
from coop_platform.channels import ClientTLSError, open_channel

CHUNK_ROWS = 5000


def read_roll_csv(path: str) -> tuple[list[pb.VoterRollRow], list[tuple[int, str, str]]]:
    """Rows of a roll file and the rows that cannot even be sent (a weight that is no integer)."""
    rows: list[pb.VoterRollRow] = []
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
            rows.append(pb.VoterRollRow(line=reader.line_num, voter_id=voter, weight=weight))
    return rows, errors


def _metadata(tenant: str) -> list[tuple[str, str]]:
    return cli_metadata(("admin",) if tenant == DEFAULT_TENANT else ("partner",), tenant=tenant)


def import_roll(stub: pb_grpc.ElectionsServiceStub, metadata: list[tuple[str, str]], path: str,
                election_id: str, *, quiet: bool = False) -> int:
    """Stream the file; print the report. Returns the exit status."""
    rows, bad = read_roll_csv(path)
    if bad:
        for line, field, message in bad:
            print(f"line {line}: {field}: {message}", file=sys.stderr)
        print(f"{len(rows) + len(bad)} rows read, nothing sent; {len(bad)} bad rows", file=sys.stderr)
        return 1
    bar = tqdm(total=len(rows), unit="voter", desc=f"sending {os.path.basename(path)}", disable=quiet)

    def chunks() -> Iterator[pb.VoterRollChunk]:
        for start in range(0, max(len(rows), 1), CHUNK_ROWS):
            part = rows[start:start + CHUNK_ROWS]
            yield pb.VoterRollChunk(election_id=election_id if start == 0 else "", rows=part)
            bar.update(len(part))

    try:
        report = stub.StreamVoterRoll(chunks(), metadata=metadata, timeout=600)
    except grpc.RpcError as exc:
        bar.close()
        print(f"error: {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 1
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coop_elections.entrypoints.cli", description=__doc__.split("\n")[0])
    parser.add_argument("--target", default=os.environ.get("COOP_ELECTIONS_ADDR", "127.0.0.1:50053"),
                        help="elections api address (COOP_ELECTIONS_ADDR, default 127.0.0.1:50053)")
    parser.add_argument("--tenant", default=DEFAULT_TENANT, help="tenant of the development token made when COOP_TOKEN is not set")
    sub = parser.add_subparsers(dest="group", required=True)
    roll = sub.add_parser("roll", help="voter rolls")
    rsub = roll.add_subparsers(dest="action", required=True)
    p = rsub.add_parser("import", help="import a CSV roll (voter_id,weight), all or nothing")
    p.add_argument("file")
    p.add_argument("--election", required=True, help="election id")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        channel = open_channel(args.target, options=[("grpc.max_send_message_length", 64 << 20)])
    except ClientTLSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return import_roll(pb_grpc.ElectionsServiceStub(channel), _metadata(args.tenant), args.file,
                           args.election, quiet=args.quiet)
    finally:
        channel.close()


if __name__ == "__main__":
    sys.exit(main())
