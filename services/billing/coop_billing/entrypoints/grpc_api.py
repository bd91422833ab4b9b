"""The billing api process: a plain grpcio server (never eventlet, DESIGN D1). The servicer
implements coop.billing.v2; the frozen v1 API is served from it by
coop_platform.api_versions (v1 requests parse as v2 ones, v1 clients get the wrapped resource).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from coop.billing.v1 import billing_pb2 as pb
from coop.billing.v2 import billing_pb2 as pb2
from coop.billing.v2 import billing_pb2_grpc as pb2_grpc
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
from coop_platform.pbtypes import from_date, mask_paths


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


def _date(request: Any, name: str) -> date | None:
    """A calendar date of a request: its google.type.Date twin (<name>_date) when set, else its
    v1 string "YYYY-MM-DD" (v1 clients reach v2 through the bridge)."""
    twin = f"{name}_date"
    if request.HasField(twin):
        return from_date(getattr(request, twin), field=twin)
    return parse_optional_date(getattr(request, name), name)


def _rate_to_pb(change: Any) -> pb.Rate:
    return pb.Rate(kind=change.kind.value, effective_from=change.effective_from.isoformat(),
                   basis_points=change.basis_points)


#: the ContractTerms fields an AmendContract update_mask may name
TERMS_FIELDS = tuple(f.name for f in pb.ContractTerms.DESCRIPTOR.fields)


def _new_terms(request: pb2.AmendContractRequest) -> Any:
    """The amended terms: all of request.terms, or (update_mask) its masked fields over the
    contract's current terms (a function of them, applied in the use case's unit of work)."""
    if not request.HasField("update_mask"):
        return msg.terms_from_pb(request.terms)
    paths = mask_paths(request.update_mask, TERMS_FIELDS)

    def merged(current: Any) -> Any:
        terms = msg.terms_to_pb(current)
        for path in paths:
            setattr(terms, path, getattr(request.terms, path))
        return msg.terms_from_pb(terms)
    return merged


class BillingServicer(pb2_grpc.BillingServiceServicer):
    """coop.billing.v2. Each method: translate the request, run one use case with the caller (who
    decides access in its own unit of work), translate the answer back."""

    def __init__(self, uow_factory: Callable[[], BillingUnitOfWork]) -> None:
        self.uow = uow_factory
        # Concurrent CreateInvoice calls share one transaction (one numbering-lock hold, one commit).
        self.new_invoices = Coalescer("billing_create_invoice", lambda batch: invoice_issuing.create_invoices(
            uow_factory(), batch, msg.INVOICE_REPLY))

    # -- clients and activities
    def CreateClient(self, request: pb2.CreateClientRequest, context: Any) -> pb2.CreateClientResponse:
        row, existed = clients.create_client(self.uow(), current_principal(), request.name, request.country,
                                             request.address, request.vat_number)
        return pb2.CreateClientResponse(client=msg.client_row_to_pb(row), already_existed=existed)

    def GetClient(self, request: pb2.GetClientRequest, context: Any) -> pb2.GetClientResponse:
        row = clients.get_client(self.uow(), current_principal(), request.client_id)
        return pb2.GetClientResponse(client=msg.client_row_to_pb(row))

    def VerifyClient(self, request: pb2.VerifyClientRequest, context: Any) -> pb2.VerifyClientResponse:
        row = clients.verify_client(self.uow(), current_principal(), request.client_id)
        return pb2.VerifyClientResponse(client=msg.client_row_to_pb(row))

    def CreateActivity(self, request: pb2.CreateActivityRequest, context: Any) -> pb2.CreateActivityResponse:
        row = clients.create_activity(self.uow(), current_principal(), request.member_id, request.name,
                                      request.sector_code)
        return pb2.CreateActivityResponse(activity=msg.activity_to_pb(row))

    def ListActivities(self, request: pb2.ListActivitiesRequest, context: Any) -> pb2.ListActivitiesResponse:
        rows, token = clients.list_activities(self.uow(), current_principal(), request.member_id,
                                              request.page_token, request.page_size)
        return pb2.ListActivitiesResponse(activities=[msg.activity_to_pb(r) for r in rows], next_page_token=token)

    def GetBudget(self, request: pb2.GetBudgetRequest, context: Any) -> pb2.GetBudgetResponse:
        view = clients.get_budget(self.uow(), current_principal(), request.activity_id, request.page_token,
                                  request.page_size)
        return pb2.GetBudgetResponse(budget=pb.Budget(
            activity=msg.activity_to_pb(view.activity), balance_cents=int64(view.balance_cents, "balance_cents"),
            reserved_cents=int64(view.reserved_cents, "reserved_cents"),
            available_cents=int64(view.balance_cents - view.reserved_cents, "available_cents"),
            entries=[msg.entry_to_pb(e) for e in view.entries], next_page_token=view.next_token))

    # -- invoices
    def CreateInvoice(self, request: pb2.CreateInvoiceRequest, context: Any) -> pb2.CreateInvoiceResponse:
        new = invoice_issuing.new_invoice(
            current_principal(), request.member_id, request.activity_id, request.client_id,
            msg.lines_from_pb(request.lines), issue=request.issue,
            issued_on=_date(request, "issued_on"), due_on=_date(request, "due_on"),
            request=_idempotent("CreateInvoice", request))
        return pb2.CreateInvoiceResponse(invoice=self.new_invoices.submit(new))

    def AddInvoiceLines(self, request: pb2.AddInvoiceLinesRequest, context: Any) -> pb2.AddInvoiceLinesResponse:
        stored = invoices.add_invoice_lines(self.uow(), current_principal(), request.invoice_id,
                                            msg.lines_from_pb(request.lines))
        return pb2.AddInvoiceLinesResponse(invoice=msg.invoice_to_pb(stored))

    def IssueInvoice(self, request: pb2.IssueInvoiceRequest, context: Any) -> pb2.IssueInvoiceResponse:
        stored = invoices.issue_invoice(self.uow(), current_principal(), request.invoice_id,
                                        _date(request, "issued_on"), _date(request, "due_on"))
        return pb2.IssueInvoiceResponse(invoice=msg.invoice_reply(stored))

    def RecordPayment(self, request: pb2.RecordPaymentRequest, context: Any) -> pb2.RecordPaymentResponse:
        return pb2.RecordPaymentResponse(invoice=invoices.record_payment(
            self.uow(), current_principal(), request.invoice_id, request.payment_id, request.amount_cents,
            _date(request, "paid_on"), msg.INVOICE_REPLY, request=_idempotent("RecordPayment", request)))

    def CancelInvoice(self, request: pb2.CancelInvoiceRequest, context: Any) -> pb2.CancelInvoiceResponse:
        stored = invoices.cancel_invoice(self.uow(), current_principal(), request.invoice_id, request.reason,
                                         _date(request, "on"))
        return pb2.CancelInvoiceResponse(invoice=msg.invoice_to_pb(stored))

    def GetInvoice(self, request: pb2.GetInvoiceRequest, context: Any) -> pb2.GetInvoiceResponse:
        stored = invoices.get_invoice(self.uow(), current_principal(), request.invoice_id)
        return pb2.GetInvoiceResponse(invoice=msg.invoice_to_pb(stored))

    def ListInvoices(self, request: pb2.ListInvoicesRequest, context: Any) -> pb2.ListInvoicesResponse:
        rows, token = invoices.list_invoices(self.uow(), current_principal(), request.member_id, request.year,
                                             request.page_token, request.page_size)
        return pb2.ListInvoicesResponse(invoices=[msg.invoice_to_pb(r) for r in rows], next_page_token=token)

    # -- rates and years
    def SetRate(self, request: pb2.SetRateRequest, context: Any) -> pb2.SetRateResponse:
        caller = current_principal()
        caller.require("admin")  # before the date is read: a stranger learns nothing of the rules
        effective_from = _date(request, "effective_from") or parse_date("", "effective_from")
        return pb2.SetRateResponse(rate=_rate_to_pb(years.set_rate(self.uow(), caller, request.kind, effective_from,
                                                                   request.basis_points)))

    def ListRates(self, request: pb2.ListRatesRequest, context: Any) -> pb2.ListRatesResponse:
        return pb2.ListRatesResponse(rates=[_rate_to_pb(c) for c in years.list_rates(self.uow(), current_principal())])

    def CloseYear(self, request: pb2.CloseYearRequest, context: Any) -> pb2.CloseYearResponse:
        row, already = years.close_year(self.uow(), current_principal(), request.year)
        return pb2.CloseYearResponse(year=row.year, closed_at=msg.timestamp(row.closed_at), closed_by=row.closed_by,
                                     already_closed=already)

    # -- contracts
    def RequestContract(self, request: pb2.RequestContractRequest, context: Any) -> pb2.RequestContractResponse:
        caller = current_principal()
        caller.require_self_or(request.member_id, "admin")  # before the terms are read
        return pb2.RequestContractResponse(contract=contracts.request_contract(
            self.uow(), caller, request.member_id, request.activity_id, msg.terms_from_pb(request.terms),
            msg.CONTRACT_REPLY, request=_idempotent("RequestContract", request)))

    def AmendContract(self, request: pb2.AmendContractRequest, context: Any) -> pb2.AmendContractResponse:
        stored = contracts.amend_contract(self.uow(), current_principal(), request.contract_id, _new_terms(request))
        return pb2.AmendContractResponse(contract=msg.contract_to_pb(stored))

    def CancelContract(self, request: pb2.CancelContractRequest, context: Any) -> pb2.CancelContractResponse:
        stored = contracts.cancel_contract(self.uow(), current_principal(), request.contract_id, request.reason)
        return pb2.CancelContractResponse(contract=msg.contract_to_pb(stored))

    def GetContract(self, request: pb2.GetContractRequest, context: Any) -> pb2.GetContractResponse:
        stored = contracts.get_contract(self.uow(), current_principal(), request.contract_id)
        return pb2.GetContractResponse(contract=msg.contract_to_pb(stored))

    def ListContracts(self, request: pb2.ListContractsRequest, context: Any) -> pb2.ListContractsResponse:
        rows, token = contracts.list_contracts(self.uow(), current_principal(), request.member_id,
                                               request.page_token, request.page_size)
        return pb2.ListContractsResponse(contracts=[msg.contract_to_pb(r) for r in rows], next_page_token=token)

    def RecordPayroll(self, request: pb2.RecordPayrollRequest, context: Any) -> pb2.RecordPayrollResponse:
        caller = current_principal()
        caller.require(*contracts.PAYROLL)  # before the date is read
        stored, run, already = contracts.record_payroll(
            self.uow(), caller, request.contract_id, request.payroll_reference, request.gross_cents,
            _date(request, "paid_on"))
        return pb2.RecordPayrollResponse(contract=msg.contract_to_pb(stored), run=msg.payroll_run_to_pb(run),
                                         already_recorded=already)

    def CompleteContract(self, request: pb2.CompleteContractRequest, context: Any) -> pb2.CompleteContractResponse:
        stored, _released = contracts.complete_contract(self.uow(), current_principal(), request.contract_id)
        return pb2.CompleteContractResponse(contract=msg.contract_to_pb(stored))

    # -- share fees
    def BillShareFee(self, request: pb2.BillShareFeeRequest, context: Any) -> pb2.BillShareFeeResponse:
        row, number = share_fees.bill_share_fee(self.uow(), current_principal(), request.member_id, request.year,
                                                request.amount_cents)
        return pb2.BillShareFeeResponse(fee=msg.share_fee_to_pb(row, number))

    def BillShareFees(self, request: pb2.BillShareFeesRequest, context: Any) -> pb2.BillShareFeesResponse:
        billed, already = share_fees.bill_share_fees(self.uow(), current_principal(), request.year,
                                                     request.amount_cents)
        return pb2.BillShareFeesResponse(billed=billed, already_billed=already)

    def RecordShareFeePayment(self, request: pb2.RecordShareFeePaymentRequest,
                              context: Any) -> pb2.RecordShareFeePaymentResponse:
        return pb2.RecordShareFeePaymentResponse(fee=share_fees.record_share_fee_payment(
            self.uow(), current_principal(), request.member_id, request.year, request.amount_cents,
            request.bank_reference, msg.SHARE_FEE_REPLY, request=_idempotent("RecordShareFeePayment", request)))

    def ListShareFees(self, request: pb2.ListShareFeesRequest, context: Any) -> pb2.ListShareFeesResponse:
        views = share_fees.list_share_fees(self.uow(), current_principal(), request.member_id)
        return pb2.ListShareFeesResponse(fees=[msg.SHARE_FEE_REPLY.of(v) for v in views])

    # -- statements
    def GetStatement(self, request: pb2.GetStatementRequest, context: Any) -> pb2.GetStatementResponse:
        rendered = statements.get_statement(self.uow(), current_principal(), request.member_id, request.year,
                                            request.language)
        return pb2.GetStatementResponse(statement=_statement_to_pb(rendered, request.include_pdf))

    def StreamStatements(self, request: pb2.StreamStatementsRequest,
                         context: Any) -> Iterator[pb2.StreamStatementsResponse]:
        total, rendered = statements.statements(self.uow(), current_principal(), request.year, request.language,
                                                request.page_token, request.limit)
        for one in rendered:
            if isinstance(one, statements.StatementFailure):
                yield pb2.StreamStatementsResponse(statement=_failed_statement(one, total))
                continue
            try:
                statement = _statement_to_pb(one, request.include_pdf, total)
            except Exception as exc:  # noqa: BLE001 - one member never stops the year-end run
                statement = _failed_statement(statements.statement_failure(one.statement.member_id, request.year,
                                                                           exc), total)
            yield pb2.StreamStatementsResponse(statement=statement)

    # -- redistribution
    @staticmethod
    def _result(r: Any) -> pb.ScenarioResult:
        return pb.ScenarioResult(
            name=r.scenario, total_distributed_cents=r.total_distributed_cents, eligible=r.eligible,
            beneficiaries=r.beneficiaries, min_cents=r.min_cents, median_cents=r.median_cents,
            max_cents=r.max_cents, lower_half_share=r.lower_half_share, gini=r.gini)

    def SimulateRedistribution(self, request: pb2.SimulateRedistributionRequest,
                               context: Any) -> pb2.SimulateRedistributionResponse:
        caller = current_principal()
        caller.require(*redistribution.DECIDERS)  # before the specs are read
        envelope = msg.envelope_from_pb(request.envelope)
        results = redistribution.simulate(self.uow(), caller, envelope,
                                          [msg.scenario_from_pb(s) for s in request.scenarios])
        return pb2.SimulateRedistributionResponse(
            retained_cents=envelope.retained_cents, distributable_cents=envelope.distributable_cents,
            results=[self._result(r) for r in results], revenue_basis=redistribution.REVENUE_BASIS)

    def AdoptRedistribution(self, request: pb2.AdoptRedistributionRequest,
                            context: Any) -> pb2.AdoptRedistributionResponse:
        caller = current_principal()
        caller.require(*redistribution.DECIDERS)  # before the specs are read
        envelope = msg.envelope_from_pb(request.envelope)
        scenario = msg.scenario_from_pb(request.scenario)
        result, lines = redistribution.adopt(self.uow(), caller, request.envelope_id, request.name, envelope,
                                             scenario, msg.spec_json(request))
        return pb2.AdoptRedistributionResponse(envelope_id=request.envelope_id, result=self._result(result),
                                               retained_cents=envelope.retained_cents, payout_lines=lines,
                                               revenue_basis=redistribution.REVENUE_BASIS)

    def ListPayouts(self, request: pb2.ListPayoutsRequest, context: Any) -> pb2.ListPayoutsResponse:
        rows, token = redistribution.list_payouts(self.uow(), current_principal(), request.envelope_id,
                                                  request.page_token, request.page_size)
        return pb2.ListPayoutsResponse(payouts=[pb.Payout(envelope_id=r.envelope_id, member_id=r.member_id,
                                                          amount_cents=r.amount_cents) for r in rows],
                                       next_page_token=token)


V1 = pb.DESCRIPTOR.services_by_name["BillingService"]
V2 = pb2.DESCRIPTOR.services_by_name["BillingService"]


def build(settings: Settings):
    """The engine, the registration callback (v2 and the v1 bridge; health reports both) and the
    unit-of-work factory (main() and tests)."""
    return build_service(settings, SqlBillingUnitOfWork, BillingServicer, pb2_grpc.add_BillingServiceServicer_to_server,
                         V2.full_name, older_versions=[(V1, V2)])


def main() -> None:
    run_api(SERVICE_NAME, build)

if __name__ == "__main__":
    main()
