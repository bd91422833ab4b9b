"""The notifications the service sends: one template per name (FR, NL, EN), with its context.

This module is the contract with the templates (``adapters/templates.render(name, language,
context)``): ``NOTIFICATIONS`` lists every notification name with its priority class, its
preference category and the keys its context carries. The event -> notification mapping
(``domain/mapping.py``) builds exactly these contexts.

Every context also carries the COMMON keys:

    recipient_name     str   the member's given name ("" when unknown or erased)
    member_number      str   e.g. "M000042"
    tenant             str   the cooperative
    portal_url         str   the member portal's home (absolute URL)
    unsubscribe_url    str   the signed one-click unsubscribe link ("" for legal notices)
    notification_url   str   the message in the in-app inbox (absolute URL)

Value conventions (contexts are stored as JSON in the ledger, so values are JSON types):
- instants are ISO 8601 strings in UTC with offset ("2027-03-14T18:00:00+00:00"); calendar dates
  are "YYYY-MM-DD"; the template formats both for the locale (CLDR) and the tenant's zone
  ("Europe/Brussels");
- amounts are integer cents in ``*_cents`` with an ISO 4217 ``currency`` beside them;
- a text that exists in several languages is already resolved to the recipient's language (a
  plain string; falls back to fr, then en, then any);
- lists are JSON arrays, of strings or of small dicts whose keys are documented below.

Priority classes: ``legal`` (never suppressed by an opt-out, never digested), ``transactional``,
``reminder``, ``digestible`` (may be gathered into the member's daily / weekly ``digest``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Priority(StrEnum):
    LEGAL = "legal"
    TRANSACTIONAL = "transactional"
    REMINDER = "reminder"
    DIGESTIBLE = "digestible"


class Category(StrEnum):
    """Preference categories: a member may opt out of each one (LEGAL cannot be opted out of)."""

    LEGAL = "legal"
    MEMBERSHIP = "membership"
    BILLING = "billing"
    ELECTIONS = "elections"
    BOARD = "board"
    PARTICIPATION = "participation"
    ASSEMBLY = "assembly"
    DIGEST = "digest"


COMMON_CONTEXT_KEYS: tuple[str, ...] = (
    "recipient_name",
    "member_number",
    "tenant",
    "portal_url",
    "unsubscribe_url",
    "notification_url",
)


@dataclass(frozen=True)
class NotificationSpec:
    name: str
    priority: Priority
    category: Category
    context_keys: tuple[str, ...]  # besides COMMON_CONTEXT_KEYS
    doc: str

    @property
    def all_context_keys(self) -> tuple[str, ...]:
        return COMMON_CONTEXT_KEYS + self.context_keys


_SPECS: tuple[NotificationSpec, ...] = (
    # --- membership ------------------------------------------------------------------------
    NotificationSpec(
        "member_welcome", Priority.TRANSACTIONAL, Category.MEMBERSHIP,
        ("joined_on", "readmission"),
        "member.admitted. joined_on: date; readmission: bool.",
    ),
    NotificationSpec(
        "member_status_changed", Priority.TRANSACTIONAL, Category.MEMBERSHIP,
        ("from_status", "to_status", "reason", "in_good_standing"),
        "member.status_changed. from_status / to_status: one of applicant, active, suspended, "
        "resigned, excluded; reason: free text from the secretariat (may be \"\"); "
        "in_good_standing: bool.",
    ),
    NotificationSpec(
        "share_due", Priority.TRANSACTIONAL, Category.MEMBERSHIP,
        ("year", "amount_cents", "currency", "payment_reference"),
        "share.subscribed. year: int.",
    ),
    NotificationSpec(
        "share_paid", Priority.TRANSACTIONAL, Category.MEMBERSHIP,
        ("year", "amount_cents", "currency", "paid_at", "in_good_standing"),
        "share.paid.",
    ),
    # --- billing ---------------------------------------------------------------------------
    NotificationSpec(
        "contract_created", Priority.TRANSACTIONAL, Category.BILLING,
        ("contract_id", "job_title", "start_date", "end_date", "gross_cents", "currency"),
        "contract.created, to the employee. start_date / end_date: dates (end_date may be \"\"); "
        "gross_cents: int.",
    ),
    NotificationSpec(
        "payroll_recorded", Priority.TRANSACTIONAL, Category.BILLING,
        ("contract_id", "paid_on", "gross_cents", "currency", "payroll_reference"),
        "contract.payroll_recorded, to the employee. paid_on: date; gross_cents: int (this run's).",
    ),
    NotificationSpec(
        "distribution_payout", Priority.TRANSACTIONAL, Category.BILLING,
        ("envelope_id", "envelope_name", "amount_cents", "currency"),
        "distribution.payout, to the member: their amount of an adopted redistribution envelope.",
    ),
    NotificationSpec(
        "statement_available", Priority.TRANSACTIONAL, Category.BILLING,
        ("year",),
        "year.closed, to every member: the year's statement is final and can be read in the portal.",
    ),
    # --- elections -------------------------------------------------------------------------
    NotificationSpec(
        "election_invitation", Priority.TRANSACTIONAL, Category.ELECTIONS,
        ("election_id", "title", "opens_at", "closes_at", "vote_url"),
        "election.roll_frozen, to each voter of its part of the frozen roll. title: in the recipient's language.",
    ),
    NotificationSpec(
        "election_reminder", Priority.REMINDER, Category.ELECTIONS,
        ("election_id", "title", "closes_at", "vote_url"),
        "election.closing_soon, only to those who have not voted (re-checked before sending).",
    ),
    NotificationSpec(
        "election_results", Priority.TRANSACTIONAL, Category.ELECTIONS,
        ("election_id", "title", "ballots", "elected_count", "mandate_start", "mandate_end",
         "adopted_resolutions", "rejected_resolutions", "results_url"),
        "election.results_published, to every voter on the roll. ballots / elected_count: int; "
        "adopted_resolutions / rejected_resolutions: int (counts); mandate_*: dates.",
    ),
    # --- General Assembly (board service, issue 12) -----------------------------------------
    NotificationSpec(
        "assembly_convocation", Priority.LEGAL, Category.LEGAL,
        ("assembly_id", "title", "starts_at", "place", "registration_deadline", "agenda",
         "documents", "election_id", "register_url"),
        "assembly.convened, one per member. agenda: list of str (titles in agenda order); "
        "documents: list of {title, reference}; election_id may be \"\".",
    ),
    NotificationSpec(
        "assembly_registration_confirmed", Priority.TRANSACTIONAL, Category.ASSEMBLY,
        ("assembly_id", "attendance", "interpretation_language", "workshops"),
        "assembly.registered. attendance: in_person | remote; workshops: list of "
        "{workshop_id, seated (bool), waiting_position (int)}.",
    ),
    NotificationSpec(
        "assembly_workshop_seat", Priority.TRANSACTIONAL, Category.ASSEMBLY,
        ("assembly_id", "workshop_id", "promoted_at"),
        "assembly.workshop_promoted: a seat was given from the waiting list.",
    ),
    NotificationSpec(
        "question_answered", Priority.TRANSACTIONAL, Category.PARTICIPATION,
        ("question_id", "assembly_id", "mode", "answered_at", "question_url"),
        "question.answered, to the author. mode: writing | plenary.",
    ),
    NotificationSpec(
        "question_referred", Priority.TRANSACTIONAL, Category.PARTICIPATION,
        ("question_id", "assembly_id", "referred_at", "question_url"),
        "question.referred, to the author: referred to the board as a member concern.",
    ),
    # --- member participation: initiatives (board service, issue 12) ------------------------
    NotificationSpec(
        "initiative_progress", Priority.TRANSACTIONAL, Category.PARTICIPATION,
        ("initiative_id", "title", "percent", "signature_count", "threshold", "initiative_url"),
        "initiative.threshold_progress, to the promoters at 33 / 66 / 100 %. percent: int.",
    ),
    NotificationSpec(
        "initiative_state_changed", Priority.TRANSACTIONAL, Category.PARTICIPATION,
        ("initiative_id", "title", "state", "reason", "at", "initiative_url"),
        "initiative.* state changes, to the promoters. state: submitted | admissible | refused | "
        "collection_opened | qualified | expired | outcome_overdue; reason: text or \"\".",
    ),
    NotificationSpec(
        "initiative_outcome", Priority.TRANSACTIONAL, Category.PARTICIPATION,
        ("initiative_id", "title", "kind", "text", "published_at", "initiative_url"),
        "initiative.outcome_published, to promoters and signers. kind: lower-case outcome kind.",
    ),
    # --- board meetings --------------------------------------------------------------------
    NotificationSpec(
        "board_meeting_convocation", Priority.TRANSACTIONAL, Category.BOARD,
        ("meeting_id", "title", "starts_at", "place", "has_video_link", "revision", "cancelled",
         "meeting_url"),
        "meeting.scheduled, to the convened directors. revision: int (1 = first convocation).",
    ),
    NotificationSpec(
        "board_agenda_published", Priority.TRANSACTIONAL, Category.BOARD,
        ("meeting_id", "starts_at", "agenda_version", "items", "frozen", "meeting_url"),
        "meeting.agenda_published, to the convened directors. items: list of "
        "{position (int), title}.",
    ),
    NotificationSpec(
        "board_minutes_published", Priority.DIGESTIBLE, Category.BOARD,
        ("minutes_id", "meeting_id", "meeting_date", "erratum", "minutes_url"),
        "minutes.published, to members. erratum: bool.",
    ),
    NotificationSpec(
        "board_decision_adopted", Priority.DIGESTIBLE, Category.BOARD,
        ("decision_id", "meeting_id", "title", "effective_date", "decision_url"),
        "decision.adopted (public items), to members.",
    ),
    # --- the digest --------------------------------------------------------------------------
    NotificationSpec(
        "digest", Priority.TRANSACTIONAL, Category.DIGEST,
        ("period", "period_start", "items"),
        "The daily or weekly digest of digestible notices. period: daily | weekly; "
        "period_start: date; items: list of {notification (a name above), context (its "
        "context, without the COMMON keys)}.",
    ),
)

NOTIFICATIONS: dict[str, NotificationSpec] = {spec.name: spec for spec in _SPECS}


def spec(name: str) -> NotificationSpec:
    try:
        return NOTIFICATIONS[name]
    except KeyError:
        raise KeyError(f"unknown notification {name!r}") from None
