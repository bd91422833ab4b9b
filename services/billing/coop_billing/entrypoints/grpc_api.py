"""The billing api process: a plain grpcio server (never eventlet, DESIGN D1)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import grpc

from coop.billing.v1 import billing_pb2 as pb
from coop.billing.v1 import billing_pb2_grpc as pb_grpc
from coop_billing import SERVICE_NAME
from coop_billing.adapters import messages as msg
from coop_billing.adapters.pdf import render_statement_pdf
from coop_billing.adapters.repository import BillingUnitOfWork
from coop_billing.domain.invoice import StoredInvoice
from coop_billing.service_layer import services
from coop_domain.errors import PermissionDenied
from coop_platform.batching import Coalescer
from coop_platform.config import Settings
from coop_platform.grpc_server import build_service, current_principal, run_api
from coop_platform.idempotency import IdempotentRequest, idempotent_request

STAFF = ("admin", "teller")  # act on anyone's invoices
READERS = ("admin", "teller", "board", "service")  # read anyone's records


def _self_or(member_id: str, *roles: str) -> None:
    """Members act on their own records only (subject = member id); the roles on anyone's."""
    current_principal().require_self_or(member_id, *roles)


def _require(*roles: str) -> None:
    current_principal().require(*roles)


def _statement_to_pb(rendered: services.RenderedStatement, include_pdf: bool, stream_total: int = 0) -> pb.Statement:
    s = rendered.statement
    return pb.Statement(
        member_id=s.member_id, year=s.year, language=rendered.language,
        revenue_excl_vat_cents=s.revenue_excl_vat_cents, revenue_contribution_cents=s.revenue_contribution_cents,
        employer_social_charges_cents=s.employer_social_charges_cents,
        employment_contribution_cents=s.employment_contribution_cents, share_fee_cents=s.share_fee_cents,
        total_deductions_cents=s.total_deductions_cents, net_cents=s.net_cents,
        budget_in_cents=s.budget_in_cents, budget_out_cents=s.budget_out_cents,
        budget_left_cents=s.budget_left_cents, contracts_paid=s.contracts_paid,
        gross_salaries_cents=s.gross_salaries_cents, revenue_contribution_rates_bp=s.revenue_rates_bp,
        employment_contribution_rates_bp=s.employment_rates_bp, html=rendered.html, text=rendered.text,
        pdf=render_statement_pdf(rendered.text, f"{s.member_id} {s.year}") if include_pdf else b"",
        stream_total=stream_total)


def _failed_statement(failure: services.StatementFailure, stream_total: int) -> pb.Statement:
    return pb.Statement(member_id=failure.member_id, year=failure.year, error=failure.reason,
                        stream_total=stream_total)


def _idempotent(method: str, request: Any) -> IdempotentRequest | None:
    """The call's request_id (AIP-155) with the fingerprint of its request, or None without one."""
    principal = current_principal()
    return idempotent_request(principal.tenant, principal.subject, method, request)


def _invoice_reply(stored: StoredInvoice) -> pb.Invoice:
    """The invoice as just written: the message its invoice.issued event carries, when it has one."""
    return stored.issued_message or msg.invoice_to_pb(stored)


class BillingServicer(pb_grpc.BillingServiceServicer):
    """Each method: check who may call, translate, run one use case, translate back."""

    def __init__(self, uow_factory: services.UowFactory) -> None:
        self.uow = uow_factory
        # Concurrent CreateInvoice calls share one transaction (one numbering-lock hold, one commit).
        self.new_invoices = Coalescer("billing_create_invoice", partial(services.create_invoices, uow_factory))

    # -- clients and activities
    def CreateClient(self, request: pb.CreateClientRequest, context: grpc.ServicerContext) -> pb.CreateClientResponse:
        _require("member", *STAFF)
        principal = current_principal()
        staff = principal.has(*STAFF)  # the back office's clients are verified at once; a member's are theirs
        row, existed = services.create_client(
            self.uow, request.name, request.country, request.address, request.vat_number,
            owner_member_id=None if staff else principal.subject, verified_by=principal.subject if staff else None)
        return pb.CreateClientResponse(client=msg.client_row_to_pb(row), already_existed=existed)

    def GetClient(self, request: pb.GetClientRequest, context: grpc.ServicerContext) -> pb.Client:
        _require("member", *READERS)
        row = services.get_client(self.uow, request.client_id)
        principal = current_principal()
        if not principal.has(*READERS) and not services.client_usable_by(row, principal.subject):
            raise PermissionDenied("this client is another member's record")
        return msg.client_row_to_pb(row)

    def VerifyClient(self, request: pb.VerifyClientRequest, context: grpc.ServicerContext) -> pb.Client:
        _require(*STAFF)
        return msg.client_row_to_pb(services.verify_client(self.uow, request.client_id, current_principal().subject))

    def CreateActivity(self, request: pb.CreateActivityRequest, context: grpc.ServicerContext) -> pb.Activity:
        _self_or(request.member_id, "admin")
        return msg.activity_to_pb(services.create_activity(
            self.uow, request.member_id, request.name, request.sector_code))

    def ListActivities(self, request: pb.ListActivitiesRequest, context: grpc.ServicerContext) -> pb.ListActivitiesResponse:
        _self_or(request.member_id, *READERS)
        rows, token = services.list_activities(self.uow, request.member_id, request.page_token, request.page_size)
        return pb.ListActivitiesResponse(activities=[msg.activity_to_pb(r) for r in rows], next_page_token=token)

    def GetBudget(self, request: pb.GetBudgetRequest, context: grpc.ServicerContext) -> pb.Budget:
        activity = services.get_activity(self.uow, request.activity_id)
        _self_or(activity.member_id, *READERS)
        view = services.get_budget(self.uow, request.activity_id, request.page_token, request.page_size)
        return pb.Budget(activity=msg.activity_to_pb(view.activity),
                         balance_cents=msg.int64(view.balance_cents, "balance_cents"),
                         reserved_cents=msg.int64(view.reserved_cents, "reserved_cents"),
                         available_cents=msg.int64(view.balance_cents - view.reserved_cents, "available_cents"),
                         entries=[msg.entry_to_pb(e) for e in view.entries], next_page_token=view.next_token)

    # -- invoices
    def _own_invoice(self, invoice_id: str, *roles: str) -> None:
        _self_or(services.invoice_member_id(self.uow, invoice_id), *roles)

    def CreateInvoice(self, request: pb.CreateInvoiceRequest, context: grpc.ServicerContext) -> pb.Invoice:
        _self_or(request.member_id, *STAFF)
        new = services.new_invoice(
            request.member_id, request.activity_id, request.client_id, [msg.line_from_pb(x) for x in request.lines],
            issue=request.issue, issued_on=msg.parse_optional_date(request.issued_on, "issued_on"),
            due_on=msg.parse_optional_date(request.due_on, "due_on"), request=_idempotent("CreateInvoice", request))
        return self.new_invoices.submit(new)

    def AddInvoiceLines(self, request: pb.AddInvoiceLinesRequest, context: grpc.ServicerContext) -> pb.Invoice:
        self._own_invoice(request.invoice_id, *STAFF)
        lines = [msg.line_from_pb(x) for x in request.lines]
        return msg.invoice_to_pb(services.add_invoice_lines(self.uow, request.invoice_id, lines))

    def IssueInvoice(self, request: pb.IssueInvoiceRequest, context: grpc.ServicerContext) -> pb.Invoice:
        self._own_invoice(request.invoice_id, *STAFF)
        return _invoice_reply(services.issue_invoice(
            self.uow, request.invoice_id, msg.parse_optional_date(request.issued_on, "issued_on"),
            msg.parse_optional_date(request.due_on, "due_on")))

    def RecordPayment(self, request: pb.RecordPaymentRequest, context: grpc.ServicerContext) -> pb.Invoice:
        _require(*STAFF)
        return services.record_payment(
            self.uow, request.invoice_id, request.payment_id, request.amount_cents,
            msg.parse_optional_date(request.paid_on, "paid_on"), request=_idempotent("RecordPayment", request))

    def CancelInvoice(self, request: pb.CancelInvoiceRequest, context: grpc.ServicerContext) -> pb.Invoice:
        self._own_invoice(request.invoice_id, *STAFF)
        return msg.invoice_to_pb(services.cancel_invoice(
            self.uow, request.invoice_id, request.reason, msg.parse_optional_date(request.on, "on")))

    def GetInvoice(self, request: pb.GetInvoiceRequest, context: grpc.ServicerContext) -> pb.Invoice:
        stored = services.get_invoice(self.uow, request.invoice_id)
        _self_or(stored.invoice.member_id, *READERS)
        return msg.invoice_to_pb(stored)

    def ListInvoices(self, request: pb.ListInvoicesRequest, context: grpc.ServicerContext) -> pb.ListInvoicesResponse:
        _self_or(request.member_id, *READERS)
        rows, token = services.list_invoices(
            self.uow, request.member_id, request.year, request.page_token, request.page_size)
        return pb.ListInvoicesResponse(invoices=[msg.invoice_to_pb(r) for r in rows], next_page_token=token)

    # -- rates
    def SetRate(self, request: pb.SetRateRequest, context: grpc.ServicerContext) -> pb.Rate:
        _require("admin")
        change = services.set_rate(self.uow, request.kind,
                                   msg.parse_date(request.effective_from, "effective_from"), request.basis_points)
        return pb.Rate(kind=change.kind.value, effective_from=change.effective_from.isoformat(),
                       basis_points=change.basis_points)

    def ListRates(self, request: pb.ListRatesRequest, context: grpc.ServicerContext) -> pb.ListRatesResponse:
        _require("member", *READERS)
        return pb.ListRatesResponse(rates=[
            pb.Rate(kind=c.kind.value, effective_from=c.effective_from.isoformat(), basis_points=c.basis_points)
            for c in services.list_rates(self.uow)])

    def CloseYear(self, request: pb.CloseYearRequest, context: grpc.ServicerContext) -> pb.CloseYearResponse:
        _require("admin")
        row, already = services.close_year(self.uow, request.year, current_principal().subject)
        return pb.CloseYearResponse(year=row.year, closed_at=msg.timestamp(row.closed_at), closed_by=row.closed_by,
                                    already_closed=already)

    # -- contracts
    def RequestContract(self, request: pb.RequestContractRequest, context: grpc.ServicerContext) -> pb.Contract:
        _self_or(request.member_id, "admin")
        return services.request_contract(self.uow, request.member_id, request.activity_id,
                                         msg.terms_from_pb(request.terms),
                                         request=_idempotent("RequestContract", request))

    def _own_contract(self, contract_id: str, *roles: str) -> None:
        _self_or(services.get_contract(self.uow, contract_id).contract.member_id, *roles)

    def AmendContract(self, request: pb.AmendContractRequest, context: grpc.ServicerContext) -> pb.Contract:
        self._own_contract(request.contract_id, "admin")
        return msg.contract_to_pb(services.amend_contract(
            self.uow, request.contract_id, msg.terms_from_pb(request.terms)))

    def CancelContract(self, request: pb.CancelContractRequest, context: grpc.ServicerContext) -> pb.Contract:
        self._own_contract(request.contract_id, "admin")
        return msg.contract_to_pb(services.cancel_contract(self.uow, request.contract_id, request.reason))

    def GetContract(self, request: pb.GetContractRequest, context: grpc.ServicerContext) -> pb.Contract:
        stored = services.get_contract(self.uow, request.contract_id)
        _self_or(stored.contract.member_id, *READERS)
        return msg.contract_to_pb(stored)

    def ListContracts(self, request: pb.ListContractsRequest, context: grpc.ServicerContext) -> pb.ListContractsResponse:
        _self_or(request.member_id, *READERS)
        rows, token = services.list_contracts(self.uow, request.member_id, request.page_token, request.page_size)
        return pb.ListContractsResponse(contracts=[msg.contract_to_pb(r) for r in rows], next_page_token=token)

    def RecordPayroll(self, request: pb.RecordPayrollRequest, context: grpc.ServicerContext) -> pb.RecordPayrollResponse:
        _require("admin", "service")
        stored, run, already = services.record_payroll(
            self.uow, request.contract_id, request.payroll_reference, request.gross_cents,
            msg.parse_optional_date(request.paid_on, "paid_on"))
        return pb.RecordPayrollResponse(contract=msg.contract_to_pb(stored), run=msg.payroll_run_to_pb(run),
                                        already_recorded=already)

    def CompleteContract(self, request: pb.CompleteContractRequest, context: grpc.ServicerContext) -> pb.Contract:
        _require("admin", "service")
        stored, _released = services.complete_contract(self.uow, request.contract_id)
        return msg.contract_to_pb(stored)

    # -- share fees
    def BillShareFee(self, request: pb.BillShareFeeRequest, context: grpc.ServicerContext) -> pb.ShareFee:
        _require("admin", "service")
        row, number = services.bill_share_fee(self.uow, request.member_id, request.year, request.amount_cents)
        return msg.share_fee_to_pb(row, number)

    def BillShareFees(self, request: pb.BillShareFeesRequest, context: grpc.ServicerContext) -> pb.BillShareFeesResponse:
        _require("admin", "service")
        billed, already = services.bill_share_fees(self.uow, request.year, request.amount_cents)
        return pb.BillShareFeesResponse(billed=billed, already_billed=already)

    def RecordShareFeePayment(self, request: pb.RecordShareFeePaymentRequest,
                              context: grpc.ServicerContext) -> pb.ShareFee:
        _require(*STAFF)
        return services.record_share_fee_payment(
            self.uow, request.member_id, request.year, request.amount_cents, request.bank_reference,
            request=_idempotent("RecordShareFeePayment", request))

    def ListShareFees(self, request: pb.ListShareFeesRequest, context: grpc.ServicerContext) -> pb.ListShareFeesResponse:
        _self_or(request.member_id, *READERS)
        rows, number, payments = services.list_share_fees(self.uow, request.member_id)
        return pb.ListShareFeesResponse(fees=[msg.share_fee_to_pb(r, number, payments[r.fee_id]) for r in rows])

    # -- statements
    def GetStatement(self, request: pb.GetStatementRequest, context: grpc.ServicerContext) -> pb.Statement:
        _self_or(request.member_id, "admin", "teller")
        return _statement_to_pb(services.get_statement(self.uow, request.member_id, request.year, request.language),
                                request.include_pdf)

    def StreamStatements(self, request: pb.StreamStatementsRequest,
                         context: grpc.ServicerContext) -> Iterator[pb.Statement]:
        _require("admin", "service")
        total, rendered = services.statements(self.uow, request.year, request.language, request.page_token,
                                              request.limit)
        for one in rendered:
            if isinstance(one, services.StatementFailure):
                yield _failed_statement(one, total)
                continue
            try:
                yield _statement_to_pb(one, request.include_pdf, total)
            except Exception as exc:  # noqa: BLE001 - one member never stops the year-end run
                yield _failed_statement(services.statement_failure(one.statement.member_id, request.year, exc),
                                        total)

    # -- redistribution
    @staticmethod
    def _result(r) -> pb.ScenarioResult:
        return pb.ScenarioResult(
            name=r.scenario, total_distributed_cents=r.total_distributed_cents, eligible=r.eligible,
            beneficiaries=r.beneficiaries, min_cents=r.min_cents, median_cents=r.median_cents,
            max_cents=r.max_cents, lower_half_share=r.lower_half_share, gini=r.gini)

    def SimulateRedistribution(self, request: pb.SimulateRedistributionRequest,
                               context: grpc.ServicerContext) -> pb.SimulateRedistributionResponse:
        _require("board", "admin")
        envelope = services.envelope_from_pb(request.envelope)
        scenarios = [services.scenario_from_pb(s) for s in request.scenarios]
        results = services.simulate(self.uow, envelope, scenarios)
        return pb.SimulateRedistributionResponse(
            retained_cents=envelope.retained_cents, distributable_cents=envelope.distributable_cents,
            results=[self._result(r) for r in results], revenue_basis=services.REVENUE_BASIS)

    def AdoptRedistribution(self, request: pb.AdoptRedistributionRequest,
                            context: grpc.ServicerContext) -> pb.AdoptRedistributionResponse:
        _require("board", "admin")
        envelope = services.envelope_from_pb(request.envelope)
        scenario = services.scenario_from_pb(request.scenario)
        result, lines = services.adopt(self.uow, request.envelope_id, request.name, envelope, scenario,
                                       services.spec_json(request), current_principal().subject)
        return pb.AdoptRedistributionResponse(envelope_id=request.envelope_id, result=self._result(result),
                                              retained_cents=envelope.retained_cents, payout_lines=lines,
                                              revenue_basis=services.REVENUE_BASIS)

    def ListPayouts(self, request: pb.ListPayoutsRequest, context: grpc.ServicerContext) -> pb.ListPayoutsResponse:
        _require("board", "admin", "teller")
        rows, token = services.list_payouts(self.uow, request.envelope_id, request.page_token, request.page_size)
        return pb.ListPayoutsResponse(payouts=[pb.Payout(envelope_id=r.envelope_id, member_id=r.member_id,
                                                         amount_cents=r.amount_cents) for r in rows],
                                      next_page_token=token)


def build(settings: Settings):
    """The engine, the registration callback and the unit-of-work factory (main() and tests)."""
    return build_service(settings, BillingUnitOfWork, BillingServicer,
                         pb_grpc.add_BillingServiceServicer_to_server,
                         pb.DESCRIPTOR.services_by_name["BillingService"].full_name)


def main() -> None:
    run_api(SERVICE_NAME, build)

if __name__ == "__main__":
    main()
