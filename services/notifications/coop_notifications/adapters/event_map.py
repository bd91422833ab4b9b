"""The events this service turns into notifications: one Route per event.

Adding an event is one Route here (its source service, routing key, the protobuf message when
it is on main, the catalog's notification, and how to read its audience and context) plus the
template of that notification (adapters/templates). The worker subscribes to every route.

Each event's data is read in the proto3 JSON mapping with snake_case keys: through its generated
message when there is one (unknown fields ignored), else as published (events of issue 12 not yet
on main: assembly, questions, initiatives), keys turned to snake_case.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from google.protobuf import json_format

from coop.billing.v1 import events_pb2 as billing_events
from coop.board.v1 import events_pb2 as board_events
from coop.elections.v1 import events_pb2 as election_events
from coop.membership.v1 import events_pb2 as member_events
from coop_domain.principal import DEFAULT_TENANT
from coop_notifications.domain.catalog import NOTIFICATIONS
from coop_notifications.domain.mapping import AllMembers, Audience, Members, Notice, Roll, texts
from coop_platform.envelope import parse_data
from coop_platform.membership_facts import MalformedEvent

Data = dict[str, Any]
M = TypeVar("M")


@dataclass(frozen=True)
class Route:
    source: str
    event: str
    notification: str
    audience: Callable[[Data], Audience]
    context: Callable[[Data], Data]
    message: type | None = None  # the generated message, when the event is on main

    @property
    def handler_name(self) -> str:
        return "on_" + self.event.replace(".", "_")


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(value: Any) -> Any:
    if isinstance(value, dict):
        return {_CAMEL.sub("_", k).lower(): _snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake(v) for v in value]
    return value


def parse_event(event: str, envelope: dict[str, Any], message: type[M]) -> M:
    """The envelope's data as `message`; MalformedEvent (naming `event`) when it does not parse."""
    try:
        return parse_data(envelope, message)
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise MalformedEvent(f"{event}: {exc}") from exc


def read_data(route: Route, envelope: dict[str, Any]) -> Data:
    if route.message is not None:
        return json_format.MessageToDict(parse_event(route.event, envelope, route.message),
                                         preserving_proto_field_name=True)
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent(f"{route.event}: data is not an object")
    return _snake(data)


def notice_of(route: Route, data: Data) -> Notice:
    audience = route.audience(data)
    if isinstance(audience, Members) and not all(audience.ids):
        raise MalformedEvent(f"{route.event} names an empty member id")
    return Notice(route.notification, str(data.get("tenant") or DEFAULT_TENANT), audience, route.context(data))


# --- readers ----------------------------------------------------------------------------------

def _one(key: str) -> Callable[[Data], Audience]:
    def audience(d: Data) -> Audience:
        value = d.get(key)
        if not value:
            raise MalformedEvent(f"no {key}")
        return Members((str(value),))
    return audience


def _member(key: str) -> Callable[[Data], Audience]:  # a Member message's id
    def audience(d: Data) -> Audience:
        value = (d.get(key) or {}).get("member_id")
        if not value:
            raise MalformedEvent(f"no {key}.member_id")
        return Members((str(value),))
    return audience


def _employee(d: Data) -> Audience:
    """A contract event's employee (the contract's member when the employee block is empty)."""
    value = (d.get("employee") or {}).get("member_id") or (d.get("contract") or {}).get("member_id")
    if not value or not isinstance(d.get("contract"), dict):
        raise MalformedEvent("no employee.member_id or contract")
    return Members((str(value),))


def _many(key: str) -> Callable[[Data], Audience]:
    return lambda d: Members(tuple(str(v) for v in d.get(key) or ()))


def _roll(d: Data) -> Audience:
    if not d.get("election_id"):
        raise MalformedEvent("no election_id")
    return Roll(str(d["election_id"]))


def _pick(*keys: str, **renamed: str) -> Callable[[Data], Data]:
    """Copy keys (renamed: context key=data key), defaults for what the JSON mapping leaves out."""
    def context(d: Data) -> Data:
        out = {k: d.get(k, "") for k in keys}
        out.update({k: d.get(v, "") for k, v in renamed.items()})
        return out
    return context


def _status(value: str) -> str:
    return value.removeprefix("MEMBER_STATUS_").lower() if value else ""


def _localized(value: Any) -> Data:
    return texts(value if isinstance(value, dict) else {})


# A closed year's statement concerns whoever was a member in it: not only the active ones.
STATEMENT_HOLDERS = ("active", "suspended", "resigned", "excluded")

ROUTES: tuple[Route, ...] = (
    # --- membership ----------------------------------------------------------------------------
    Route("membership", "member.admitted", "member_welcome", _member("member"),
          lambda d: {"joined_on": d["member"].get("joined_on", ""), "readmission": bool(d.get("readmission"))},
          member_events.MemberAdmitted),
    Route("membership", "member.status_changed", "member_status_changed", _one("member_id"),
          lambda d: {"from_status": _status(d.get("from_status", "")), "to_status": _status(d.get("to_status", "")),
                     "reason": d.get("reason", ""), "in_good_standing": bool(d.get("in_good_standing"))},
          member_events.MemberStatusChanged),
    Route("membership", "share.subscribed", "share_due", _member("share"),
          lambda d: {"year": d["share"].get("year", 0), "amount_cents": int(d["share"].get("amount_cents", 0)),
                     "currency": d["share"].get("currency", "EUR"),
                     "payment_reference": d["share"].get("payment_reference", "")},
          member_events.ShareSubscribed),
    Route("membership", "share.paid", "share_paid", _member("share"),
          lambda d: {"year": d["share"].get("year", 0), "amount_cents": int(d["share"].get("amount_cents", 0)),
                     "currency": d["share"].get("currency", "EUR"), "paid_at": d["share"].get("paid_at", ""),
                     "in_good_standing": bool(d.get("in_good_standing"))},
          member_events.SharePaid),
    # --- billing (amounts in euro cents; int64 arrives as a JSON string) --------------------------
    Route("billing", "contract.created", "contract_created", _employee,
          lambda d: {"contract_id": d["contract"].get("contract_id", ""),
                     **_pick("job_title", "start_date", "end_date")(d["contract"].get("terms") or {}),
                     "gross_cents": int((d["contract"].get("terms") or {}).get("gross_cents", 0)),
                     "currency": "EUR"},
          billing_events.ContractCreated),
    Route("billing", "contract.payroll_recorded", "payroll_recorded", _employee,
          lambda d: {"contract_id": d["contract"].get("contract_id", ""),
                     **_pick("paid_on", "payroll_reference")(d.get("run") or {}),
                     "gross_cents": int(((d.get("run") or {}).get("cost") or {}).get("gross_cents", 0)),
                     "currency": "EUR"},
          billing_events.ContractPayrollRecorded),
    Route("billing", "distribution.payout", "distribution_payout", _one("member_id"),
          lambda d: {**_pick("envelope_id", "envelope_name")(d), "amount_cents": int(d.get("amount_cents", 0)),
                     "currency": "EUR"},
          billing_events.DistributionPayout),
    Route("billing", "year.closed", "statement_available", lambda d: AllMembers(STATEMENT_HOLDERS),
          lambda d: {"year": int(d.get("year") or 0)}, billing_events.YearClosed),
    # --- elections ------------------------------------------------------------------------------
    Route("elections", "election.roll_frozen", "election_invitation", _many("voter_ids"),
          lambda d: {"election_id": d["election_id"], "title": _localized(d.get("titles")),
                     "opens_at": d.get("opens_at", ""), "closes_at": d.get("closes_at", "")},
          election_events.RollFrozen),
    Route("elections", "election.closing_soon", "election_reminder", _many("non_voters"),
          lambda d: {"election_id": d.get("election_id", ""), "closes_at": d.get("closes_at", "")},
          election_events.ElectionClosingSoon),
    Route("elections", "election.results_published", "election_results", _roll,
          lambda d: {"election_id": d["election_id"], "ballots": int(d.get("ballots", 0)),
                     "elected_count": len(d.get("elected_member_ids") or ()),
                     "mandate_start": d.get("mandate_start", ""), "mandate_end": d.get("mandate_end", ""),
                     "adopted_resolutions": len(d.get("adopted_resolutions") or ()),
                     "rejected_resolutions": len(d.get("rejected_resolutions") or ())},
          election_events.ResultsPublished),
    # --- board meetings (main) -------------------------------------------------------------------
    Route("board", "meeting.scheduled", "board_meeting_convocation", _many("convened_director_ids"),
          lambda d: {"meeting_id": d.get("meeting_id", ""), "title": _localized(d.get("title")),
                     "starts_at": d.get("starts_at", ""), "place": d.get("place", ""),
                     "has_video_link": bool(d.get("has_video_link")), "revision": d.get("revision", 1),
                     "cancelled": bool(d.get("cancelled"))},
          board_events.MeetingScheduled),
    Route("board", "meeting.agenda_published", "board_agenda_published", _many("convened_director_ids"),
          lambda d: {"meeting_id": d.get("meeting_id", ""), "starts_at": d.get("starts_at", ""),
                     "agenda_version": d.get("agenda_version", 0), "frozen": bool(d.get("frozen")),
                     "items": [{"position": i.get("position", 0), "title": _localized(i.get("title"))}
                               for i in d.get("items") or ()]},
          board_events.AgendaPublished),
    Route("board", "minutes.published", "board_minutes_published", lambda d: AllMembers(),
          lambda d: {"minutes_id": d.get("minutes_id", ""), "meeting_id": d.get("meeting_id", ""),
                     "meeting_date": d.get("meeting_date", ""), "erratum": bool(d.get("erratum_of"))},
          board_events.MinutesPublished),
    # --- General Assembly, questions, initiatives (board, issue 12: read as published) -----------
    Route("board", "assembly.convened", "assembly_convocation", _one("member_id"),
          lambda d: {**_pick("assembly_id", "title", "starts_at", "place", "registration_deadline",
                             "election_id")(d),
                     "agenda": list(d.get("agenda") or ()),
                     "documents": [{"title": x.get("title", ""), "reference": x.get("reference", "")}
                                   for x in d.get("documents") or ()]}),
    Route("board", "assembly.registered", "assembly_registration_confirmed", _one("member_id"),
          lambda d: {**_pick("assembly_id", "attendance", "interpretation_language")(d),
                     "workshops": [{"workshop_id": w.get("workshop_id", ""), "seated": bool(w.get("seated")),
                                    "waiting_position": w.get("waiting_position", 0)}
                                   for w in d.get("workshops") or ()]}),
    Route("board", "assembly.workshop_promoted", "assembly_workshop_seat", _one("member_id"),
          _pick("assembly_id", "workshop_id", "promoted_at")),
    Route("board", "question.answered", "question_answered", _one("author_member_id"),
          lambda d: {**_pick("question_id", "assembly_id", "answered_at")(d),
                     "mode": str(d.get("mode", "")).removeprefix("QUESTION_ANSWER_MODE_").lower()}),
    Route("board", "question.referred", "question_referred", _one("author_member_id"),
          _pick("question_id", "assembly_id", "referred_at")),
    Route("board", "initiative.threshold_progress", "initiative_progress", _many("promoter_ids"),
          lambda d: {**_pick("initiative_id")(d), "percent": int(d.get("percent", 0)),
                     "signature_count": int(d.get("signature_count", 0)), "threshold": int(d.get("threshold", 0))}),
    Route("board", "initiative.outcome_published", "initiative_outcome", _many("promoter_ids"),
          lambda d: {**_pick("initiative_id", "published_at")(d), "text": _localized(d.get("text")),
                     "kind": str(d.get("kind", "")).removeprefix("INITIATIVE_OUTCOME_KIND_").lower()}),
    *(Route("board", f"initiative.{state}", "initiative_state_changed", _many("promoter_ids"),
            lambda d, state=state, at=at: {"initiative_id": d.get("initiative_id", ""), "state": state,
                                           "title": _localized(d.get("title")),
                                           "reason": _localized(d.get("reason")), "at": d.get(at, "")})
      for state, at in (("submitted", "submitted_at"), ("admissible", "decided_at"), ("refused", "decided_at"),
                        ("collection_opened", "opens_at"), ("qualified", "qualified_at"),
                        ("expired", "expired_at"), ("outcome_overdue", "flagged_at"))),
)

BY_EVENT: dict[tuple[str, str], Route] = {(r.source, r.event): r for r in ROUTES}
assert len(BY_EVENT) == len(ROUTES), "one route per event"
assert len({r.handler_name for r in ROUTES}) == len(ROUTES), "one handler name per event"
assert all(r.notification in NOTIFICATIONS for r in ROUTES), "every route names a catalog notification"
