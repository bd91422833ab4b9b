"""The elections api process: a plain grpcio server (never eventlet, DESIGN D1).

Tenant scoping: every use case gets the token's tenant; elections of another tenant are
NOT_FOUND. Partner and admin tokens manage only their own tenant's elections.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from coop.elections.v1 import elections_pb2 as pb
from coop.elections.v1 import elections_pb2_grpc as pb_grpc
from coop_elections import SERVICE_NAME
from coop_elections.adapters import messages as msg
from coop_elections.adapters.repository import ElectionsUnitOfWork
from coop_elections.service_layer import services
from coop_elections.service_layer.services import RollSummary
from coop_platform.auth import DEFAULT_TENANT
from coop_platform.batching import Coalescer
from coop_platform.config import Settings
from coop_platform.errors import FailedPrecondition, InvalidArgument
from coop_platform.grpc_server import build_service, current_principal, run_api

MANAGERS = ("admin", "partner")
VOTERS = ("member",)
TELLERS = ("teller",)
TIMERS = ("admin", "partner", "service")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _roll(s: RollSummary) -> pb.VoterRollSummary:
    return pb.VoterRollSummary(election_id=s.election_id, size=s.size, total_weight=s.total_weight,
                               frozen=s.frozen, sha256=s.sha256)


class ElectionsServicer(pb_grpc.ElectionsServiceServicer):
    """Each method: check who may call, translate, run one use case, translate back."""

    def __init__(self, uow_factory: services.UowFactory, clock: Clock = utcnow) -> None:
        self.uow = uow_factory
        self.clock = clock
        # Ballots arriving together (own, proxy, re-votes) share one transaction: one commit, and
        # none is alone in its transaction when others arrive with it (docs/elections.md, Secrecy).
        self.casts = Coalescer("elections_cast_ballot", partial(services.cast_ballots, uow_factory))

    def _caller(self, *roles: str):
        principal = current_principal()
        if roles:
            principal.require(*roles)
        return principal

    # -- elections
    def CreateElection(self, request, context):
        p = self._caller(*MANAGERS)
        spec = msg.spec_from_pb(request)
        return msg.election_to_pb(services.create_election(
            self.uow, p.tenant, spec, self.clock(), request.request_id,
            msg.request_fingerprint(request) if request.request_id else ""))

    def GetElection(self, request, context):
        p = self._caller()
        return msg.election_to_pb(services.get_election(self.uow, p.tenant, request.election_id))

    def ListElections(self, request, context):
        p = self._caller()
        found = services.list_elections(self.uow, p.tenant, request.page_size or 50)
        return pb.ListElectionsResponse(elections=[msg.election_to_pb(e) for e in found])

    def OpenElection(self, request, context):
        p = self._caller(*TIMERS)
        return msg.election_to_pb(services.open_election(self.uow, p.tenant, request.election_id, self.clock()))

    # -- roll
    def ImportVoterRoll(self, request, context):
        p = self._caller(*MANAGERS)
        entries = [(v.voter_id, v.weight if v.weight else 1) for v in request.voters]
        return _roll(services.import_roll(self.uow, p.tenant, request.election_id, entries, self.clock()))

    def StreamVoterRoll(self, request_iterator, context):
        p = self._caller(*MANAGERS)
        election_id, rows = "", []
        for chunk in request_iterator:
            if chunk.election_id:
                if election_id and chunk.election_id != election_id:
                    raise InvalidArgument("every chunk names the same election", field="election_id")
                election_id = chunk.election_id
            rows.extend((r.line, r.voter_id, r.weight if r.weight else 1) for r in chunk.rows)
            if len(rows) > services.MAX_ROLL_IMPORT:
                raise InvalidArgument(f"at most {services.MAX_ROLL_IMPORT} voters per import", field="rows")
        report = services.import_roll_rows(self.uow, p.tenant, election_id, rows, self.clock())
        return pb.VoterRollImportReport(
            rows_received=report.rows_received, committed=report.committed,
            rows_imported=report.rows_received if report.committed else 0,
            errors=[pb.VoterRollImportError(line=line, field=f, message=m) for line, f, m in report.errors],
            roll=_roll(report.summary) if report.summary else None)

    def BuildVoterRollFromMembers(self, request, context):
        p = self._caller("admin")
        if p.tenant != DEFAULT_TENANT:
            raise FailedPrecondition("the membership projection is the cooperative's own; partners import their roll")
        return _roll(services.build_roll_from_members(self.uow, p.tenant, request.election_id, self.clock()))

    def FreezeVoterRoll(self, request, context):
        p = self._caller(*MANAGERS)
        return _roll(services.freeze_roll(self.uow, p.tenant, request.election_id, self.clock()))

    def GetVoterRoll(self, request, context):
        p = self._caller()
        return _roll(services.roll_summary(self.uow, p.tenant, request.election_id, self.clock()))

    def CheckMyRollEntry(self, request, context):
        p = self._caller()
        on_roll, weight, voted = services.my_roll_entry(self.uow, p.tenant, request.election_id, p.subject)
        return pb.RollEntry(election_id=request.election_id, voter_id=p.subject, on_roll=on_roll,
                            weight=weight, has_voted=voted)

    # -- candidacies
    def SubmitCandidacy(self, request, context):
        p = self._caller(*VOTERS)
        row = services.submit_candidacy(self.uow, p.tenant, request.election_id, request.question_id,
                                        p.subject, msg.texts_from_pb(request.statement), self.clock())
        return msg.candidacy_to_pb(row)

    def WithdrawCandidacy(self, request, context):
        p = self._caller(*VOTERS)
        row = services.withdraw_candidacy(self.uow, p.tenant, request.election_id, request.question_id,
                                          p.subject, self.clock())
        return msg.candidacy_to_pb(row)

    def ListCandidacies(self, request, context):
        p = self._caller()
        rows = services.list_candidacies(self.uow, p.tenant, request.election_id, request.question_id,
                                         self.clock(), privileged=p.has(*MANAGERS))
        return pb.ListCandidaciesResponse(candidacies=[msg.candidacy_to_pb(r) for r in rows])

    # -- proxies
    def GiveProxy(self, request, context):
        p = self._caller(*VOTERS)
        giver, holder, status = services.give_proxy(self.uow, p.tenant, request.election_id, p.subject,
                                                    request.holder_id, self.clock())
        return pb.Proxy(election_id=request.election_id, giver_id=giver, holder_id=holder, status=status)

    def RevokeProxy(self, request, context):
        p = self._caller(*VOTERS)
        giver, holder, status = services.revoke_proxy(self.uow, p.tenant, request.election_id, p.subject)
        return pb.Proxy(election_id=request.election_id, giver_id=giver, holder_id=holder, status=status)

    # -- voting
    def CastBallot(self, request, context):
        p = self._caller(*VOTERS)

        def content(election):  # read inside the cast's own transaction (one election read)
            return msg.content_from_answers(request.answers, election)

        receipt = self.casts.submit(services.Cast(
            p.tenant, request.election_id, p.subject, content, self.clock(), request.previous_tracker,
            request.previous_revote_code, request.on_behalf_of, request.ballot_key))
        return pb.CastBallotResponse(tracker=receipt.tracker, ballot_hash=receipt.ballot_hash,
                                     revote_code=receipt.revote_code,
                                     superseded_previous=receipt.superseded_previous)

    def SignInPersonRegister(self, request, context):
        p = self._caller(*TELLERS)
        on_roll, weight, voted = services.sign_in_person(self.uow, p.tenant, request.election_id,
                                                         request.voter_id, p.subject, self.clock())
        return pb.RollEntry(election_id=request.election_id, voter_id=request.voter_id,
                            on_roll=on_roll, weight=weight, has_voted=voted)

    def UndoSignIn(self, request, context):
        p = self._caller(*TELLERS)
        undo = services.undo_sign_in(self.uow, p.tenant, request.election_id, request.voter_id, p.subject,
                                     request.reason, self.clock())
        return pb.UndoSignInResponse(election_id=request.election_id, voter_id=request.voter_id,
                                     state=undo.state, requested_by=undo.requested_by,
                                     confirmed_by=undo.confirmed_by)

    def ListSignInAudit(self, request, context):
        p = self._caller(*MANAGERS)
        rows, next_token = services.sign_in_audit(self.uow, p.tenant, request.election_id,
                                                  request.page_size or 100, request.page_token)
        return pb.ListSignInAuditResponse(entries=[msg.sign_in_audit_to_pb(r) for r in rows],
                                          next_page_token=next_token)

    def EnterPaperBallot(self, request, context):
        p = self._caller(*TELLERS)
        state, tracker = services.enter_paper_ballot(  # answers read against the election it loads
            self.uow, p.tenant, request.election_id, request.paper_id,
            lambda election: msg.content_from_answers(request.answers, election), p.subject, self.clock())
        return pb.PaperBallotResponse(paper_id=request.paper_id, state=state, tracker=tracker)

    def GetTurnout(self, request, context):
        p = self._caller()
        voted, size, voted_weight, weight = services.turnout(self.uow, p.tenant, request.election_id)
        return pb.Turnout(election_id=request.election_id, voted=voted, roll_size=size,
                          voted_weight=voted_weight, roll_weight=weight)

    # -- results
    def CloseElection(self, request, context):
        p = self._caller(*TIMERS)
        return msg.results_to_pb(services.close_election(self.uow, p.tenant, request.election_id, self.clock()))

    def GetResults(self, request, context):
        p = self._caller()
        return msg.results_to_pb(services.get_results(self.uow, p.tenant, request.election_id))

    def GetPublishedBox(self, request, context):
        p = self._caller()
        box, election, results = services.published_box(self.uow, p.tenant, request.election_id)
        return pb.PublishedBox(election_id=request.election_id, box_json=box, election_json=election,
                               results_json=results)


def build(settings: Settings, clock: Clock = utcnow):
    """The engine, the registration callback and the unit-of-work factory (main() and tests)."""
    return build_service(settings, ElectionsUnitOfWork, lambda uow_factory: ElectionsServicer(uow_factory, clock),
                         pb_grpc.add_ElectionsServiceServicer_to_server,
                         pb.DESCRIPTOR.services_by_name["ElectionsService"].full_name)


def main() -> None:
    run_api(SERVICE_NAME, build, tenants=("*",))  # partner cooperatives share the service

if __name__ == "__main__":
    main()
