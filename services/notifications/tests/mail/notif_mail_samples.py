"""A realistic context for every notification of domain/catalog.py (the keys core documents)."""

from __future__ import annotations

COMMON = {
    "recipient_name": "Ana",
    "member_number": "M000042",
    "tenant": "Coop Zuid",
    "portal_url": "https://portal.coop.test/",
    "unsubscribe_url": "https://portal.coop.test/unsubscribe?t=abc.def",
    "notification_url": "https://portal.coop.test/inbox/n-1",
}

SPECIFIC: dict[str, dict] = {
    "member_welcome": {"joined_on": "2027-03-14", "readmission": False},
    "member_status_changed": {"from_status": "active", "to_status": "suspended",
                              "reason": "share fee unpaid", "in_good_standing": False},
    "share_due": {"year": 2027, "amount_cents": 125050, "currency": "EUR",
                  "payment_reference": "+++090/9337/55493+++"},
    "share_paid": {"year": 2027, "amount_cents": 125050, "currency": "EUR",
                   "paid_at": "2027-03-20T09:15:00+00:00", "in_good_standing": True},
    "contract_created": {"contract_id": "c-1", "job_title": "Sound engineer", "start_date": "2027-04-01",
                         "end_date": "2027-04-30", "gross_cents": 312500, "currency": "EUR"},
    "payroll_recorded": {"contract_id": "c-1", "paid_on": "2027-04-30", "gross_cents": 156250,
                         "currency": "EUR", "payroll_reference": "PR-2027-04-17"},
    "distribution_payout": {"envelope_id": "env-1", "envelope_name": "Surplus 2026", "amount_cents": 4210,
                            "currency": "EUR"},
    "statement_available": {"year": 2026},
    "election_invitation": {"election_id": "e-1", "title": "Board 2027",
                            "opens_at": "2027-03-14T08:00:00+00:00",
                            "closes_at": "2027-03-21T17:00:00+00:00",
                            "vote_url": "https://portal.coop.test/vote/e-1"},
    "election_reminder": {"election_id": "e-1", "title": "Board 2027",
                          "closes_at": "2027-03-21T17:00:00+00:00",
                          "vote_url": "https://portal.coop.test/vote/e-1"},
    "election_results": {"election_id": "e-1", "title": "Board 2027", "ballots": 41702,
                         "elected_count": 5, "mandate_start": "2027-04-01",
                         "mandate_end": "2030-03-31", "adopted_resolutions": 2,
                         "rejected_resolutions": 1,
                         "results_url": "https://portal.coop.test/elections/e-1"},
    "assembly_convocation": {"assembly_id": "ga-2027", "title": "General Assembly 2027",
                             "starts_at": "2027-06-12T08:00:00+00:00",
                             "place": "Tour & Taxis, Brussels",
                             "registration_deadline": "2027-06-05T21:59:00+00:00",
                             "agenda": ["Annual accounts 2026", "Discharge of the directors",
                                        "Election of the board"],
                             "documents": [{"title": "Annual report", "reference": "D-1"}],
                             "election_id": "e-1",
                             "register_url": "https://portal.coop.test/ga-2027/register"},
    "assembly_registration_confirmed": {
        "assembly_id": "ga-2027", "attendance": "in_person", "interpretation_language": "nl",
        "workshops": [{"workshop_id": "w-1", "seated": True, "waiting_position": 0},
                      {"workshop_id": "w-2", "seated": False, "waiting_position": 3}]},
    "assembly_workshop_seat": {"assembly_id": "ga-2027", "workshop_id": "w-2",
                               "promoted_at": "2027-06-01T10:00:00+00:00"},
    "question_answered": {"question_id": "q-1", "assembly_id": "ga-2027", "mode": "writing",
                          "answered_at": "2027-06-13T10:00:00+00:00",
                          "question_url": "https://portal.coop.test/questions/q-1"},
    "question_referred": {"question_id": "q-1", "assembly_id": "ga-2027",
                          "referred_at": "2027-06-13T10:00:00+00:00",
                          "question_url": "https://portal.coop.test/questions/q-1"},
    "initiative_progress": {"initiative_id": "i-1", "title": "Solar roofs", "percent": 66,
                            "signature_count": 1376, "threshold": 2085,
                            "initiative_url": "https://portal.coop.test/initiatives/i-1"},
    "initiative_state_changed": {"initiative_id": "i-1", "title": "Solar roofs",
                                 "state": "admissible", "reason": "",
                                 "at": "2027-02-01T10:00:00+00:00",
                                 "initiative_url": "https://portal.coop.test/initiatives/i-1"},
    "initiative_outcome": {"initiative_id": "i-1", "title": "Solar roofs", "kind": "adopted",
                           "text": "Adopted by the General Assembly.",
                           "published_at": "2027-06-20T10:00:00+00:00",
                           "initiative_url": "https://portal.coop.test/initiatives/i-1"},
    "board_meeting_convocation": {"meeting_id": "m-1", "title": "Board meeting 3/2027",
                                  "starts_at": "2027-03-02T17:30:00+00:00",
                                  "place": "Head office", "has_video_link": True,
                                  "revision": 1, "cancelled": False,
                                  "meeting_url": "https://portal.coop.test/board/m-1"},
    "board_agenda_published": {"meeting_id": "m-1", "starts_at": "2027-03-02T17:30:00+00:00",
                               "agenda_version": 2,
                               "items": [{"position": 1, "title": "Minutes"},
                                         {"position": 2, "title": "Budget"}],
                               "frozen": True,
                               "meeting_url": "https://portal.coop.test/board/m-1"},
    "board_minutes_published": {"minutes_id": "min-1", "meeting_id": "m-1",
                                "meeting_date": "2027-03-02", "erratum": False,
                                "minutes_url": "https://portal.coop.test/board/min-1"},
    "board_decision_adopted": {"decision_id": "d-1", "meeting_id": "m-1",
                               "title": "New solidarity fund", "effective_date": "2027-04-01",
                               "decision_url": "https://portal.coop.test/board/d-1"},
    "digest": {"period": "weekly", "period_start": "2027-03-01",
               "items": [{"notification": "board_minutes_published",
                          "context": {"minutes_id": "min-1", "meeting_id": "m-1",
                                      "meeting_date": "2027-03-02", "erratum": False,
                                      "minutes_url": "https://portal.coop.test/board/min-1"}},
                         {"notification": "board_decision_adopted",
                          "context": {"decision_id": "d-1", "meeting_id": "m-1",
                                      "title": "New solidarity fund",
                                      "effective_date": "2027-04-01",
                                      "decision_url": "https://portal.coop.test/board/d-1"}}]},
}


def context(name: str, **overrides) -> dict:
    values = dict(COMMON)
    values.update(SPECIFIC[name])
    values.update(overrides)
    return values


def outgoing(name: str = "election_invitation", language: str = "fr", *,
             key: str = "evt-1:member-42:email", to: str = "ana@coop.test",
             domain: str = "coop.test", legal: bool | None = None, **overrides):
    """An OutgoingMail the way core builds one: rendered, VERP return path, RFC 8058 headers."""
    from coop_notifications.adapters.bounces import verp_address
    from coop_notifications.adapters.eml import unsubscribe_headers
    from coop_notifications.adapters.templates import render
    from coop_notifications.domain.mail import OutgoingMail

    legal = name == "assembly_convocation" if legal is None else legal
    ctx = context(name, **({"unsubscribe_url": ""} if legal else {}), **overrides)
    headers = {} if legal else unsubscribe_headers(ctx["unsubscribe_url"])
    safe = "".join(ch if ch.isalnum() else "." for ch in key)
    return OutgoingMail(
        delivery_key=key,
        message_id=f"<{safe}@notifications.{domain}>",
        to_address=to,
        return_path=verp_address(key, domain),
        language=language,
        rendered=render(name, language, ctx),
        headers=headers,
    )
