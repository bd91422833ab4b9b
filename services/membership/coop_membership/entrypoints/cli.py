"""`coop members ...` and `coop shares ...`: admin commands over gRPC (coop.membership.v2)."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Iterator

import grpc
from tqdm import tqdm

from coop.membership.v1 import membership_pb2 as pb
from coop.membership.v2 import membership_pb2 as v2
from coop.membership.v2 import membership_pb2_grpc as v2_grpc
from coop_cli.main import cli_metadata
from coop_platform.channels import open_channel
from coop_platform.rich_status import details_of

CSV_COLUMNS = [
    "given_name", "family_name", "email", "phone", "street", "postal_code", "city", "address_country",
    "country_of_residence", "preferred_language", "category", "joined_on", "status",
]
CATEGORIES = {"user": 1, "permanent_staff": 2, "external_partner": 3}
STATUSES = {"applicant": 1, "active": 2}
CHUNK_ROWS = 1000


def _stub(args: argparse.Namespace) -> tuple[v2_grpc.MembershipServiceStub, list[tuple[str, str]]]:
    channel = open_channel(args.target, options=[("grpc.max_send_message_length", 64 << 20)])
    return v2_grpc.MembershipServiceStub(channel), cli_metadata()


def _show(m: pb.Member) -> str:
    status = pb.MemberStatus.Name(m.status).removeprefix("MEMBER_STATUS_").lower()
    standing = "good standing" if m.in_good_standing else "not in good standing"
    return f"{m.member_number}  {m.family_name}, {m.given_name}  <{m.email}>  {status}, {standing}  id={m.member_id}"


def _fail(exc: grpc.RpcError) -> int:
    """The refusal as the api explained it: code, message and the fields at fault."""
    found = details_of(exc)
    fields = "".join(f"\n  {field}: {rule}" for field, rule in found.field_violations.items())
    print(f"error: {exc.code().name}: {exc.details()}{fields}", file=sys.stderr)
    return 1


def _add(args: argparse.Namespace) -> int:
    stub, md = _stub(args)
    draft = pb.MemberDraft(
        given_name=args.given_name, family_name=args.family_name, email=args.email, phone=args.phone,
        country_of_residence=args.country, preferred_language=args.language,
        category=CATEGORIES.get(args.category, 0),
    )
    try:
        print(_show(stub.RegisterMember(v2.RegisterMemberRequest(member=draft, admit=args.admit), metadata=md).member))
    except grpc.RpcError as exc:
        return _fail(exc)
    return 0


def _list(args: argparse.Namespace) -> int:
    stub, md = _stub(args)
    status = {"applicant": 1, "active": 2, "suspended": 3, "resigned": 4, "excluded": 5}
    flt = pb.MemberFilter(query=args.query or "", statuses=[status[s] for s in args.status or []],
                          good_standing=args.good_standing or "")
    token, shown = "", 0
    try:
        while True:
            page = stub.ListMembers(v2.ListMembersRequest(filter=flt, page_size=min(args.limit - shown, 500),
                                                          page_token=token), metadata=md)
            for m in page.members:
                print(_show(m))
            shown += len(page.members)
            token = page.next_page_token
            if not token or shown >= args.limit:
                break
    except grpc.RpcError as exc:
        return _fail(exc)
    if token:
        print(f"... more; raise --limit (shown {shown})")
    return 0


def _show_cmd(args: argparse.Namespace) -> int:
    stub, md = _stub(args)
    key = args.member
    request = v2.GetMemberRequest(member_number=key) if key.upper().startswith("M") else v2.GetMemberRequest(member_id=key)
    try:
        print(_show(stub.GetMember(request, metadata=md).member))
    except grpc.RpcError as exc:
        return _fail(exc)
    return 0


def read_csv_rows(path: str) -> Iterator[pb.ImportRow]:
    """Rows of an import file; line numbers are the file's (header = line 1)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("given_name", "family_name", "email", "country_of_residence") if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"error: {path}: missing columns {', '.join(missing)} (expected {', '.join(CSV_COLUMNS)})")
        for record in reader:
            def get(key: str, record: dict = record) -> str:
                return (record.get(key) or "").strip()

            yield pb.ImportRow(
                line=reader.line_num,
                member=pb.MemberDraft(
                    given_name=get("given_name"), family_name=get("family_name"), email=get("email"),
                    phone=get("phone"),
                    address=pb.PostalAddress(street=get("street"), postal_code=get("postal_code"),
                                             city=get("city"), country=get("address_country")),
                    country_of_residence=get("country_of_residence"),
                    preferred_language=get("preferred_language") or "fr",
                    category=CATEGORIES.get(get("category") or "user", 0), joined_on=get("joined_on"),
                ),
                status=STATUSES.get(get("status") or "active", 0),
            )


def _import(args: argparse.Namespace) -> int:
    stub, md = _stub(args)
    rows = list(read_csv_rows(args.file))
    bar = tqdm(total=len(rows), unit="row", desc=f"sending {os.path.basename(args.file)}", disable=args.quiet)

    def chunks() -> Iterator[v2.ImportMembersRequest]:
        for start in range(0, len(rows), CHUNK_ROWS):
            part = rows[start : start + CHUNK_ROWS]
            yield v2.ImportMembersRequest(rows=part, dry_run=args.dry_run)
            bar.update(len(part))

    try:
        report = stub.ImportMembers(chunks(), metadata=md, timeout=600).report
    except grpc.RpcError as exc:
        bar.close()
        return _fail(exc)
    bar.close()
    for err in report.errors:
        print(f"line {err.line}: {err.field or '-'}: {err.message}", file=sys.stderr)
    verdict = "imported" if report.committed else ("validated (dry run)" if args.dry_run and not report.errors else "nothing imported")
    print(f"{report.rows_received} rows received, {report.rows_imported} {verdict}; {len(report.errors)} bad rows")
    return 0 if not report.errors else 1


def _pay(args: argparse.Namespace) -> int:
    stub, md = _stub(args)
    try:
        share = stub.RecordSharePayment(v2.RecordSharePaymentRequest(
            member_id=args.member_id, year=args.year, amount_cents=args.amount_cents,
            payment_reference=args.reference), metadata=md).share
    except grpc.RpcError as exc:
        return _fail(exc)
    print(f"{share.year} share: {pb.ShareState.Name(share.state).removeprefix('SHARE_STATE_').lower()} ({share.amount_cents} cents, ref {share.payment_reference})")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    target = os.environ.get("COOP_MEMBERSHIP_ADDR", "127.0.0.1:50051")
    members = sub.add_parser("members", help="members: add, list, show, import")
    members.add_argument("--target", default=target, help="membership api address")
    msub = members.add_subparsers(dest="action", required=True)
    p = msub.add_parser("add", help="register a member")
    p.add_argument("--given-name", required=True)
    p.add_argument("--family-name", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--phone", default="")
    p.add_argument("--country", required=True, help="ISO 3166-1 alpha-2 country of residence")
    p.add_argument("--language", default="fr")
    p.add_argument("--category", default="user", choices=sorted(CATEGORIES))
    p.add_argument("--admit", action="store_true", help="admit at once (active)")
    p.set_defaults(func=_add)
    p = msub.add_parser("list", help="list members (filters optional)")
    p.add_argument("--query", help="name or email prefix, or a member number")
    p.add_argument("--status", action="append", choices=["applicant", "active", "suspended", "resigned", "excluded"])
    p.add_argument("--good-standing", choices=["true", "false"])
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=_list)
    p = msub.add_parser("show", help="show one member by number (M000123) or id")
    p.add_argument("member")
    p.set_defaults(func=_show_cmd)
    p = msub.add_parser("import", help="import a CSV file, all or nothing, with a report of bad rows")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="validate only")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_import)

    shares = sub.add_parser("shares", help="shares: pay")
    shares.add_argument("--target", default=target)
    ssub = shares.add_subparsers(dest="action", required=True)
    p = ssub.add_parser("pay", help="record a share payment")
    p.add_argument("member_id")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--amount-cents", type=int, default=3000)
    p.add_argument("--reference", required=True)
    p.set_defaults(func=_pay)
