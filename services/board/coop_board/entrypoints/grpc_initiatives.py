"""InitiativeService (coop.board.v1, proto/coop/board/v1/initiatives.proto), registered by
entrypoints/grpc_api.py. Thin: each method turns the request into plain values, runs one use case
of service_layer/initiatives*.py as the caller, and translates the answer.

Retryable writes carry a request_id (answer_once: the key and the use case in one unit).
Signatures are group-committed (coop_platform.batching.Coalescer): the calls arriving while a
batch runs share the next one's transaction and commit.
UpdateInitiativeDraft, InvitePromoters and AnswerPromoterInvitation need none: sent twice, they
leave the same state. After a signature that brought the count to the threshold, the same request
settles the initiative in a unit of its own (qualification and its forced item): a failure there
is logged, never the signer's, and the worker's timer retries within a minute. GetSignatureCount
reads from the read pool, one statement for the watchers of one initiative asking together."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from coop.board.v1 import initiatives_pb2 as pb
from coop.board.v1 import initiatives_pb2_grpc as pb_grpc
from coop_board.adapters import messages_initiatives as msg
from coop_board.adapters.metrics_initiatives import SIGNATURES
from coop_board.adapters.repository_initiatives import SqlSignatureCountReads
from coop_board.entrypoints.settings_initiatives import initiative_rules
from coop_board.service_layer import initiatives, initiatives_collection
from coop_domain.clock import utcnow
from coop_domain.principal import Principal
from coop_platform import idempotency
from coop_platform.batching import Coalescer
from coop_platform.grpc_server import RetryableWrites, current_principal
from coop_platform.idempotency import idempotent_request
from coop_platform.pbtypes import to_timestamp

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


class InitiativeServicer(pb_grpc.InitiativeServiceServicer, RetryableWrites):
    def __init__(self, uow_factory: Callable[[], Any], clock: Clock = utcnow) -> None:
        self.uow = uow_factory
        self.clock = clock
        self.rules = initiative_rules()
        self.reads = SqlSignatureCountReads(lambda: uow_factory().reading())
        self.signs = Coalescer("board_sign_initiative", self._sign_batch)
        self.count_reads = Coalescer("board_signature_count", self._count_batch, max_batch=256)


    def DraftInitiative(self, request, context):
        def work(uow: Any) -> pb.DraftInitiativeResponse:
            view = initiatives.draft_initiative(uow, current_principal(), request.language,
                                                msg.text_from_pb(request.title), msg.text_from_pb(request.text),
                                                msg.text_from_pb(request.question), self.clock(), self.rules)
            return pb.DraftInitiativeResponse(initiative=msg.initiative_to_pb(view))
        return self._once("DraftInitiative", request, pb.DraftInitiativeResponse, work)

    def UpdateInitiativeDraft(self, request, context):
        view = initiatives.update_draft(self.uow(), current_principal(), request.initiative_id, request.language,
                                        msg.text_from_pb(request.title), msg.text_from_pb(request.text),
                                        msg.text_from_pb(request.question))
        return pb.UpdateInitiativeDraftResponse(initiative=msg.initiative_to_pb(view))

    def InvitePromoters(self, request, context):
        view = initiatives.invite_promoters(self.uow(), current_principal(), request.initiative_id,
                                            list(request.member_ids), self.clock())
        return pb.InvitePromotersResponse(initiative=msg.initiative_to_pb(view))

    def AnswerPromoterInvitation(self, request, context):
        view = initiatives.answer_invitation(self.uow(), current_principal(), request.initiative_id, request.accept,
                                             self.clock())
        return pb.AnswerPromoterInvitationResponse(initiative=msg.initiative_to_pb(view))

    def SubmitInitiative(self, request, context):
        def work(uow: Any) -> pb.SubmitInitiativeResponse:
            view = initiatives.submit_initiative(uow, current_principal(), request.initiative_id, self.clock(),
                                                 self.rules)
            return pb.SubmitInitiativeResponse(initiative=msg.initiative_to_pb(view))
        return self._once("SubmitInitiative", request, pb.SubmitInitiativeResponse, work)

    def DecideAdmissibility(self, request, context):
        def work(uow: Any) -> pb.DecideAdmissibilityResponse:
            view = initiatives.decide_admissibility(uow, current_principal(), request.initiative_id,
                                                    request.admissible, msg.text_from_pb(request.refusal_reason),
                                                    self.clock(), self.rules)
            return pb.DecideAdmissibilityResponse(initiative=msg.initiative_to_pb(view))
        return self._once("DecideAdmissibility", request, pb.DecideAdmissibilityResponse, work)

    def SignInitiative(self, request, context):
        caller = current_principal()
        key = idempotent_request(caller.tenant, caller.subject, "SignInitiative", request)
        response, signed = self.signs.submit((caller, request.initiative_id, key))
        if signed is not None:  # this call did the work (not a replay of the first answer)
            SIGNATURES.labels(change="signed").inc()
            if signed.settle:
                self._settle(caller.tenant, request.initiative_id)
        return response

    def _sign_batch(self, items: Sequence[tuple[Principal, str, Any]]) -> list[Any]:
        """Signatures arriving together: one transaction and one commit (group commit, as for
        ballots). A result is (response, Signed) for a call that signed, (response, None) for a
        replay of a first answer, or the call's refusal."""
        uow, now = self.uow(), self.clock()
        signed: dict[int, initiatives_collection.Signed] = {}

        def work(todo: list[int]) -> list[Any]:
            out: list[Any] = []
            for n, outcome in zip(todo, initiatives_collection.sign_many(uow, [items[n][:2] for n in todo], now),
                                  strict=True):
                if isinstance(outcome, initiatives_collection.Signed):
                    signed[n] = outcome
                    outcome = pb.SignInitiativeResponse(signed_at=to_timestamp(outcome.signed_at),
                                                        signature_count=outcome.signature_count,
                                                        threshold=outcome.threshold)
                out.append(outcome)
            return out

        results, _ = idempotency.answer_batch(uow, [key for _, _, key in items], pb.SignInitiativeResponse, work)
        return [r if isinstance(r, BaseException) else (r, signed.get(n)) for n, r in enumerate(results)]

    def _settle(self, tenant: str, initiative_id: str) -> None:
        try:
            initiatives_collection.settle(self.uow(), tenant, initiative_id, self.clock(), self.rules)
        except Exception:  # noqa: BLE001 - the signature stands; the worker's timer settles it
            log.exception("settling initiative %s after its deciding signature failed", initiative_id)

    def WithdrawSignature(self, request, context):
        done: list[int] = []

        def work(uow: Any) -> pb.WithdrawSignatureResponse:
            count = initiatives_collection.withdraw(uow, current_principal(), request.initiative_id, self.clock())
            done.append(count)
            return pb.WithdrawSignatureResponse(signature_count=count)
        response = self._once("WithdrawSignature", request, pb.WithdrawSignatureResponse, work)
        if done:
            SIGNATURES.labels(change="withdrawn").inc()
        return response

    def GetMySignature(self, request, context):
        at = initiatives_collection.my_signature(self.uow(), current_principal(), request.initiative_id)
        return pb.GetMySignatureResponse(signed=at is not None, signed_at=to_timestamp(at))

    def GetInitiative(self, request, context):
        view = initiatives.get_initiative(self.uow(), current_principal(), request.initiative_id)
        return pb.GetInitiativeResponse(initiative=msg.initiative_to_pb(view))

    def GetSignatureCount(self, request, context):
        return msg.count_to_pb(self.count_reads.submit((current_principal(), request.initiative_id)))

    def _count_batch(self, items: Sequence[tuple[Principal, str]]) -> list[Any]:
        return initiatives_collection.signature_counts(self.reads, items)

    def ListInitiatives(self, request, context):
        views, token = initiatives.list_initiatives(self.uow(), current_principal(), msg.status_from_pb(request.status),
                                                    request.mine, request.page_size, request.page_token)
        return pb.ListInitiativesResponse(initiatives=[msg.initiative_to_pb(v) for v in views], next_page_token=token)

    def ListInitiativeSigners(self, request, context):
        rows, token, total, verified = initiatives_collection.list_signers(
            self.uow(), current_principal(), request.initiative_id, request.page_size, request.page_token,
            self.clock())
        return pb.ListInitiativeSignersResponse(signers=[msg.signer_to_pb(s) for s in rows], next_page_token=token,
                                                signature_count=total, verified_count=verified)

    def PublishInitiativeOutcome(self, request, context):
        def work(uow: Any) -> pb.PublishInitiativeOutcomeResponse:
            view = initiatives.publish_outcome(uow, current_principal(), request.initiative_id,
                                               msg.outcome_from_pb(request.kind), msg.text_from_pb(request.text),
                                               self.clock())
            return pb.PublishInitiativeOutcomeResponse(initiative=msg.initiative_to_pb(view))
        return self._once("PublishInitiativeOutcome", request, pb.PublishInitiativeOutcomeResponse, work)


# (servicer class taking (uow_factory, clock), add_<Service>Servicer_to_server, service full name)
SERVICERS: list[tuple[Any, Any, str]] = [
    (InitiativeServicer, pb_grpc.add_InitiativeServiceServicer_to_server,
     pb.DESCRIPTOR.services_by_name["InitiativeService"].full_name),
]
