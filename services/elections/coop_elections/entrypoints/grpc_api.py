"""The elections api process: a plain grpcio server (never eventlet, DESIGN D1).

Tenant scoping: every use case gets the token's tenant; elections of another tenant are
NOT_FOUND. Partner and admin tokens manage only their own tenant's elections.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from coop.elections.v1 import elections_pb2 as pb
from coop.elections.v1 import elections_pb2_grpc as pb_grpc
from coop_domain.clock import utcnow
from coop_domain.errors import InvalidArgument
from coop_elections import SERVICE_NAME
from coop_elections.adapters import messages as msg
from coop_elections.adapters.unit_of_work import SqlElectionsUnitOfWork
from coop_elections.domain.stored import RollSummary
from coop_elections.service_layer import (
    candidacies,
    casting,
    elections,
    proxies,
    results,
    roll,
    tellers,
)
from coop_elections.service_layer.ports import ElectionsUnitOfWork
from coop_platform.batching import Coalescer
from coop_platform.config import Settings
from coop_platform.grpc_server import build_service, current_principal, run_api

Clock = Callable[[], datetime]


def _roll(s: RollSummary) -> pb.VoterRollSummary:
    return pb.VoterRollSummary(election_id=s.election_id, size=s.size, total_weight=s.total_weight,
                               frozen=s.frozen, sha256=s.sha256)


class ElectionsServicer(pb_grpc.ElectionsServiceServicer):
    """Each method: translate the request, run one use case as the caller (it checks access in its
    own unit of work), translate back."""

    def __init__(self, uow_factory: Callable[[], ElectionsUnitOfWork], clock: Clock = utcnow) -> None:
        self.uow = uow_factory
        self.clock = clock
        # Ballots arriving together (own, proxy, re-votes) share one transaction: one commit, and
        # none is alone in its transaction when others arrive with it (docs/elections.md, Secrecy).
        self.casts = Coalescer("elections_cast_ballot", lambda batch: casting.cast_ballots(uow_factory(), batch))

    # -- elections
    def CreateElection(self, request, context):
        spec = msg.spec_from_pb(request)
        return msg.election_to_pb(elections.create_election(
            self.uow(), current_principal(), spec, self.clock(), request.request_id,
            msg.request_fingerprint(request) if request.request_id else "", cutoff_given=bool(request.roll_cutoff)))

    def GetElection(self, request, context):
        return msg.election_to_pb(elections.get_election(self.uow(), current_principal(), request.election_id))

    def ListElections(self, request, context):
        found, _ = elections.list_elections(self.uow(), current_principal(), request.page_size)
        return pb.ListElectionsResponse(elections=[msg.election_to_pb(e) for e in found])

    def OpenElection(self, request, context):
        return msg.election_to_pb(elections.open_election(self.uow(), current_principal(), request.election_id,
                                                          self.clock()))

    # -- roll
    def ImportVoterRoll(self, request, context):
        entries = [(v.voter_id, v.weight if v.weight else 1) for v in request.voters]
        return _roll(roll.import_roll(self.uow(), current_principal(), request.election_id, entries, self.clock()))

    def StreamVoterRoll(self, request_iterator, context):
        election_id, rows = "", []
        for chunk in request_iterator:
            if chunk.election_id:
                if election_id and chunk.election_id != election_id:
                    raise InvalidArgument("every chunk names the same election", field="election_id",
                                          reason="ELECTION_CHANGED_MID_STREAM")
                election_id = chunk.election_id
            rows.extend((r.line, r.voter_id, r.weight if r.weight else 1) for r in chunk.rows)
            if len(rows) > roll.MAX_ROLL_IMPORT:
                raise InvalidArgument(f"at most {roll.MAX_ROLL_IMPORT} voters per import", field="rows",
                                      reason="ROLL_TOO_LARGE")
        report = roll.import_roll_rows(self.uow(), current_principal(), election_id, rows, self.clock())
        return pb.VoterRollImportReport(
            rows_received=report.rows_received, committed=report.committed,
            rows_imported=report.rows_received if report.committed else 0,
            errors=[pb.VoterRollImportError(line=line, field=f, message=m) for line, f, m in report.errors],
            roll=_roll(report.summary) if report.summary else None)

    def BuildVoterRollFromMembers(self, request, context):
        return _roll(roll.build_roll_from_members(self.uow(), current_principal(), request.election_id,
                                                  self.clock()))

    def FreezeVoterRoll(self, request, context):
        return _roll(roll.freeze_roll(self.uow(), current_principal(), request.election_id, self.clock()))

    def GetVoterRoll(self, request, context):
        return _roll(roll.roll_summary(self.uow(), current_principal(), request.election_id, self.clock()))

    def CheckMyRollEntry(self, request, context):
        p = current_principal()
        on_roll, weight, voted = roll.my_roll_entry(self.uow(), p, request.election_id)
        return pb.RollEntry(election_id=request.election_id, voter_id=p.subject, on_roll=on_roll,
                            weight=weight, has_voted=voted)

    # -- candidacies
    def SubmitCandidacy(self, request, context):
        return msg.candidacy_to_pb(candidacies.submit_candidacy(
            self.uow(), current_principal(), request.election_id, request.question_id,
            msg.texts_from_pb(request.statement), self.clock()))

    def WithdrawCandidacy(self, request, context):
        return msg.candidacy_to_pb(candidacies.withdraw_candidacy(
            self.uow(), current_principal(), request.election_id, request.question_id, self.clock()))

    def ListCandidacies(self, request, context):
        rows = candidacies.list_candidacies(self.uow(), current_principal(), request.election_id,
                                            request.question_id, self.clock())
        return pb.ListCandidaciesResponse(candidacies=[msg.candidacy_to_pb(r) for r in rows])

    # -- proxies
    def GiveProxy(self, request, context):
        giver, holder, status = proxies.give_proxy(self.uow(), current_principal(), request.election_id,
                                                   request.holder_id, self.clock())
        return pb.Proxy(election_id=request.election_id, giver_id=giver, holder_id=holder, status=status)

    def RevokeProxy(self, request, context):
        giver, holder, status = proxies.revoke_proxy(self.uow(), current_principal(), request.election_id)
        return pb.Proxy(election_id=request.election_id, giver_id=giver, holder_id=holder, status=status)

    # -- voting
    def CastBallot(self, request, context):
        def content(election):  # read inside the cast's own transaction (one election read)
            return msg.content_from_answers(request.answers, election)

        receipt = self.casts.submit(casting.Cast(
            current_principal(), request.election_id, content, self.clock(), request.previous_tracker,
            request.previous_revote_code, request.on_behalf_of, request.ballot_key))
        return pb.CastBallotResponse(tracker=receipt.tracker, ballot_hash=receipt.ballot_hash,
                                     revote_code=receipt.revote_code,
                                     superseded_previous=receipt.superseded_previous)

    def SignInPersonRegister(self, request, context):
        on_roll, weight, voted = tellers.sign_in_person(self.uow(), current_principal(), request.election_id,
                                                        request.voter_id, self.clock())
        return pb.RollEntry(election_id=request.election_id, voter_id=request.voter_id,
                            on_roll=on_roll, weight=weight, has_voted=voted)

    def UndoSignIn(self, request, context):
        undo = tellers.undo_sign_in(self.uow(), current_principal(), request.election_id, request.voter_id,
                                    request.reason, self.clock())
        return pb.UndoSignInResponse(election_id=request.election_id, voter_id=request.voter_id,
                                     state=undo.state, requested_by=undo.requested_by,
                                     confirmed_by=undo.confirmed_by)

    def ListSignInAudit(self, request, context):
        rows, next_token = tellers.sign_in_audit(self.uow(), current_principal(), request.election_id,
                                                 request.page_size, request.page_token)
        return pb.ListSignInAuditResponse(entries=[msg.sign_in_audit_to_pb(r) for r in rows],
                                          next_page_token=next_token)

    def EnterPaperBallot(self, request, context):
        state, tracker = tellers.enter_paper_ballot(  # answers read against the election it loads
            self.uow(), current_principal(), request.election_id, request.paper_id,
            lambda election: msg.content_from_answers(request.answers, election), self.clock())
        return pb.PaperBallotResponse(paper_id=request.paper_id, state=state, tracker=tracker)

    def GetTurnout(self, request, context):
        voted, size, voted_weight, weight = results.turnout(self.uow(), current_principal(), request.election_id)
        return pb.Turnout(election_id=request.election_id, voted=voted, roll_size=size,
                          voted_weight=voted_weight, roll_weight=weight)

    # -- results
    def CloseElection(self, request, context):
        return msg.results_to_pb(results.close_election(self.uow(), current_principal(), request.election_id,
                                                        self.clock()))

    def GetResults(self, request, context):
        return msg.results_to_pb(results.get_results(self.uow(), current_principal(), request.election_id))

    def GetPublishedBox(self, request, context):
        box, election, published = results.published_box(self.uow(), current_principal(), request.election_id)
        return pb.PublishedBox(election_id=request.election_id, box_json=box, election_json=election,
                               results_json=published)


def build(settings: Settings, clock: Clock = utcnow):
    """The engine, the registration callback and the unit-of-work factory (main() and tests)."""
    return build_service(settings, SqlElectionsUnitOfWork, lambda uow_factory: ElectionsServicer(uow_factory, clock),
                         pb_grpc.add_ElectionsServiceServicer_to_server,
                         pb.DESCRIPTOR.services_by_name["ElectionsService"].full_name)


def main() -> None:
    run_api(SERVICE_NAME, build, tenants=("*",))  # partner cooperatives share the service

if __name__ == "__main__":
    main()
