"""The membership api process: a plain grpcio server (never eventlet, DESIGN D1)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from functools import partial

import grpc

from coop.membership.v1 import membership_pb2 as pb
from coop.membership.v1 import membership_pb2_grpc as pb_grpc
from coop_membership import SERVICE_NAME
from coop_membership.adapters import messages as msg
from coop_membership.adapters.repository import MemberQuery, MembershipUnitOfWork
from coop_membership.domain.model import Status
from coop_membership.service_layer import services
from coop_platform.batching import Coalescer
from coop_platform.config import Settings
from coop_platform.errors import InvalidArgument
from coop_platform.grpc_server import build_service, current_principal, run_api
from coop_platform.idempotency import Replay, idempotent_request

ADMIN_ROLES = ("admin",)
READ_ROLES = ("admin", "service", "board")
DEFAULT_PAGE_SIZE = 50


def _member(view: services.MemberView) -> pb.Member:
    return msg.member_to_pb(view.member, view.in_good_standing)


def _encode_cursor(member_no: int | None) -> str:
    return base64.urlsafe_b64encode(f"m:{member_no}".encode()).decode() if member_no else ""


def _decode_cursor(token: str) -> int:
    if not token:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind != "m" or not (value.isascii() and value.isdigit()) or len(value) > 18:  # fits SQL BIGINT
            raise ValueError
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument("page_token is not a token this service issued", field="page_token") from exc


def query_from_filter(f: pb.MemberFilter) -> MemberQuery:
    try:
        statuses = tuple(msg.PB_TO_STATUS[s] for s in f.statuses)
        categories = tuple(msg.PB_TO_CATEGORY[c] for c in f.categories)
    except KeyError as exc:
        raise InvalidArgument("unknown status or category in filter", field="filter") from exc
    good = {"": None, "true": True, "false": False}.get(f.good_standing.strip().lower(), "bad")
    if good == "bad":
        raise InvalidArgument("good_standing must be 'true', 'false' or empty", field="filter.good_standing")
    if len(f.query) > 100:
        raise InvalidArgument("query is longer than 100 characters", field="filter.query")
    return MemberQuery(
        statuses=statuses, categories=categories,
        languages=tuple(x.strip().lower() for x in f.languages),
        countries=tuple(x.strip().upper() for x in f.countries),
        good_standing=good, text=f.query,
    )


class MembershipServicer(pb_grpc.MembershipServiceServicer):
    """Each method: check who may call, translate, run one use case, translate back."""

    def __init__(self, uow_factory: services.UowFactory) -> None:
        self.uow = uow_factory
        # Registrations arriving together share one transaction (one commit, batched rows).
        self.registrations = Coalescer("membership_register_member", partial(services.register_members, uow_factory))

    def _member_id_for(self, request: pb.GetMemberRequest) -> tuple[str, str]:
        return request.member_id, request.member_number

    def _authorize_member(self, member_id: str, member_number: str = "", *roles: str) -> None:
        principal = current_principal()
        if principal.has(*roles):
            return
        if member_number:  # resolve the number to the id the token names
            member_id = services.read_member(self.uow, member_number=member_number)[0].member_id
        principal.require_self_or(member_id, *roles)

    def RegisterMember(self, request: pb.RegisterMemberRequest, context: grpc.ServicerContext) -> pb.Member:
        principal = current_principal()
        principal.require("admin", "service")
        if request.admit:
            principal.require("admin")
        details = msg.draft_to_details(request.member)
        keyed = idempotent_request(principal.tenant, principal.subject, "RegisterMember", request)
        answer = self.registrations.submit(services.Registration(details, request.admit, principal.subject,
                                                                 request=keyed))
        if isinstance(answer, Replay):
            return pb.Member.FromString(answer.response)
        return _member(answer)

    def GetMember(self, request: pb.GetMemberRequest, context: grpc.ServicerContext) -> pb.Member:
        self._authorize_member(request.member_id, request.member_number, *READ_ROLES)
        return msg.member_to_pb(*services.read_member(self.uow, request.member_id, request.member_number))

    def UpdateMember(self, request: pb.UpdateMemberRequest, context: grpc.ServicerContext) -> pb.Member:
        self._authorize_member(request.member_id, "", *ADMIN_ROLES)
        paths = list(request.update_paths)
        if "category" in paths:
            current_principal().require("admin")
        current = services.get_member(self.uow, request.member_id).member.details()
        draft = request.member
        if draft.category == 0:  # unset enum: keep the current category so validation can pass
            draft.category = msg.CATEGORY_TO_PB[current.category]
        details = msg.draft_to_details(draft)
        return _member(services.update_member(self.uow, request.member_id, details, paths))

    def ChangeStatus(self, request: pb.ChangeStatusRequest, context: grpc.ServicerContext) -> pb.Member:
        principal = current_principal()
        target = msg.PB_TO_STATUS.get(request.status)
        if target is None:
            raise InvalidArgument("status is required", field="status")
        if not principal.is_admin:
            # a member may resign by themselves; everything else is the administration's
            if target != Status.RESIGNED:
                principal.require("admin")
            principal.require_self_or(request.member_id, "admin")
        return _member(services.change_status(self.uow, request.member_id, target, request.reason, principal.subject))

    def GetMemberHistory(self, request: pb.GetMemberRequest, context: grpc.ServicerContext) -> pb.MemberHistory:
        self._authorize_member(request.member_id, request.member_number, *READ_ROLES)
        member_id = request.member_id or services.get_member(self.uow, member_number=request.member_number).member.member_id
        member, changes = services.member_history(self.uow, member_id)
        return pb.MemberHistory(member_id=member.member_id, changes=[msg.change_to_pb(c) for c in changes])

    def ListMembers(self, request: pb.ListMembersRequest, context: grpc.ServicerContext) -> pb.ListMembersResponse:
        current_principal().require(*READ_ROLES)
        size = request.page_size or DEFAULT_PAGE_SIZE
        if not 0 < size <= services.MAX_PAGE_SIZE:
            raise InvalidArgument(f"page_size must be between 1 and {services.MAX_PAGE_SIZE}", field="page_size")
        base = query_from_filter(request.filter)
        query = replace(base, after_member_no=_decode_cursor(request.page_token), limit=size)
        views, cursor = services.list_members(self.uow, query)
        return pb.ListMembersResponse(members=[_member(v) for v in views], next_page_token=_encode_cursor(cursor))

    def CountMembers(self, request: pb.CountMembersRequest, context: grpc.ServicerContext) -> pb.MemberCounts:
        current_principal().require(*READ_ROLES)
        counts = services.count_members(self.uow, query_from_filter(request.filter))

        def entries(key: str) -> list[pb.CountEntry]:
            return [pb.CountEntry(key=k, count=n) for k, n in counts[key]]

        return pb.MemberCounts(
            total=counts["total"], by_status=entries("status"), by_category=entries("category"),
            by_language=entries("language"), by_country=entries("country"),
            in_good_standing=counts["good_standing"],
        )

    def SetShareYear(self, request: pb.SetShareYearRequest, context: grpc.ServicerContext) -> pb.ShareYear:
        current_principal().require("admin")
        grace = request.grace_days if request.grace_days else 90
        return msg.share_year_to_pb(services.set_share_year(self.uow, request.year, request.amount_cents, grace))

    def SubscribeShare(self, request: pb.SubscribeShareRequest, context: grpc.ServicerContext) -> pb.Share:
        self._authorize_member(request.member_id, "", "admin", "service")
        share, member = services.subscribe_share(self.uow, request.member_id, request.year)
        return msg.share_to_pb(share, member.member_id)

    def RecordSharePayment(self, request: pb.RecordSharePaymentRequest, context: grpc.ServicerContext) -> pb.Share:
        current_principal().require("admin", "service")
        share, member = services.record_share_payment(
            self.uow, request.member_id, request.year, request.amount_cents, request.payment_reference)
        return msg.share_to_pb(share, member.member_id)

    def RefundShares(self, request: pb.RefundSharesRequest, context: grpc.ServicerContext) -> pb.RefundSharesResponse:
        current_principal().require("admin")
        refunded, member = services.refund_shares(self.uow, request.member_id, request.reason)
        return pb.RefundSharesResponse(refunded=[msg.share_to_pb(s, member.member_id) for s in refunded],
                                       total_cents=sum(s.amount_cents for s in refunded))

    def ListShares(self, request: pb.ListSharesRequest, context: grpc.ServicerContext) -> pb.ListSharesResponse:
        self._authorize_member(request.member_id, "", *READ_ROLES)
        shares, member = services.list_shares(self.uow, request.member_id)
        return pb.ListSharesResponse(shares=[msg.share_to_pb(s, member.member_id) for s in shares])

    def ExportMemberData(self, request: pb.GetMemberRequest, context: grpc.ServicerContext) -> pb.MemberDataExport:
        self._authorize_member(request.member_id, request.member_number, "admin")
        member_id = request.member_id or services.get_member(self.uow, member_number=request.member_number).member.member_id
        data = services.export_member_data(self.uow, member_id)
        return pb.MemberDataExport(member_id=member_id, json=services.export_json(data))

    def ErasePersonalData(self, request: pb.EraseRequest, context: grpc.ServicerContext) -> pb.Member:
        principal = current_principal()
        principal.require("admin")
        if not request.reason.strip():
            raise InvalidArgument("a reason is required to erase personal data", field="reason")
        return _member(services.erase_personal_data(self.uow, request.member_id, request.reason, principal.subject))

    def ImportMembers(self, request_iterator: Iterator[pb.ImportMembersChunk], context: grpc.ServicerContext) -> pb.ImportReport:
        principal = current_principal()
        principal.require("admin")
        rows: list[services.ImportRow] = []
        dry_run = None
        for chunk in request_iterator:
            if dry_run is None:
                dry_run = chunk.dry_run
            for row in chunk.rows:
                status = msg.PB_TO_STATUS.get(row.status, Status.ACTIVE)
                try:
                    rows.append(services.ImportRow(row.line, msg.draft_to_details(row.member), status))
                except InvalidArgument as exc:
                    rows.append(services.ImportRow(row.line, None, status, (exc.field or "", exc.message)))
        report = services.import_members(self.uow, rows, dry_run=bool(dry_run), actor=principal.subject)
        return pb.ImportReport(
            rows_received=report.rows_received, rows_imported=report.rows_imported, committed=report.committed,
            errors=[pb.ImportError(line=line, field=f, message=m) for line, f, m in report.errors],
        )


def build(settings: Settings):
    """The engine, the registration callback and the unit-of-work factory (main() and tests)."""
    return build_service(settings, MembershipUnitOfWork, MembershipServicer,
                         pb_grpc.add_MembershipServiceServicer_to_server,
                         pb.DESCRIPTOR.services_by_name["MembershipService"].full_name)


def main() -> None:
    run_api(SERVICE_NAME, build)

if __name__ == "__main__":
    main()
