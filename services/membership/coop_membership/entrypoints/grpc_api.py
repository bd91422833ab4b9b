"""The membership api process: a plain grpcio server (never eventlet, DESIGN D1) serving
coop.membership.v2, and v1 from the same servicer (coop_platform.api_versions)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import grpc

from coop.membership.v1 import membership_pb2 as v1
from coop.membership.v2 import membership_pb2 as pb
from coop.membership.v2 import membership_pb2_grpc as pb_grpc
from coop_domain.errors import InvalidArgument
from coop_membership import SERVICE_NAME
from coop_membership.adapters import messages as msg
from coop_membership.adapters.unit_of_work import SqlMembershipUnitOfWork
from coop_membership.domain.model import DEFAULT_GRACE_DAYS, EDITABLE_FIELDS, Status
from coop_membership.entrypoints.settings import member_languages
from coop_membership.service_layer import imports, members, personal_data, shares
from coop_membership.service_layer.members import MemberView
from coop_membership.service_layer.ports import MemberQuery, MembershipUnitOfWork
from coop_platform.batching import Coalescer
from coop_platform.config import Settings
from coop_platform.grpc_server import build_service, current_principal, run_api
from coop_platform.idempotency import Replay, idempotent_request
from coop_platform.pbtypes import mask_paths

V1_SERVICE = v1.DESCRIPTOR.services_by_name["MembershipService"]
V2_SERVICE = pb.DESCRIPTOR.services_by_name["MembershipService"]


def _member(view: MemberView) -> v1.Member:
    return msg.member_to_pb(view.member, view.in_good_standing)


def query_from_filter(f: v1.MemberFilter) -> MemberQuery:
    try:
        statuses = tuple(msg.PB_TO_STATUS[s] for s in f.statuses)
    except KeyError as exc:
        raise InvalidArgument("unknown status in filter", field="filter.statuses", reason="UNKNOWN_STATUS") from exc
    try:
        categories = tuple(msg.PB_TO_CATEGORY[c] for c in f.categories)
    except KeyError as exc:
        raise InvalidArgument("unknown category in filter", field="filter.categories",
                              reason="UNKNOWN_CATEGORY") from exc
    good = {"": None, "true": True, "false": False}.get(f.good_standing.strip().lower(), "bad")
    if good == "bad":
        raise InvalidArgument("good_standing must be 'true', 'false' or empty", field="filter.good_standing",
                              reason="INVALID_GOOD_STANDING")
    if len(f.query) > 100:
        raise InvalidArgument("query is longer than 100 characters", field="filter.query", reason="FIELD_TOO_LONG",
                              max_length=100)
    return MemberQuery(
        statuses=statuses, categories=categories,
        languages=tuple(x.strip().lower() for x in f.languages),
        countries=tuple(x.strip().upper() for x in f.countries),
        good_standing=good, text=f.query,
    )


def _import_rows(request_iterator: Iterator[pb.ImportMembersRequest]) -> tuple[list[imports.ImportRow], bool]:
    """The rows of an import stream (a row that does not parse carries its error) and whether it
    is a dry run (said by the first message)."""
    rows: list[imports.ImportRow] = []
    dry_run = None
    for chunk in request_iterator:
        if dry_run is None:
            dry_run = chunk.dry_run
        for row in chunk.rows:
            status = msg.PB_TO_STATUS.get(row.status, Status.ACTIVE)
            try:
                rows.append(imports.ImportRow(row.line, msg.draft_to_details(row.member), status))
            except InvalidArgument as exc:
                rows.append(imports.ImportRow(row.line, None, status, (imports.row_field(exc), exc.message)))
    return rows, bool(dry_run)


class MembershipServicer(pb_grpc.MembershipServiceServicer):
    """Each method: translate the request, run one use case as the caller, translate back.
    Access is decided by the use cases, on what they read."""

    def __init__(self, uow_factory: Callable[[], MembershipUnitOfWork]) -> None:
        self.uow = uow_factory
        # Registrations arriving together share one transaction (one commit, batched rows).
        self.registrations = Coalescer("membership_register_member",
                                       lambda batch: members.register_members(uow_factory(), batch))

    def RegisterMember(self, request: pb.RegisterMemberRequest, context: grpc.ServicerContext) -> pb.RegisterMemberResponse:
        principal = current_principal()
        details = msg.draft_to_details(request.member)
        keyed = idempotent_request(principal.tenant, principal.subject, "RegisterMember", request)
        answer = self.registrations.submit(members.Registration(principal, details, request.admit, request=keyed))
        if isinstance(answer, Replay):
            return pb.RegisterMemberResponse(member=v1.Member.FromString(answer.response))
        return pb.RegisterMemberResponse(member=_member(answer))

    def GetMember(self, request: pb.GetMemberRequest, context: grpc.ServicerContext) -> pb.GetMemberResponse:
        view = members.get_member(self.uow(), current_principal(), request.member_id, request.member_number)
        return pb.GetMemberResponse(member=_member(view))

    def UpdateMember(self, request: pb.UpdateMemberRequest, context: grpc.ServicerContext) -> pb.UpdateMemberResponse:
        # update_mask (v2) first; v1 clients send update_paths
        paths = (mask_paths(request.update_mask, EDITABLE_FIELDS) if request.update_mask.paths or not request.update_paths
                 else list(request.update_paths))
        details = msg.draft_to_details(request.member, category_required="category" in paths)
        view = members.update_member(self.uow(), current_principal(), request.member_id, details, paths)
        return pb.UpdateMemberResponse(member=_member(view))

    def ChangeStatus(self, request: pb.ChangeStatusRequest, context: grpc.ServicerContext) -> pb.ChangeStatusResponse:
        target = msg.PB_TO_STATUS.get(request.status)
        if target is None:
            raise InvalidArgument("status is required", field="status", reason="FIELD_REQUIRED")
        principal = current_principal()
        keyed = idempotent_request(principal.tenant, principal.subject, "ChangeStatus", request)
        answer = members.change_status(self.uow(), principal, request.member_id, target, request.reason,
                                       request=keyed)
        if isinstance(answer, Replay):
            return pb.ChangeStatusResponse(member=v1.Member.FromString(answer.response))
        return pb.ChangeStatusResponse(member=_member(answer))

    def GetMemberHistory(self, request: pb.GetMemberHistoryRequest,
                         context: grpc.ServicerContext) -> pb.GetMemberHistoryResponse:
        member, changes = members.member_history(self.uow(), current_principal(), request.member_id,
                                                 request.member_number)
        return pb.GetMemberHistoryResponse(history=v1.MemberHistory(
            member_id=member.member_id, changes=[msg.change_to_pb(c) for c in changes]))

    def ListMembers(self, request: pb.ListMembersRequest, context: grpc.ServicerContext) -> pb.ListMembersResponse:
        views, token = members.list_members(self.uow(), current_principal(), query_from_filter(request.filter),
                                            request.page_size, request.page_token)
        return pb.ListMembersResponse(members=[_member(v) for v in views], next_page_token=token)

    def CountMembers(self, request: pb.CountMembersRequest, context: grpc.ServicerContext) -> pb.CountMembersResponse:
        counts = members.count_members(self.uow(), current_principal(), query_from_filter(request.filter))

        def entries(key: str) -> list[v1.CountEntry]:
            return [v1.CountEntry(key=k, count=n) for k, n in counts[key]]

        return pb.CountMembersResponse(counts=v1.MemberCounts(
            total=counts["total"], by_status=entries("status"), by_category=entries("category"),
            by_language=entries("language"), by_country=entries("country"),
            in_good_standing=counts["good_standing"]))

    def SetShareYear(self, request: pb.SetShareYearRequest, context: grpc.ServicerContext) -> pb.SetShareYearResponse:
        policy = shares.set_share_year(self.uow(), current_principal(), request.year, request.amount_cents,
                                       request.grace_days or DEFAULT_GRACE_DAYS)
        return pb.SetShareYearResponse(share_year=msg.share_year_to_pb(policy))

    def SubscribeShare(self, request: pb.SubscribeShareRequest,
                       context: grpc.ServicerContext) -> pb.SubscribeShareResponse:
        share, member = shares.subscribe_share(self.uow(), current_principal(), request.member_id, request.year)
        return pb.SubscribeShareResponse(share=msg.share_to_pb(share, member.member_id))

    def RecordSharePayment(self, request: pb.RecordSharePaymentRequest,
                           context: grpc.ServicerContext) -> pb.RecordSharePaymentResponse:
        share, member = shares.record_share_payment(self.uow(), current_principal(), request.member_id, request.year,
                                                     request.amount_cents, request.payment_reference)
        return pb.RecordSharePaymentResponse(share=msg.share_to_pb(share, member.member_id))

    def RefundShares(self, request: pb.RefundSharesRequest, context: grpc.ServicerContext) -> pb.RefundSharesResponse:
        principal = current_principal()
        keyed = idempotent_request(principal.tenant, principal.subject, "RefundShares", request)
        answer = shares.refund_shares(self.uow(), principal, request.member_id, request.reason, request=keyed)
        if isinstance(answer, Replay):
            return pb.RefundSharesResponse.FromString(answer.response)
        return msg.refund_to_pb(answer, pb.RefundSharesResponse)

    def ListShares(self, request: pb.ListSharesRequest, context: grpc.ServicerContext) -> pb.ListSharesResponse:
        found, member = shares.list_shares(self.uow(), current_principal(), request.member_id)
        return pb.ListSharesResponse(shares=[msg.share_to_pb(s, member.member_id) for s in found])

    def ExportMemberData(self, request: pb.ExportMemberDataRequest,
                         context: grpc.ServicerContext) -> pb.ExportMemberDataResponse:
        member_id, document = personal_data.export_member_data(self.uow(), current_principal(), request.member_id,
                                                               request.member_number)
        return pb.ExportMemberDataResponse(export=v1.MemberDataExport(member_id=member_id, json=document))

    def ErasePersonalData(self, request: pb.ErasePersonalDataRequest,
                          context: grpc.ServicerContext) -> pb.ErasePersonalDataResponse:
        view = personal_data.erase_personal_data(self.uow(), current_principal(), request.member_id, request.reason)
        return pb.ErasePersonalDataResponse(member=_member(view))

    def ImportMembers(self, request_iterator: Iterator[pb.ImportMembersRequest],
                      context: grpc.ServicerContext) -> pb.ImportMembersResponse:
        rows, dry_run = _import_rows(request_iterator)
        report = imports.import_members(self.uow(), current_principal(), rows, dry_run=dry_run)
        return pb.ImportMembersResponse(report=v1.ImportReport(
            rows_received=report.rows_received, rows_imported=report.rows_imported, committed=report.committed,
            errors=[v1.ImportError(line=line, field=f, message=m) for line, f, m in report.errors]))


def build(settings: Settings):
    """The engine, the registration callback (v2 and the v1 bridge; health reports both) and the
    unit-of-work factory (main() and tests)."""
    return build_service(
        settings, partial(SqlMembershipUnitOfWork, languages=member_languages()), MembershipServicer,
        pb_grpc.add_MembershipServiceServicer_to_server, V2_SERVICE.full_name,
        older_versions=[(V1_SERVICE, V2_SERVICE)])


def main() -> None:
    run_api(SERVICE_NAME, build)


if __name__ == "__main__":
    main()
