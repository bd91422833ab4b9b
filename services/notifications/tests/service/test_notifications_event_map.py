"""Events become delivery rows through the mapping table (adapters/event_map.py): the right
notification, to the right members, once per event whatever the redeliveries."""

from __future__ import annotations

import uuid

import pytest
from notif_helpers import seed_member

from coop_notifications.adapters.event_map import ROUTES
from coop_notifications.adapters.events_in import CONSUMED, MalformedEvent, effect_for
from coop_notifications.domain.catalog import NOTIFICATIONS, Priority
from coop_notifications.domain.ledger import Channel, State
from coop_notifications.domain.mapping import localize
from coop_notifications.service_layer.handlers import ProjectionRolls
from coop_platform.envelope import make_envelope
from coop_platform.inbox import process_once


def _deliver(env, source: str, name: str, data: dict) -> str:
    envelope = make_envelope(source, name, data)
    effect = effect_for(source, name, ProjectionRolls(), env.clock)
    assert process_once(env.uow_factory, f"notifications.test.{name}", envelope, effect)
    assert not process_once(env.uow_factory, f"notifications.test.{name}", envelope, effect)  # redelivered
    return envelope["id"]


def _rows(env, event_id: str) -> dict:
    with env.uow_factory() as uow:
        return {(d.recipient_id, d.channel): d for d in uow.ledger.of_event(event_id)}


def test_every_route_is_consumed_and_names_a_catalog_notification() -> None:
    assert {(r.source, r.event) for r in ROUTES} <= set(CONSUMED)
    assert all(r.notification in NOTIFICATIONS for r in ROUTES)


def test_an_admission_updates_the_recipient_then_welcomes_them_by_mail_and_in_app(env) -> None:
    mid = str(uuid.uuid4())
    event_id = _deliver(env, "membership", "member.admitted", {"member": {
        "memberId": mid, "memberNumber": "M000777", "givenName": "Lien", "email": "lien@example.org",
        "preferredLanguage": "nl", "joinedOn": "2027-03-01"}, "readmission": False})
    rows = _rows(env, event_id)
    assert set(rows) == {(mid, Channel.EMAIL), (mid, Channel.INAPP)}
    mail = rows[(mid, Channel.EMAIL)]
    assert (mail.notification, mail.state, mail.priority) == ("member_welcome", State.PENDING, Priority.TRANSACTIONAL)
    assert mail.context == {"joined_on": "2027-03-01", "readmission": False}
    with env.uow_factory() as uow:
        assert uow.recipients.get("coop", mid).email == "lien@example.org"


def test_a_status_change_reaches_the_member(env) -> None:
    mid = seed_member(env)
    event_id = _deliver(env, "membership", "member.status_changed", {
        "memberId": mid, "fromStatus": "MEMBER_STATUS_ACTIVE", "toStatus": "MEMBER_STATUS_SUSPENDED",
        "reason": "unpaid share", "inGoodStanding": False})
    ctx = _rows(env, event_id)[(mid, Channel.EMAIL)].context
    assert ctx == {"from_status": "active", "to_status": "suspended", "reason": "unpaid share",
                   "in_good_standing": False}


def test_contract_payroll_and_payout_events_of_billing_reach_the_member_they_concern(env) -> None:
    mid = seed_member(env)
    contract = {"contractId": "c-9", "memberId": mid, "terms": {
        "startDate": "2027-04-01", "endDate": "2027-04-30", "grossCents": "312500", "jobTitle": "Sound engineer"}}
    created = _deliver(env, "billing", "contract.created", {
        "contract": contract, "employee": {"memberId": mid, "preferredLanguage": "fr"}})
    paid = _deliver(env, "billing", "contract.payroll_recorded", {
        "contract": contract, "employee": {"memberId": mid},
        "run": {"contractId": "c-9", "payrollReference": "PR-17", "paidOn": "2027-04-30",
                "cost": {"grossCents": "156250", "totalCents": "250000"}}})
    payout = _deliver(env, "billing", "distribution.payout", {
        "envelopeId": "env-1", "envelopeName": "Surplus 2026", "memberId": mid, "amountCents": "4210"})
    assert _rows(env, created)[(mid, Channel.EMAIL)].context == {
        "contract_id": "c-9", "job_title": "Sound engineer", "start_date": "2027-04-01", "end_date": "2027-04-30",
        "gross_cents": 312500, "currency": "EUR"}
    assert _rows(env, paid)[(mid, Channel.EMAIL)].context == {
        "contract_id": "c-9", "paid_on": "2027-04-30", "payroll_reference": "PR-17", "gross_cents": 156250,
        "currency": "EUR"}
    row = _rows(env, payout)[(mid, Channel.EMAIL)]
    assert (row.notification, row.priority) == ("distribution_payout", Priority.TRANSACTIONAL)
    assert row.context == {"envelope_id": "env-1", "envelope_name": "Surplus 2026", "amount_cents": 4210,
                           "currency": "EUR"}


def test_a_closed_year_tells_every_member_of_it_but_applicants_that_their_statement_is_ready(env) -> None:
    from coop_domain.membership import MemberChanged
    from coop_notifications.service_layer.recipients import apply_member_fact

    active, resigned, applicant = seed_member(env), seed_member(env, language="fr"), seed_member(env)
    with env.uow_factory() as uow:
        apply_member_fact(uow, MemberChanged(resigned, env.clock(), status="resigned"))
        apply_member_fact(uow, MemberChanged(applicant, env.clock(), status="applicant"))
        uow.commit()
    event_id = _deliver(env, "billing", "year.closed", {"year": 2026, "closedAt": "2027-01-10T09:00:00Z"})
    rows = _rows(env, event_id)
    assert {m for m, channel in rows if channel == Channel.EMAIL} >= {active, resigned}
    assert not any(m == applicant for m, _ in rows)
    row = rows[(resigned, Channel.EMAIL)]
    assert (row.notification, row.priority, row.context) == ("statement_available", Priority.TRANSACTIONAL,
                                                             {"year": 2026})


def test_a_contract_event_without_its_member_is_refused_as_malformed(env) -> None:
    envelope = make_envelope("billing", "contract.created", {"contract": {"contractId": "c-0"}})
    with pytest.raises(MalformedEvent, match="employee"):
        process_once(env.uow_factory, "notifications.test.contract.created", envelope,
                     effect_for("billing", "contract.created", ProjectionRolls(), env.clock))


def test_an_assembly_convocation_never_lends_its_title_to_the_election_it_names(env) -> None:
    """The convocation names the Assembly's board election; its title is the Assembly's. Taken for
    the election's, it broke that election's reminder (found by the notifications benchmark)."""
    mid = seed_member(env)
    election = f"el-{uuid.uuid4().hex[:6]}"
    _deliver(env, "elections", "election.roll_frozen", {
        "electionId": election, "tenant": "coop", "opensAt": "2027-03-01T09:00:00Z",
        "closesAt": "2027-03-08T18:00:00Z", "rollSize": "1", "titles": {"fr": "Élection du conseil"},
        "part": 1, "parts": 1, "voterIds": [mid]})
    _deliver(env, "board", "assembly.convened", {
        "assemblyId": "ga-1", "tenant": "coop", "memberId": mid, "language": "fr", "title": "Assemblée générale",
        "startsAt": "2027-06-12T08:00:00Z", "electionId": election})
    reminder = _deliver(env, "elections", "election.closing_soon", {
        "electionId": election, "tenant": "coop", "closesAt": "2027-03-08T18:00:00Z", "nonVoters": [mid]})
    title = _rows(env, reminder)[(mid, Channel.EMAIL)].context["title"]
    assert localize(title, "fr") == "Élection du conseil"


def test_the_reminder_goes_only_to_the_non_voters_the_event_names(env) -> None:
    voted, not_yet = seed_member(env), seed_member(env)
    event_id = _deliver(env, "elections", "election.closing_soon", {
        "electionId": "el-1", "tenant": "coop", "closesAt": "2027-03-02T18:00:00Z", "nonVoters": [not_yet]})
    rows = _rows(env, event_id)
    assert {m for m, _ in rows} == {not_yet} and voted not in {m for m, _ in rows}
    assert rows[(not_yet, Channel.EMAIL)].priority == Priority.REMINDER


def test_the_frozen_roll_is_invited_part_by_part_with_its_titles_and_hears_the_results(env) -> None:
    on_roll = [seed_member(env) for _ in range(3)]
    in_good_standing_but_not_on_the_roll = seed_member(env)
    with env.uow_factory() as uow:
        from dataclasses import replace
        for m in [*on_roll, in_good_standing_but_not_on_the_roll]:
            uow.recipients.save(replace(uow.recipients.get("coop", m), in_good_standing=True))
        uow.commit()
    election = f"el-{uuid.uuid4().hex[:6]}"
    parts = [on_roll[:2], on_roll[2:]]
    invitations = [_deliver(env, "elections", "election.roll_frozen", {
        "electionId": election, "tenant": "coop", "opensAt": "2027-03-01T09:00:00Z",
        "closesAt": "2027-03-08T18:00:00Z", "rollSize": "3", "titles": {"fr": "Élection", "nl": "Verkiezing"},
        "part": k, "parts": 2, "voterIds": voters}) for k, voters in enumerate(parts, 1)]
    invited = {m for event_id in invitations for m, _ in _rows(env, event_id)}
    assert invited == set(on_roll)  # exactly the roll: a member in good standing off the roll is not invited
    ctx = _rows(env, invitations[0])[(on_roll[0], Channel.EMAIL)].context
    assert localize(ctx, "nl")["title"] == "Verkiezing" and localize(ctx, "en")["title"] == "Élection"
    # the reminder and the results carry no title: the invitation's is added
    reminder = _deliver(env, "elections", "election.closing_soon", {
        "electionId": election, "tenant": "coop", "closesAt": "2027-03-08T18:00:00Z", "nonVoters": [on_roll[0]]})
    assert localize(_rows(env, reminder)[(on_roll[0], Channel.EMAIL)].context, "nl")["title"] == "Verkiezing"
    results = _deliver(env, "elections", "election.results_published", {
        "electionId": election, "tenant": "coop", "ballots": "2"})
    assert {m for m, _ in _rows(env, results)} == set(on_roll)
    with env.uow_factory() as uow:  # the results had their audience: the roll is forgotten
        assert uow.election_voters.of("coop", election) == []


def test_a_roll_part_naming_an_empty_voter_is_refused_as_malformed(env) -> None:
    envelope = make_envelope("elections", "election.roll_frozen", {
        "electionId": "el-x", "tenant": "coop", "part": 1, "parts": 1, "voterIds": ["m1", ""]})
    with pytest.raises(MalformedEvent, match="empty voter id"):
        process_once(env.uow_factory, "notifications.test.roll", envelope,
                     effect_for("elections", "election.roll_frozen", ProjectionRolls(), env.clock))


def test_the_assembly_convocation_is_a_legal_notice_that_ignores_opt_outs(env) -> None:
    mid = seed_member(env)
    with env.uow_factory() as uow:
        for category in ("assembly", "board", "membership"):
            uow.preferences.set("coop", mid, category, True, env.clock())
        uow.commit()
    event_id = _deliver(env, "board", "assembly.convened", {
        "assemblyId": "ga-2027", "tenant": "coop", "memberId": mid, "language": "nl", "title": "AV 2027",
        "startsAt": "2027-05-15T09:00:00Z", "place": "Brussel", "registrationDeadline": "2027-05-01T00:00:00Z",
        "agenda": ["Opening", "Jaarrekening"], "documents": [{"title": "Jaarverslag", "reference": "doc-1"}],
        "electionId": "el-3"})
    mail = _rows(env, event_id)[(mid, Channel.EMAIL)]
    assert (mail.notification, mail.priority, mail.state) == ("assembly_convocation", Priority.LEGAL, State.PENDING)
    assert mail.context["agenda"] == ["Opening", "Jaarrekening"]
    assert mail.context["documents"] == [{"title": "Jaarverslag", "reference": "doc-1"}]


def test_an_event_naming_nobody_or_of_another_type_is_refused_as_malformed(env) -> None:
    effect = effect_for("board", "assembly.convened", ProjectionRolls(), env.clock)
    for envelope in (make_envelope("board", "assembly.convened", {"assemblyId": "ga", "tenant": "coop"}),
                     make_envelope("board", "question.answered", {"authorMemberId": "m"})):
        with pytest.raises(MalformedEvent), env.uow_factory() as uow:
            effect(uow, envelope)


def test_an_initiatives_title_from_its_submission_reaches_its_progress_notices(env) -> None:
    promoter = seed_member(env)
    iid = str(uuid.uuid4())
    _deliver(env, "board", "initiative.submitted", {
        "initiativeId": iid, "tenant": "coop", "promoterIds": [promoter],
        "title": {"fr": "Vélos", "nl": "Fietsen", "en": "Bikes"}, "submittedAt": "2027-03-01T09:00:00Z"})
    progress = _deliver(env, "board", "initiative.threshold_progress", {
        "initiativeId": iid, "tenant": "coop", "promoterIds": [promoter], "percent": 33, "signatureCount": 100,
        "threshold": 300})
    ctx = _rows(env, progress)[(promoter, Channel.EMAIL)].context
    assert localize(ctx, "en")["title"] == "Bikes" and ctx["percent"] == 33 and ctx["signature_count"] == 100
