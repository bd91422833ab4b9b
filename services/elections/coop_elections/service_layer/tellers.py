"""Use cases of the tellers at the General Assembly: sign voters into the in-person register
(four eyes to undo it), enter each paper ballot twice, and the audit of sign-ins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal
from coop_elections.domain.canonical import canonical_json
from coop_elections.domain.election import check_id
from coop_elections.domain.events import VoterVoted
from coop_elections.domain.stored import StoredElection
from coop_elections.domain.validation import validate_ballot
from coop_elections.service_layer.casting import Content, store_ballot
from coop_elections.service_layer.common import (
    MANAGERS,
    TELLERS,
    check_open,
    counting_definition,
    load,
)
from coop_elections.service_layer.ports import ElectionsUnitOfWork


def _open_for_voting(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, now: datetime) -> StoredElection:
    # A shared lock: many sign-ins at once, but the close (exclusive) waits for them.
    return check_open(load(uow, caller, election_id, lock="share"), now)


SIGNED_IN, UNDO_REQUESTED, UNDONE = "signed_in", "undo_requested", "undone"


def _signed_in_by(uow: ElectionsUnitOfWork, election_id: str, voter_id: str) -> str | None:
    """The teller whose sign-in of this voter stands, or None."""
    if uow.elections.register_channel(election_id, voter_id) != "in_person":
        return None
    last = uow.elections.last_sign_in_audit(election_id, voter_id, SIGNED_IN)
    return last.teller_id if last is not None else None


def sign_in_person(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, voter_id: str,
                   now: datetime) -> tuple[bool, int, bool]:
    """A teller signs a voter into the in-person register; the audit records the teller. Nothing
    here touches a ballot: the paper ballot the voter then drops carries no voter. Signed in is
    voted (the register says so, and so does election.voted): the paper ballots are not tied to
    anyone, and a voter signed in can no longer vote online."""
    caller.require(*TELLERS)
    teller = caller.subject
    check_id(voter_id, "voter_id")
    with uow:
        e = _open_for_voting(uow, caller, election_id, now)
        entry = uow.elections.roll_entry(e.election_id, voter_id)
        if entry is None:
            raise FailedPrecondition("not on the voter roll of this election", field="voter_id", reason="NOT_ON_ROLL")
        if int(entry.weight) != 1:
            raise FailedPrecondition("paper ballots are for one-member-one-vote elections", reason="WEIGHTED_ROLL")
        if not uow.elections.mark_voted(e.election_id, voter_id, "in_person"):
            by = _signed_in_by(uow, e.election_id, voter_id)
            if by == teller:  # a retry of this teller's sign-in: the same answer
                return True, int(entry.weight), True
            raise AlreadyExists("this voter has already voted online or by proxy" if by is None
                                else f"this voter was already signed in by teller {by}", field="voter_id",
                                reason="ALREADY_VOTED" if by is None else "ALREADY_SIGNED_IN")
        uow.elections.set_proxy_status(e.election_id, voter_id, "active", "voided")
        uow.elections.add_sign_in_audit(e.election_id, voter_id, teller, SIGNED_IN, "", now)
        uow.publish(VoterVoted(e, voter_id, now))
        uow.commit()
        return True, int(entry.weight), True


@dataclass
class UndoState:
    state: str  # pending | undone
    requested_by: str
    confirmed_by: str


def undo_sign_in(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, voter_id: str,
                 reason: str, now: datetime) -> UndoState:
    """Four eyes: a first teller asks to undo a sign-in, a second, different one confirms; then the
    voter leaves the register. Refused while as many paper ballots are counted as voters are
    signed in, since one of them may be this voter's."""
    caller.require(*TELLERS)
    teller = caller.subject
    check_id(voter_id, "voter_id")
    reason = reason.strip()
    if not 1 <= len(reason) <= 500:
        raise InvalidArgument("reason: give the reason for the undo (1-500 characters)", field="reason",
                              reason="REASON_REQUIRED")
    with uow:
        # exclusive: counted paper ballots and signed-in voters are compared, so no paper may be
        # counted meanwhile (the close waits too)
        e = check_open(load(uow, caller, election_id, lock="update"), now)
        pending = uow.elections.pending_undo(e.election_id, voter_id)
        if uow.elections.register_channel(e.election_id, voter_id) != "in_person":
            done = uow.elections.last_sign_in_audit(e.election_id, voter_id)
            if done is not None and done.action == UNDONE and done.teller_id == teller:  # a retry
                asked = uow.elections.last_sign_in_audit(e.election_id, voter_id, UNDO_REQUESTED)
                return UndoState(UNDONE, asked.teller_id if asked else "", teller)
            raise FailedPrecondition("this voter is not signed in at the Assembly", field="voter_id",
                                     reason="NOT_SIGNED_IN")
        if pending is None:
            uow.elections.add_pending_undo(e.election_id, voter_id, teller, reason)
            uow.elections.add_sign_in_audit(e.election_id, voter_id, teller, UNDO_REQUESTED, reason, now)
            uow.commit()
            return UndoState("pending", teller, "")
        if pending.requested_by == teller:  # the same teller again: a second teller must confirm
            return UndoState("pending", teller, "")
        if uow.elections.papers_counted(e.election_id) >= uow.elections.in_person_count(e.election_id):
            raise FailedPrecondition("as many paper ballots are counted as voters are signed in: one may be "
                                     "this voter's, so the sign-in stays", reason="PAPER_MAY_BE_THEIRS")
        uow.elections.unmark_in_person(e.election_id, voter_id)
        uow.elections.drop_pending_undo(e.election_id, voter_id)
        uow.elections.add_sign_in_audit(e.election_id, voter_id, teller, UNDONE, pending.reason, now)
        uow.commit()
        return UndoState(UNDONE, pending.requested_by, teller)


MAX_AUDIT_PAGE = 1000


def sign_in_audit(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, requested_size: int,
                  page_token: str) -> tuple[list[Any], str]:
    """One page of an election's sign-in audit, oldest first, and the token of the next page."""
    caller.require(*MANAGERS)
    if requested_size > MAX_AUDIT_PAGE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_AUDIT_PAGE}", field="page_size",
                              reason="INVALID_PAGE_SIZE")
    size = page_size(requested_size, default=100, maximum=MAX_AUDIT_PAGE)
    position = decode_page_token(page_token, "sign_in_audit", 1)
    after = position[0] if position else 0
    if not isinstance(after, int):
        raise InvalidArgument("page_token is not one this service gave", field="page_token", reason="INVALID_PAGE_TOKEN")
    with uow:
        uow.read_only()
        e = load(uow, caller, election_id)
        rows = uow.elections.sign_in_audit_page(e.election_id, after, size + 1)
    more = len(rows) > size
    rows = rows[:size]
    return rows, encode_page_token("sign_in_audit", rows[-1].sequence) if more else ""


def enter_paper_ballot(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, paper_id: str,
                       content: Content, now: datetime) -> tuple[str, str]:
    """`content` may be a function of the election, as for cast_ballot (one election read)."""
    caller.require(*TELLERS)
    teller = caller.subject
    with uow:
        e = load(uow, caller, election_id, lock="share")  # shared: the close waits for entries
        if callable(content):
            content = content(e)
        check_id(paper_id, "paper_id")
        check_open(e, now)
        if e.spec.encryption is not None:
            raise FailedPrecondition("this election's ballots are encrypted: a paper ballot cannot be entered in the "
                                     "clear (scan it with the voter's client instead)", reason="PAPER_BALLOT_IN_ENCRYPTED_ELECTION")
        normalised = validate_ballot(counting_definition(uow, e), content)
        content_json = canonical_json(normalised).decode()
        row = uow.elections.paper(e.election_id, paper_id)
        if row is None:
            if not uow.elections.add_paper(e.election_id, paper_id, content_json, teller):
                raise AlreadyExists("this paper ballot is being entered by another teller; retry", field="paper_id",
                                    reason="PAPER_BEING_ENTERED")
            uow.commit()
            return "pending", ""
        if row.state == "counted":
            if row.content == content_json:  # a retry of an entry of this paper: the state it is in
                return "counted", row.tracker
            raise AlreadyExists(f"paper ballot {paper_id} is already counted, with other answers", field="paper_id",
                                reason="PAPER_COUNTED")
        if row.first_teller == teller:
            if row.content == content_json:  # a retry of the first entry: the first answer
                return "pending", ""
            raise FailedPrecondition("the second entry must come from another teller", field="paper_id",
                                     reason="SAME_TELLER")
        if row.content != content_json:
            uow.elections.drop_paper(e.election_id, paper_id)  # both tellers start again
            uow.commit()
            return "mismatch", ""
        if uow.elections.papers_counted(e.election_id) >= uow.elections.in_person_count(e.election_id):
            raise FailedPrecondition("more paper ballots than voters signed in at the Assembly",
                                     reason="MORE_PAPERS_THAN_SIGNED_IN")
        tracker, _ = store_ballot(uow, e, normalised, 1)
        uow.elections.set_paper(e.election_id, paper_id, state="counted", tracker=tracker)
        uow.commit()
        return "counted", tracker
