"""The billing api process: a plain grpcio server (never eventlet, DESIGN D1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import grpc

from coop.billing.v1 import billing_pb2 as pb
from coop.billing.v1 import billing_pb2_grpc as pb_grpc
from coop_billing import SERVICE_NAME
from coop_billing.adapters import messages as msg
from coop_billing.adapters.pdf import render_statement_pdf
from coop_billing.adapters.unit_of_work import SqlBillingUnitOfWork
from coop_billing.domain.checks import int64, parse_date, parse_optional_date
from coop_billing.service_layer import (
    clients,
    contracts,
    invoice_issuing,
    invoices,
    redistribution,
    share_fees,
    statements,
    years,
)
from coop_billing.service_layer.ports import BillingUnitOfWork
from coop_platform.batching import Coalescer
from coop_platform.config import Settings
from coop_platform.grpc_server import build_service, current_principal, run_api
from coop_platform.idempotency import IdempotentRequest, idempotent_request


def _statement_to_pb(rendered: statements.RenderedStatement, include_pdf: bool, stream_total: int = 0) -> pb.Statement:
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


def _failed_statement(failure: statements.StatementFailure, stream_total: int) -> pb.Statement:
    return pb.Statement(member_id=failure.member_id, year=failure.year, error=failure.reason,
                        stream_total=stream_total)


def _idempotent(method: str, request: Any) -> IdempotentRequest | None:
    """The call's request_id (AIP-155) with the fingerprint of its request, or None without one."""
    principal = current_principal()
    return idempotent_request(principal.tenant, principal.subject, method, request)


def _date(value: str, name: str) -> date | None:
    return parse_optional_date(value, name)


def _rate_to_pb(change: Any) -> pb.Rate:
    return pb.Rate(kind=change.kind.value, effective_from=change.effective_from.isoformat(),
                   basis_points=change.basis_points)


class BillingServicer(pb_grpc.BillingServiceServicer):
    """Each method: translate the request, run one use case with the caller (who decides access
    in its own unit of work), translate the answer back."""

    def __init__(self, uow_factory: Callable[[], BillingUnitOfWork]) -> None:
        self.uow = uow_factory
        # Concurrent CreateInvoice calls share one transaction (one numbering-lock hold, one commit).
        self.new_invoices = Coalescer("billing_create_invoice", lambda batch: invoice_issuing.create_invoices(
            uow_factory(), batch, msg.INVOICE_REPLY))

    # -- clients and activities
    def CreateClient(self, request: pb.CreateClientRequest, context: grpc.ServicerContext) -> pb.CreateClientResponse:
        row, existed = clients.create_client(self.uow(), current_principal(), request.name, request.country,
                                             request.address, request.vat_number)
        return pb.CreateClientResponse(client=msg.client_row_to_pb(row), already_existed=existed)

    def GetClient(self, request: pb.GetClientRequest, context: grpc.ServicerContext) -> pb.Client:
        return msg.client_row_to_pb(clients.get_client(self.uow(), current_principal(), request.client_id))

    def VerifyClient(self, request: pb.VerifyClientRequest, context: grpc.ServicerContext) -> pb.Client:
        return msg.client_row_to_pb(clients.verify_client(self.uow(), current_principal(), request.client_id))

    def CreateActivity(self, request: pb.CreateActivityRequest, context: grpc.ServicerContext) -> pb.Activity:
        return msg.activity_to_pb(clients.create_activity(
            self.uow(), current_principal(), request.member_id, request.name, request.sector_code))

    def ListActivities(self, request: pb.ListActivitiesRequest, context: grpc.ServicerContext) -> pb.ListActivitiesResponse:
        rows, token = clients.list_activities(self.uow(), current_principal(), request.member_id,
                                              request.page_token, request.page_size)
        return pb.ListActivitiesResponse(activities=[msg.activity_to_pb(r) for r in rows], next_page_token=token)

    def GetBudget(self, request: pb.GetBudgetRequest, context: grpc.ServicerContext) -> pb.Budget:
        view = clients.get_budget(self.uow(), current_principal(), request.activity_id, request.page_token,
                                  request.page_size)
        return pb.Budget(activity=msg.activity_to_pb(view.activity),
                         balance_cents=int64(view.balance_cents, "balance_cents"),
                         reserved_cents=int64(view.reserved_cents, "reserved_cents"),
                         available_cents=int64(view.balance_cents - view.reserved_cents, "available_cents"),
                         entries=[msg.entry_to_pb(e) for e in view.entries], next_page_token=view.next_token)

    # -- invoices
    def CreateInvoice(self, request: pb.CreateInvoiceRequest, context: grpc.ServicerContext) -> pb.Invoice:
        new = invoice_issuing.new_invoice(
            current_principal(), request.member_id, request.activity_id, request.client_id,
            [msg.line_from_pb(x) for x in request.lines], issue=request.issue,
            issued_on=_date(request.issued_on, "issued_on"), due_on=_date(request.due_on, "due_on"),
            request=_idempotent("CreateInvoice", request))
        return self.new_invoices.submit(new)

    def AddInvoiceLines(self, request: pb.AddInvoiceLinesRequest, context: grpc.ServicerContext) -> pb.Invoice:
        lines = [msg.line_from_pb(x) for x in request.lines]
        return msg.invoice_to_pb(invoices.add_invoice_lines(self.uow(), current_principal(), request.invoice_id,
                                                            lines))

    def IssueInvoice(self, request: pb.IssueInvoiceRequest, context: grpc.ServicerContext) -> pb.Invoice:
        return msg.invoice_reply(invoices.issue_invoice(
            self.uow(), current_principal(), request.invoice_id, _date(request.issued_on, "issued_on"),
            _date(request.due_on, "due_on")))

    def RecordPayment(self, request: pb.RecordPaymentRequest, context: grpc.ServicerContext) -> pb.Invoice:
        return invoices.record_payment(
            self.uow(), current_principal(), request.invoice_id, request.payment_id, request.amount_cents,
            _date(request.paid_on, "paid_on"), msg.INVOICE_REPLY, request=_idempotent("RecordPayment", request))

    def CancelInvoice(self, request: pb.CancelInvoiceRequest, context: grpc.ServicerContext) -> pb.Invoice:
        return msg.invoice_to_pb(invoices.cancel_invoice(
            self.uow(), current_principal(), request.invoice_id, request.reason, _date(request.on, "on")))

    def GetInvoice(self, request: pb.GetInvoiceRequest, context: grpc.ServicerContext) -> pb.Invoice:
        return msg.invoice_to_pb(invoices.get_invoice(self.uow(), current_principal(), request.invoice_id))

    def ListInvoices(self, request: pb.ListInvoicesRequest, context: grpc.ServicerContext) -> pb.ListInvoicesResponse:
        rows, token = invoices.list_invoices(self.uow(), current_principal(), request.member_id, request.year,
                                             request.page_token, request.page_size)
        return pb.ListInvoicesResponse(invoices=[msg.invoice_to_pb(r) for r in rows], next_page_token=token)

    # -- rates and years
    def SetRate(self, request: pb.SetRateRequest, context: grpc.ServicerContext) -> pb.Rate:
        caller = current_principal()
        caller.require("admin")
        return _rate_to_pb(years.set_rate(self.uow(), caller, request.kind,
                                          parse_date(request.effective_from, "effective_from"), request.basis_points))

    def ListRates(self, request: pb.ListRatesRequest, context: grpc.ServicerContext) -> pb.ListRatesResponse:
        return pb.ListRatesResponse(rates=[_rate_to_pb(c) for c in years.list_rates(self.uow(), current_principal())])

    def CloseYear(self, request: pb.CloseYearRequest, context: grpc.ServicerContext) -> pb.CloseYearResponse:
        row, already = years.close_year(self.uow(), current_principal(), request.year)
        return pb.CloseYearResponse(year=row.year, closed_at=msg.timestamp(row.closed_at), closed_by=row.closed_by,
                                    already_closed=already)

    # -- contracts
    def RequestContract(self, request: pb.RequestContractRequest, context: grpc.ServicerContext) -> pb.Contract:
        caller = current_principal()
        caller.require_self_or(request.member_id, "admin")
        return contracts.request_contract(self.uow(), caller, request.member_id, request.activity_id,
                                          msg.terms_from_pb(request.terms), msg.CONTRACT_REPLY,
                                          request=_idempotent("RequestContract", request))

    def AmendContract(self, request: pb.AmendContractRequest, context: grpc.ServicerContext) -> pb.Contract:
        return msg.contract_to_pb(contracts.amend_contract(
            self.uow(), current_principal(), request.contract_id, msg.terms_from_pb(request.terms)))

    def CancelContract(self, request: pb.CancelContractRequest, context: grpc.ServicerContext) -> pb.Contract:
        return msg.contract_to_pb(contracts.cancel_contract(self.uow(), current_principal(), request.contract_id,
                                                            request.reason))

    def GetContract(self, request: pb.GetContractRequest, context: grpc.ServicerContext) -> pb.Contract:
        return msg.contract_to_pb(contracts.get_contract(self.uow(), current_principal(), request.contract_id))

    def ListContracts(self, request: pb.ListContractsRequest, context: grpc.ServicerContext) -> pb.ListContractsResponse:
        rows, token = contracts.list_contracts(self.uow(), current_principal(), request.member_id,
                                               request.page_token, request.page_size)
        return pb.ListContractsResponse(contracts=[msg.contract_to_pb(r) for r in rows], next_page_token=token)

    def RecordPayroll(self, request: pb.RecordPayrollRequest, context: grpc.ServicerContext) -> pb.RecordPayrollResponse:
        caller = current_principal()
        caller.require(*contracts.PAYROLL)
        stored, run, already = contracts.record_payroll(
            self.uow(), caller, request.contract_id, request.payroll_reference, request.gross_cents,
            _date(request.paid_on, "paid_on"))
        return pb.RecordPayrollResponse(contract=msg.contract_to_pb(stored), run=msg.payroll_run_to_pb(run),
                                        already_recorded=already)

    def CompleteContract(self, request: pb.CompleteContractRequest, context: grpc.ServicerContext) -> pb.Contract:
        stored, _released = contracts.complete_contract(self.uow(), current_principal(), request.contract_id)
        return msg.contract_to_pb(stored)

    # -- share fees
    def BillShareFee(self, request: pb.BillShareFeeRequest, context: grpc.ServicerContext) -> pb.ShareFee:
        row, number = share_fees.bill_share_fee(self.uow(), current_principal(), request.member_id, request.year,
                                                request.amount_cents)
        return msg.share_fee_to_pb(row, number)

    def BillShareFees(self, request: pb.BillShareFeesRequest, context: grpc.ServicerContext) -> pb.BillShareFeesResponse:
        billed, already = share_fees.bill_share_fees(self.uow(), current_principal(), request.year,
                                                     request.amount_cents)
        return pb.BillShareFeesResponse(billed=billed, already_billed=already)

    def RecordShareFeePayment(self, request: pb.RecordShareFeePaymentRequest,
                              context: grpc.ServicerContext) -> pb.ShareFee:
        return share_fees.record_share_fee_payment(
            self.uow(), current_principal(), request.member_id, request.year, request.amount_cents,
            request.bank_reference, msg.SHARE_FEE_REPLY, request=_idempotent("RecordShareFeePayment", request))

    def ListShareFees(self, request: pb.ListShareFeesRequest, context: grpc.ServicerContext) -> pb.ListShareFeesResponse:
        views = share_fees.list_share_fees(self.uow(), current_principal(), request.member_id)
        return pb.ListShareFeesResponse(fees=[msg.SHARE_FEE_REPLY.of(v) for v in views])

    # -- statements
    def GetStatement(self, request: pb.GetStatementRequest, context: grpc.ServicerContext) -> pb.Statement:
        return _statement_to_pb(statements.get_statement(self.uow(), current_principal(), request.member_id,
                                                         request.year, request.language), request.include_pdf)

    def StreamStatements(self, request: pb.StreamStatementsRequest,
                         context: grpc.ServicerContext) -> Iterator[pb.Statement]:
        total, rendered = statements.statements(self.uow(), current_principal(), request.year, request.language,
                                                request.page_token, request.limit)
        for one in rendered:
            if isinstance(one, statements.StatementFailure):
                yield _failed_statement(one, total)
                continue
            try:
                yield _statement_to_pb(one, request.include_pdf, total)
            except Exception as exc:  # noqa: BLE001 - one member never stops the year-end run
                yield _failed_statement(statements.statement_failure(one.statement.member_id, request.year, exc),
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
        caller = current_principal()
        caller.require(*redistribution.DECIDERS)
        envelope = msg.envelope_from_pb(request.envelope)
        results = redistribution.simulate(self.uow(), caller, envelope,
                                          [msg.scenario_from_pb(s) for s in request.scenarios])
        return pb.SimulateRedistributionResponse(
            retained_cents=envelope.retained_cents, distributable_cents=envelope.distributable_cents,
            results=[self._result(r) for r in results], revenue_basis=redistribution.REVENUE_BASIS)

    def AdoptRedistribution(self, request: pb.AdoptRedistributionRequest,
                            context: grpc.ServicerContext) -> pb.AdoptRedistributionResponse:
        caller = current_principal()
        caller.require(*redistribution.DECIDERS)
        envelope = msg.envelope_from_pb(request.envelope)
        scenario = msg.scenario_from_pb(request.scenario)
        result, lines = redistribution.adopt(self.uow(), caller, request.envelope_id, request.name, envelope,
                                             scenario, msg.spec_json(request))
        return pb.AdoptRedistributionResponse(envelope_id=request.envelope_id, result=self._result(result),
                                              retained_cents=envelope.retained_cents, payout_lines=lines,
                                              revenue_basis=redistribution.REVENUE_BASIS)

    def ListPayouts(self, request: pb.ListPayoutsRequest, context: grpc.ServicerContext) -> pb.ListPayoutsResponse:
        rows, token = redistribution.list_payouts(self.uow(), current_principal(), request.envelope_id,
                                                  request.page_token, request.page_size)
        return pb.ListPayoutsResponse(payouts=[pb.Payout(envelope_id=r.envelope_id, member_id=r.member_id,
                                                         amount_cents=r.amount_cents) for r in rows],
                                      next_page_token=token)


def build(settings: Settings):
    """The engine, the registration callback and the unit-of-work factory (main() and tests)."""
    return build_service(settings, SqlBillingUnitOfWork, BillingServicer,
                         pb_grpc.add_BillingServiceServicer_to_server,
                         pb.DESCRIPTOR.services_by_name["BillingService"].full_name)


def main() -> None:
    run_api(SERVICE_NAME, build)

if __name__ == "__main__":
    main()
