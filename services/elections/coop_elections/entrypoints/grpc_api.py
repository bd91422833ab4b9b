"""The elections api process: a plain grpcio server (never eventlet, DESIGN D1).

The servicer implements coop.elections.v2; the frozen v1 API is served from it by
`coop_platform.api_versions.older_version_handler` (v2's requests keep v1's field numbers, its
responses wrap v1's resources). Each method translates the request, runs one use case as the
caller (`current_principal()`: the use case checks tenant and role in its own unit of work) and
translates the answer back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from google.protobuf.duration_pb2 import Duration

from coop.elections.v1 import elections_pb2 as pb1
from coop.elections.v2 import elections_pb2 as pb
from coop.elections.v2 import elections_pb2_grpc as pb_grpc
from coop_domain.clock import utcnow
from coop_domain.errors import InvalidArgument
from coop_elections import SERVICE_NAME
from coop_elections.adapters import messages as msg
from coop_elections.adapters.encrypted_record import record_files
from coop_elections.adapters.unit_of_work import SqlElectionsUnitOfWork
from coop_elections.domain.crypto import group
from coop_elections.domain.crypto.elgamal import CIPHERTEXT_BYTES
from coop_elections.domain.crypto.packed import Joined, published
from coop_elections.domain.crypto.tally import Mapper
from coop_elections.domain.crypto.trustees import DECRYPTION_SHARE_BYTES
from coop_elections.domain.stored import RollSummary
from coop_elections.service_layer import (
    candidacies,
    casting,
    elections,
    encrypted_tally,
    handlers,
    proxies,
    results,
    roll,
    tellers,
    trustees,
)
from coop_elections.service_layer.ports import ElectionsUnitOfWork
from coop_platform.batching import Coalescer
from coop_platform.config import Settings
from coop_platform.grpc_server import build_service, current_principal, run_api
from coop_platform.pbtypes import to_timestamp
from coop_platform.processes import LazyProcessPool

Clock = Callable[[], datetime]
V1 = pb1.DESCRIPTOR.services_by_name["ElectionsService"]
V2 = pb.DESCRIPTOR.services_by_name["ElectionsService"]
ROLL_ENTRIES_PER_MESSAGE = 1000
ROWS_PER_MESSAGE = 1000  # ranking rows of 9 ciphertexts: about 600 kB a message


def _roll(s: RollSummary) -> pb1.VoterRollSummary:
    return pb1.VoterRollSummary(election_id=s.election_id, size=s.size, total_weight=s.total_weight,
                                frozen=s.frozen, sha256=s.sha256)


def _proxy(election_id: str, view: proxies.ProxyView) -> pb1.Proxy:
    giver, holder, status = view
    return pb1.Proxy(election_id=election_id, giver_id=giver, holder_id=holder, status=status)


class ElectionsServicer(pb_grpc.ElectionsServiceServicer):
    def __init__(self, uow_factory: Callable[[], ElectionsUnitOfWork], clock: Clock = utcnow,
                 cpu_mapper: Mapper = map) -> None:
        self.uow = uow_factory
        self.clock = clock
        # the CPU-bound checks of CastBallot (encrypted), SubmitMix, SubmitDecryptionShares and
        # FinishTally, and FinishTally's combining
        self.cpu_mapper = cpu_mapper
        # Ballots arriving together (own, proxy, re-votes) share one transaction: one commit, and
        # none is alone in its transaction when others arrive with it (docs/elections.md, Secrecy).
        self.casts = Coalescer("elections_cast_ballot", lambda batch: casting.cast_ballots(uow_factory(), batch))

    # -- elections
    def CreateElection(self, request, context):
        spec = msg.spec_from_pb(request)
        e = elections.create_election(
            self.uow(), current_principal(), spec, self.clock(), request.request_id,
            msg.request_fingerprint(request) if request.request_id else "", cutoff_given=bool(request.roll_cutoff))
        return pb.CreateElectionResponse(election=msg.election_to_pb(e), close_time=to_timestamp(e.closes_at))

    def GetElection(self, request, context):
        e = elections.get_election(self.uow(), current_principal(), request.election_id)
        return pb.GetElectionResponse(election=msg.election_to_pb(e))

    def ListElections(self, request, context):
        found, token = elections.list_elections(self.uow(), current_principal(), request.page_size,
                                                request.page_token)
        return pb.ListElectionsResponse(elections=[msg.election_to_pb(e) for e in found], next_page_token=token)

    def OpenElection(self, request, context):
        e = elections.open_election(self.uow(), current_principal(), request.election_id, self.clock())
        return pb.OpenElectionResponse(election=msg.election_to_pb(e))

    # -- roll
    def ImportVoterRoll(self, request, context):
        entries = [(v.voter_id, v.weight if v.weight else 1) for v in request.voters]
        summary = roll.import_roll(self.uow(), current_principal(), request.election_id, entries, self.clock())
        return pb.ImportVoterRollResponse(roll=_roll(summary))

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
        return pb.StreamVoterRollResponse(report=pb1.VoterRollImportReport(
            rows_received=report.rows_received, committed=report.committed,
            rows_imported=report.rows_received if report.committed else 0,
            errors=[pb1.VoterRollImportError(line=line, field=f, message=m) for line, f, m in report.errors],
            roll=_roll(report.summary) if report.summary else None))

    def BuildVoterRollFromMembers(self, request, context):
        summary = roll.build_roll_from_members(self.uow(), current_principal(), request.election_id, self.clock())
        return pb.BuildVoterRollFromMembersResponse(roll=_roll(summary))

    def FreezeVoterRoll(self, request, context):
        summary = roll.freeze_roll(self.uow(), current_principal(), request.election_id, self.clock())
        return pb.FreezeVoterRollResponse(roll=_roll(summary))

    def GetVoterRoll(self, request, context):
        summary = roll.roll_summary(self.uow(), current_principal(), request.election_id, self.clock())
        return pb.GetVoterRollResponse(roll=_roll(summary))

    def CheckMyRollEntry(self, request, context):
        p = current_principal()
        on_roll, weight, voted = roll.my_roll_entry(self.uow(), p, request.election_id)
        return pb.CheckMyRollEntryResponse(entry=pb1.RollEntry(
            election_id=request.election_id, voter_id=p.subject, on_roll=on_roll, weight=weight, has_voted=voted))

    def StreamVoterRollEntries(self, request, context) -> Iterator[pb.StreamVoterRollEntriesResponse]:
        summary, entries = roll.frozen_roll_entries(self.uow(), current_principal(), request.election_id,
                                                    self.clock())
        message = pb.StreamVoterRollEntriesResponse(roll=_roll(summary))
        for voter_id, weight in entries:  # read a page at a time, sent as produced
            message.entries.append(pb1.VoterEntry(voter_id=voter_id, weight=weight))
            if len(message.entries) == ROLL_ENTRIES_PER_MESSAGE:
                yield message
                message = pb.StreamVoterRollEntriesResponse()
        if message.entries or message.HasField("roll"):
            yield message

    def GetProjectionReadiness(self, request, context):
        ready = handlers.projection_readiness(self.uow(), current_principal(), self.clock())
        lag = None
        if ready.lag_seconds is not None:
            lag = Duration()
            lag.FromMicroseconds(int(ready.lag_seconds * 1_000_000))
        return pb.GetProjectionReadinessResponse(
            members=ready.members, last_event_time=to_timestamp(ready.last_event_time),
            last_applied_time=to_timestamp(ready.last_applied_at), lag=lag)

    # -- candidacies
    def SubmitCandidacy(self, request, context):
        row = candidacies.submit_candidacy(self.uow(), current_principal(), request.election_id,
                                           request.question_id, msg.texts_from_pb(request.statement), self.clock())
        return pb.SubmitCandidacyResponse(candidacy=msg.candidacy_to_pb(row))

    def WithdrawCandidacy(self, request, context):
        row = candidacies.withdraw_candidacy(self.uow(), current_principal(), request.election_id,
                                             request.question_id, self.clock())
        return pb.WithdrawCandidacyResponse(candidacy=msg.candidacy_to_pb(row))

    def ListCandidacies(self, request, context):
        rows = candidacies.list_candidacies(self.uow(), current_principal(), request.election_id,
                                            request.question_id, self.clock())
        return pb.ListCandidaciesResponse(candidacies=[msg.candidacy_to_pb(r) for r in rows])

    # -- proxies
    def GiveProxy(self, request, context):
        view = proxies.give_proxy(self.uow(), current_principal(), request.election_id, request.holder_id,
                                  self.clock())
        return pb.GiveProxyResponse(proxy=_proxy(request.election_id, view))

    def RevokeProxy(self, request, context):
        view = proxies.revoke_proxy(self.uow(), current_principal(), request.election_id)
        return pb.RevokeProxyResponse(proxy=_proxy(request.election_id, view))

    # -- voting
    def CastBallot(self, request, context):
        def content(election):  # read inside the cast's own transaction (one election read)
            return msg.content_from_answers(request.answers, election)

        if request.encrypted_ballot:  # its proofs are checked in the api's pool, before the batch
            if request.answers:
                raise InvalidArgument("give answers or encrypted_ballot, not both", field="answers",
                                      reason="ANSWERS_AND_ENCRYPTED_BALLOT")
            content = trustees.prepare_encrypted_ballot(self.uow(), current_principal(), request.election_id,
                                                        request.encrypted_ballot, self.clock(), self.cpu_mapper)
        receipt = self.casts.submit(casting.Cast(
            current_principal(), request.election_id, content, self.clock(), request.previous_tracker,
            request.previous_revote_code, request.on_behalf_of, request.ballot_key))
        return pb.CastBallotResponse(tracker=receipt.tracker, ballot_hash=receipt.ballot_hash,
                                     revote_code=receipt.revote_code,
                                     superseded_previous=receipt.superseded_previous)

    def SignInPersonRegister(self, request, context):
        on_roll, weight, voted = tellers.sign_in_person(self.uow(), current_principal(), request.election_id,
                                                        request.voter_id, self.clock())
        return pb.SignInPersonRegisterResponse(entry=pb1.RollEntry(
            election_id=request.election_id, voter_id=request.voter_id, on_roll=on_roll, weight=weight,
            has_voted=voted))

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
        return pb.EnterPaperBallotResponse(paper_id=request.paper_id, state=state, tracker=tracker)

    def GetTurnout(self, request, context):
        voted, size, voted_weight, weight = results.turnout(self.uow(), current_principal(), request.election_id)
        return pb.GetTurnoutResponse(turnout=pb1.Turnout(
            election_id=request.election_id, voted=voted, roll_size=size, voted_weight=voted_weight,
            roll_weight=weight))

    # -- results
    def CloseElection(self, request, context):
        published = results.close_election(self.uow(), current_principal(), request.election_id, self.clock())
        if published.get("status") == "tallying":
            return pb.CloseElectionResponse(results=pb1.Results(election_id=published["election_id"]),
                                            status=pb1.ELECTION_STATUS_TALLYING)
        return pb.CloseElectionResponse(results=msg.results_to_pb(published),
                                        stv_counts=msg.stv_counts_to_pb(published), status=pb1.ELECTION_STATUS_CLOSED)

    def GetResults(self, request, context):
        published = results.get_results(self.uow(), current_principal(), request.election_id)
        return pb.GetResultsResponse(results=msg.results_to_pb(published), stv_counts=msg.stv_counts_to_pb(published))

    def GetPublishedBox(self, request, context):
        box, election, published = results.published_box(self.uow(), current_principal(), request.election_id)
        return pb.GetPublishedBoxResponse(box=pb1.PublishedBox(
            election_id=request.election_id, box_json=box, election_json=election, results_json=published))


    # -- encrypted elections
    def PublishTrusteeKey(self, request, context):
        state = trustees.publish_trustee_key(self.uow(), current_principal(), request.election_id, request.trustee,
                                             request.commitment, request.transport_public_key, self.clock())
        return pb.PublishTrusteeKeyResponse(key=_key(state))

    def GetElectionKey(self, request, context):
        return pb.GetElectionKeyResponse(key=_key(trustees.election_key_state(self.uow(), current_principal(),
                                                                                request.election_id)))

    def GetTallyState(self, request, context):
        state = encrypted_tally.tally_state(self.uow(), current_principal(), request.election_id)
        return pb.GetTallyStateResponse(tally=_tally(state))

    def StreamMixInput(self, request, context) -> Iterator[pb.StreamMixInputResponse]:
        step, mixer, rows = encrypted_tally.mix_input(self.uow(), current_principal(), request.election_id,
                                                      request.question_id)
        for start in range(0, max(len(rows), 1), ROWS_PER_MESSAGE):
            yield pb.StreamMixInputResponse(step=step, mixer=mixer, total_rows=len(rows), rows=[
                pb.CiphertextRow(ciphertexts=[ct.to_bytes() for ct in row]) for row in rows[start:start + ROWS_PER_MESSAGE]])

    def SubmitMix(self, request_iterator, context):
        header, rows, proof = receive_mix(request_iterator)
        state = encrypted_tally.submit_mix(self.uow(), current_principal(), header.election_id, header.question_id,
                                           header.step, rows, proof, self.clock(), self.cpu_mapper)
        return pb.SubmitMixResponse(tally=_tally(state))

    def StreamTallyCiphertexts(self, request, context) -> Iterator[pb.StreamTallyCiphertextsResponse]:
        ciphertexts = encrypted_tally.tally_ciphertexts(self.uow(), current_principal(), request.election_id)
        chunk = ROWS_PER_MESSAGE * 9
        for start in range(0, max(len(ciphertexts), 1), chunk):
            yield pb.StreamTallyCiphertextsResponse(total=len(ciphertexts),
                                                    ciphertexts=list(published(ciphertexts[start:start + chunk])))

    def SubmitDecryptionShares(self, request_iterator, context):
        header, shares = receive_shares(request_iterator)
        state = encrypted_tally.submit_decryption_shares(self.uow(), current_principal(), header.election_id,
                                                         header.trustee, shares, self.clock(), self.cpu_mapper)
        return pb.SubmitDecryptionSharesResponse(tally=_tally(state))

    def FinishTally(self, request, context):
        published = encrypted_tally.finish_tally(self.uow(), current_principal(), request.election_id, self.clock(),
                                                 self.cpu_mapper)
        return pb.FinishTallyResponse(results=msg.results_to_pb(published), stv_counts=msg.stv_counts_to_pb(published))

    def StreamEncryptedRecord(self, request, context) -> Iterator[pb.StreamEncryptedRecordResponse]:
        with encrypted_tally.published_record(self.uow(), current_principal(), request.election_id) as source:
            for name, chunks in record_files(source):  # about a megabyte a message, read as sent
                for chunk in chunks:
                    yield pb.StreamEncryptedRecordResponse(file_name=name, chunk=chunk)


def receive_mix(request_iterator) -> tuple[pb.MixHeader, Joined, bytes]:
    """SubmitMix's stream: its header, the rows joined as they come (a full mix's 24 MiB, not
    also 375,318 bytes objects in lists) and the proof."""
    header, rows, proof = None, Joined(CIPHERTEXT_BYTES), bytearray()
    for part in request_iterator:
        header = _header(header, part)
        if part.WhichOneof("part") == "rows":
            rows.extend_rows(row.ciphertexts for row in part.rows.rows)
        elif part.WhichOneof("part") == "proof_chunk":
            proof += part.proof_chunk
    return _required(header), rows, bytes(proof)


def receive_shares(request_iterator) -> tuple[pb.DecryptionHeader, Joined]:
    """SubmitDecryptionShares' stream: its header and the shares joined as they come (a full
    tally's 48 MiB, not also 375,321 bytes objects in a list)."""
    header, shares = None, Joined(DECRYPTION_SHARE_BYTES)
    for part in request_iterator:
        header = _header(header, part)
        if part.WhichOneof("part") == "shares":
            shares.extend(part.shares.shares)
    return _required(header), shares


def _required(header):
    if header is None:
        raise InvalidArgument("the stream starts with a header", field="header", reason="HEADER_MISSING")
    return header


def _header(header, part):
    """The stream's header: its first message, and only that one."""
    kind = part.WhichOneof("part")
    if kind == "header":
        if header is not None:
            raise InvalidArgument("one header per stream", field="header", reason="HEADER_TWICE")
        return part.header
    return _required(header)


def _tally(state: encrypted_tally.TallyState) -> pb.TallyState:
    return pb.TallyState(
        election_id=state.election_id, threshold=state.threshold, mixes_complete=state.mixes_complete,
        decrypted_by=list(state.decrypted_by), missing_trustees=list(state.missing_trustees),
        ready_to_finish=state.ready_to_finish,
        mixes=[pb.QuestionMixes(question_id=q.question_id, done_by=list(q.done_by), next_mixer=q.next_mixer,
                                rows=q.rows) for q in state.mixes])


def _key(state: trustees.KeyState) -> pb.ElectionKey:
    return pb.ElectionKey(
        election_id=state.election_id, threshold=state.threshold, missing=list(state.missing),
        public_key=state.public_key, election_json=state.election_json,
        trustees=[pb.PublishedTrusteeKey(trustee=p.trustee, trustee_id=p.trustee_id, commitment=p.commitment,
                                         transport_public_key=p.transport_key,
                                         published_at=to_timestamp(p.published_at)) for p in state.published])


def log_crypto_backend() -> None:
    """Say at start which library sums the proof checks' multiples: without libdecaf0 the
    api still checks every proof, but 1.3-3x slower, and operations should know why."""
    logger = logging.getLogger(__name__)
    if group.ACCELERATED:
        logger.info("proof checks sum their multiples through libdecaf")
    else:
        logger.warning("libdecaf0 is not installed: proof checks fall back to libsodium, 1.3-3x "
                       "slower (apt-get install libdecaf0, or `make native`)")


def build(settings: Settings, clock: Clock = utcnow):
    """The engine, the registration callback (v2 and the v1 bridge; both names for health) and
    the unit-of-work factory (main() and tests)."""
    log_crypto_backend()
    cpu_pool = LazyProcessPool(settings.cpu_processes)

    def make(uow_factory: Callable[[], ElectionsUnitOfWork]) -> ElectionsServicer:
        return ElectionsServicer(uow_factory, clock, cpu_pool.map)

    return build_service(settings, SqlElectionsUnitOfWork, make, pb_grpc.add_ElectionsServiceServicer_to_server,
                         V2.full_name, older_versions=[(V1, V2)])


def main() -> None:
    run_api(SERVICE_NAME, build)  # tenants "*" (manifest): partner cooperatives share the service


if __name__ == "__main__":
    main()
