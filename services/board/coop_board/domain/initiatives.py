"""Member initiatives (docs/board.md, Member initiatives): a pure state machine.

    draft -> submitted -> refused                                   (final)
                       -> collecting -> expired                     (final)
                                     -> qualified -> discussed -> closed (final, outcome published)

A member in good standing drafts; the author gathers `required_promoters` co-promoters who accept
before submitting; the secretary or management decides admissibility (or the delay passes:
admissible by default, recorded); admissible opens the signature collection at once with a
threshold frozen then; enough signatures of members still in good standing qualify it and force
an item onto the board's agenda; the board discusses it and must publish a typed outcome in three
languages. Only the outcome closes an initiative. Signatures themselves are not held here (one
row each, counted by shards in the adapters): the aggregate holds the frozen threshold and the
progress mark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from coop_board.domain.links import ForcedItem, MemberStanding
from coop_board.domain.texts import LANGUAGES, LocalizedText
from coop_domain.errors import FailedPrecondition, InvalidArgument, PermissionDenied

TENANT = "coop"  # initiatives are the cooperative's own (the members projection is tenant "coop")

DRAFT, SUBMITTED, REFUSED, COLLECTING = "draft", "submitted", "refused", "collecting"
EXPIRED, QUALIFIED, DISCUSSED, CLOSED = "expired", "qualified", "discussed", "closed"
STATUSES = (DRAFT, SUBMITTED, REFUSED, COLLECTING, EXPIRED, QUALIFIED, DISCUSSED, CLOSED)
PUBLIC = (REFUSED, COLLECTING, EXPIRED, QUALIFIED, DISCUSSED, CLOSED)  # every member reads these
SIGNABLE = (COLLECTING, QUALIFIED, DISCUSSED)  # until the collection closes (and never once closed)
OUTCOME_OWED = (QUALIFIED, DISCUSSED)

AUTHOR, INVITED, ACCEPTED, DECLINED = "author", "invited", "accepted", "declined"

ADOPTED_AS_PROPOSED, ADOPTED_AMENDED = "adopted_as_proposed", "adopted_amended"
REJECTED, REFERRED_TO_ASSEMBLY = "rejected", "referred_to_assembly"
OUTCOMES = (ADOPTED_AS_PROPOSED, ADOPTED_AMENDED, REJECTED, REFERRED_TO_ASSEMBLY)

MARKS = (33, 66, 100)  # progress events, in percent of the threshold

TITLE_MAX, TEXT_MAX, QUESTION_MAX, OUTCOME_MAX = 200, 20_000, 1_000, 20_000
MAX_INVITES = 50        # per request
MAX_COMMITTEE = 100     # invitations per initiative

NOT_MEMBER_STATUSES = ("resigned", "excluded", "erased", "deceased")


@dataclass(frozen=True)
class InitiativeRules:
    """The settings (entrypoints/settings_initiatives.py, docs/board.md Settings)."""

    promoters: int = 3                 # co-promoters who must accept before submitting (N)
    admissibility_days: int = 14       # D: admissible by default after this
    collection_days: int = 90          # W: the collection window
    threshold_count: int | None = None  # a fixed number of signatures, or
    threshold_percent: float = 5.0     # a percentage of the members in good standing at opening
    max_delay_days: int = 60           # the forced item's meeting starts within this
    outcome_days: int = 30             # P: the outcome is due this long after the meeting

    def threshold(self, members_in_good_standing: int) -> int:
        """The threshold frozen when a collection opens (at least 1 signature)."""
        if self.threshold_count is not None:
            return max(1, self.threshold_count)
        return max(1, math.ceil(members_in_good_standing * self.threshold_percent / 100))


def eligibility(standing: MemberStanding | None) -> str | None:
    """Why a member may not sign or promote (None: they may). Distinct reasons for a non-member
    and for a member not in good standing (docs/board.md, Errors)."""
    if standing is None or (standing.status or "") in NOT_MEMBER_STATUSES:
        return "NOT_A_MEMBER"
    if not standing.in_good_standing:
        return "NOT_IN_GOOD_STANDING"
    return None


def require_eligible(standing: MemberStanding | None, what: str) -> None:
    reason = eligibility(standing)
    if reason == "NOT_A_MEMBER":
        raise FailedPrecondition(f"only members of the cooperative may {what}", reason=reason)
    if reason:
        raise FailedPrecondition(f"only members in good standing may {what}", reason=reason)


def marks_reached(count: int, threshold: int) -> tuple[int, ...]:
    """The progress marks a count has reached (33, 66, 100 percent of the threshold)."""
    if threshold <= 0:
        return ()
    return tuple(m for m in MARKS if count * 100 >= m * threshold)


def check_content(language: str, title: LocalizedText, text: LocalizedText, question: LocalizedText) -> None:
    """Title, text and question are required in the author's language; translations optional."""
    if language not in LANGUAGES:
        raise InvalidArgument("language must be fr, nl or en", field="language", reason="INVALID_LANGUAGE")
    for name, value, limit in (("title", title, TITLE_MAX), ("text", text, TEXT_MAX),
                               ("question", question, QUESTION_MAX)):
        if not value.get(language).strip():
            raise InvalidArgument(f"{name} is required in {language}", field=f"{name}.{language}",
                                  reason="MISSING_TEXT")
        for lang in LANGUAGES:
            if len(value.get(lang)) > limit:
                raise InvalidArgument(f"{name} is at most {limit} characters", field=f"{name}.{lang}",
                                      reason="TEXT_TOO_LONG", limit=limit)


def check_complete(value: LocalizedText, name: str, limit: int = OUTCOME_MAX) -> None:
    """A published text (refusal reason, outcome) is required in FR, NL and EN."""
    missing = value.missing()
    if missing:
        raise InvalidArgument(f"{name} is required in fr, nl and en (missing: {', '.join(missing)})",
                              field=f"{name}.{missing[0]}", reason="MISSING_LANGUAGE", missing=",".join(missing))
    for lang in LANGUAGES:
        if len(value.get(lang)) > limit:
            raise InvalidArgument(f"{name} is at most {limit} characters", field=f"{name}.{lang}",
                                  reason="TEXT_TOO_LONG", limit=limit)


@dataclass
class Promoter:
    member_id: str
    status: str          # author, invited, accepted, declined
    invited_at: datetime
    answered_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    kind: str
    text: LocalizedText
    published_at: datetime
    published_by: str
    assembly_id: str | None = None


# -- events ------------------------------------------------------------------------------------
# Each carries promoter_ids (the author and the co-promoters who accepted): the notifications
# service notifies them. No event names a signer.

@dataclass(frozen=True)
class InitiativeSubmitted:
    tenant: str
    initiative_id: str
    promoter_ids: tuple[str, ...]
    title: LocalizedText
    language: str
    submitted_at: datetime
    admissibility_due_at: datetime


@dataclass(frozen=True)
class InitiativeAdmissible:
    tenant: str
    initiative_id: str
    promoter_ids: tuple[str, ...]
    by_default: bool
    decided_at: datetime


@dataclass(frozen=True)
class InitiativeRefused:
    tenant: str
    initiative_id: str
    promoter_ids: tuple[str, ...]
    reason: LocalizedText
    decided_at: datetime


@dataclass(frozen=True)
class CollectionOpened:
    tenant: str
    initiative_id: str
    promoter_ids: tuple[str, ...]
    title: LocalizedText
    threshold: int
    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True)
class ThresholdProgress:
    tenant: str
    initiative_id: str
    promoter_ids: tuple[str, ...]
    percent: int
    signature_count: int
    threshold: int
    reached_at: datetime


@dataclass(frozen=True)
class InitiativeQualified:
    tenant: str
    initiative_id: str
    promoter_ids: tuple[str, ...]
    verified_signatures: int
    threshold: int
    qualified_at: datetime
    forced: ForcedItem
    outcome_due_at: datetime


@dataclass(frozen=True)
class InitiativeExpired:
    tenant: str
    initiative_id: str
    promoter_ids: tuple[str, ...]
    verified_signatures: int
    threshold: int
    expired_at: datetime


@dataclass(frozen=True)
class OutcomePublished:
    tenant: str
    initiative_id: str
    promoter_ids: tuple[str, ...]
    outcome: Outcome
    late: bool


@dataclass(frozen=True)
class OutcomeOverdue:
    tenant: str
    initiative_id: str
    promoter_ids: tuple[str, ...]
    meeting_id: str
    outcome_due_at: datetime
    flagged_at: datetime


# -- the aggregate -------------------------------------------------------------------------------

@dataclass
class Initiative:
    initiative_id: str
    tenant: str
    author_id: str
    language: str
    title: LocalizedText
    text: LocalizedText
    question: LocalizedText
    created_at: datetime
    required_promoters: int
    status: str = DRAFT
    promoters: list[Promoter] = field(default_factory=list)
    submitted_at: datetime | None = None
    admissibility_due_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    admissible_by_default: bool = False
    refusal_reason: LocalizedText | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    threshold: int = 0
    threshold_rule: str = ""           # "count" or "percent"
    threshold_percent: float = 0.0
    members_base: int = 0              # members in good standing at opening
    progress: int = 0                  # the last mark reached (0, 33, 66, 100)
    qualified_at: datetime | None = None
    verified_signatures: int = 0
    expired_at: datetime | None = None
    forced: ForcedItem | None = None
    outcome_due_at: datetime | None = None
    discussed_at: datetime | None = None
    decision_id: str | None = None
    overdue_since: datetime | None = None
    outcome: Outcome | None = None
    new: bool = False

    @classmethod
    def draft(cls, initiative_id: str, tenant: str, author_id: str, language: str, title: LocalizedText,
              text: LocalizedText, question: LocalizedText, now: datetime, rules: InitiativeRules) -> Initiative:
        check_content(language, title, text, question)
        return cls(initiative_id, tenant, author_id, language, title, text, question, now, rules.promoters,
                   promoters=[Promoter(author_id, AUTHOR, now, now)], new=True)

    # -- reading
    @property
    def promoter_ids(self) -> tuple[str, ...]:
        """The author, then the co-promoters who accepted (in invitation order)."""
        return tuple(p.member_id for p in self.promoters if p.status in (AUTHOR, ACCEPTED))

    @property
    def accepted(self) -> int:
        return sum(1 for p in self.promoters if p.status == ACCEPTED)

    def committee_member(self, member_id: str) -> bool:
        """The author or an invitee (whatever their answer): they read the draft."""
        return any(p.member_id == member_id for p in self.promoters)

    def overdue(self) -> bool:
        return self.overdue_since is not None

    def collection_open(self, now: datetime) -> bool:
        return self.status in SIGNABLE and self.closes_at is not None and now < self.closes_at

    # -- the committee (drafts only)
    def _require(self, *statuses: str, reason: str) -> None:
        if self.status not in statuses:
            raise FailedPrecondition(f"the initiative is {self.status}", field="initiative_id", reason=reason,
                                     status=self.status)

    def _require_author(self, member_id: str) -> None:
        if member_id != self.author_id:
            raise PermissionDenied("only the initiative's author does this", reason="NOT_THE_AUTHOR")

    def update_draft(self, member_id: str, language: str, title: LocalizedText, text: LocalizedText,
                     question: LocalizedText) -> None:
        self._require_author(member_id)
        self._require(DRAFT, reason="NOT_A_DRAFT")
        check_content(language, title, text, question)
        self.language, self.title, self.text, self.question = language, title, text, question

    def invite(self, member_id: str, invitees: list[str], now: datetime) -> list[str]:
        """Invite members to the committee; those already invited are left as they are. Returns
        the newly invited."""
        self._require_author(member_id)
        self._require(DRAFT, reason="NOT_A_DRAFT")
        if not invitees:
            raise InvalidArgument("member_ids is required", field="member_ids", reason="MISSING_MEMBER_IDS")
        if len(invitees) > MAX_INVITES:
            raise InvalidArgument(f"at most {MAX_INVITES} invitations per request", field="member_ids",
                                  reason="TOO_MANY_INVITEES", limit=MAX_INVITES)
        fresh: list[str] = []
        for i, invitee in enumerate(invitees):
            if not invitee or len(invitee) > 64 or not invitee.isprintable():
                raise InvalidArgument("a member id is at most 64 printable characters", field=f"member_ids[{i}]",
                                      reason="INVALID_ID")
            if invitee == self.author_id:
                raise InvalidArgument("the author is a promoter already", field=f"member_ids[{i}]",
                                      reason="AUTHOR_INVITED")
            if not self.committee_member(invitee) and invitee not in fresh:
                fresh.append(invitee)
        if len(self.promoters) + len(fresh) > MAX_COMMITTEE:
            raise FailedPrecondition(f"at most {MAX_COMMITTEE} invitations per initiative", field="member_ids",
                                     reason="COMMITTEE_FULL", limit=MAX_COMMITTEE)
        self.promoters.extend(Promoter(m, INVITED, now) for m in fresh)
        return fresh

    def answer(self, member_id: str, accept: bool, standing: MemberStanding | None, now: datetime) -> None:
        invitation = next((p for p in self.promoters if p.member_id == member_id and p.status != AUTHOR), None)
        if invitation is None:
            raise PermissionDenied("you were not invited to this initiative's committee", reason="NOT_INVITED")
        self._require(DRAFT, reason="NOT_A_DRAFT")
        if accept:
            require_eligible(standing, "promote an initiative")
        wanted = ACCEPTED if accept else DECLINED
        if invitation.status != wanted:
            invitation.status, invitation.answered_at = wanted, now

    def submit(self, member_id: str, now: datetime, rules: InitiativeRules) -> InitiativeSubmitted:
        self._require_author(member_id)
        self._require(DRAFT, reason="NOT_A_DRAFT")
        if self.accepted < self.required_promoters:
            raise FailedPrecondition(
                f"{self.required_promoters} co-promoters must accept before submitting ({self.accepted} did)",
                field="initiative_id", reason="NOT_ENOUGH_PROMOTERS", required=self.required_promoters,
                accepted=self.accepted)
        self.status, self.submitted_at = SUBMITTED, now
        self.admissibility_due_at = now + timedelta(days=rules.admissibility_days)
        return InitiativeSubmitted(self.tenant, self.initiative_id, self.promoter_ids, self.title, self.language,
                                   now, self.admissibility_due_at)

    # -- admissibility and collection
    def refuse(self, decided_by: str, reason: LocalizedText, now: datetime) -> InitiativeRefused:
        self._require(SUBMITTED, reason="NOT_SUBMITTED")
        check_complete(reason, "refusal_reason")
        self.status, self.decided_at, self.decided_by, self.refusal_reason = REFUSED, now, decided_by, reason
        return InitiativeRefused(self.tenant, self.initiative_id, self.promoter_ids, reason, now)

    def admit(self, decided_by: str | None, now: datetime, rules: InitiativeRules,
              members_in_good_standing: int) -> tuple[InitiativeAdmissible, CollectionOpened]:
        """Admissible (by_default when decided_by is None): the collection opens at once, with
        the threshold frozen now."""
        self._require(SUBMITTED, reason="NOT_SUBMITTED")
        self.status, self.decided_at, self.decided_by = COLLECTING, now, decided_by
        self.admissible_by_default = decided_by is None
        self.opens_at, self.closes_at = now, now + timedelta(days=rules.collection_days)
        self.members_base = members_in_good_standing
        self.threshold = rules.threshold(members_in_good_standing)
        if rules.threshold_count is not None:
            self.threshold_rule, self.threshold_percent = "count", 0.0
        else:
            self.threshold_rule, self.threshold_percent = "percent", rules.threshold_percent
        return (InitiativeAdmissible(self.tenant, self.initiative_id, self.promoter_ids, self.admissible_by_default,
                                     now),
                CollectionOpened(self.tenant, self.initiative_id, self.promoter_ids, self.title, self.threshold,
                                 now, self.closes_at))

    def admissibility_lapsed(self, now: datetime) -> bool:
        return self.status == SUBMITTED and self.admissibility_due_at is not None and now >= self.admissibility_due_at

    def require_collection_open(self, now: datetime) -> None:
        """Signing and withdrawing: COLLECTION_CLOSED after the deadline (or once closed)."""
        if self.status in (DRAFT, SUBMITTED, REFUSED):
            raise FailedPrecondition("the initiative is not collecting signatures", field="initiative_id",
                                     reason="COLLECTION_NOT_OPEN", status=self.status)
        if not self.collection_open(now):
            raise FailedPrecondition("the signature collection is closed", field="initiative_id",
                                     reason="COLLECTION_CLOSED", status=self.status)

    def progress_marks(self, count: int) -> tuple[int, ...]:
        """The marks a count reaches beyond the one recorded (each is published once)."""
        return tuple(m for m in marks_reached(count, self.threshold) if m > self.progress)

    def qualify(self, verified: int, now: datetime) -> bool:
        """Collecting and `verified` (signatures of members in good standing now) reaches the
        threshold: qualified. False (and nothing changes) otherwise."""
        if self.status != COLLECTING or verified < self.threshold:
            return False
        self.status, self.qualified_at, self.verified_signatures = QUALIFIED, now, verified
        return True

    def forced_item(self, item: ForcedItem, rules: InitiativeRules) -> InitiativeQualified:
        """Where the qualified initiative's item landed; the outcome is due P days after that
        meeting starts."""
        self._require(QUALIFIED, reason="NOT_QUALIFIED")
        self.forced = item
        self.outcome_due_at = item.meeting_starts_at + timedelta(days=rules.outcome_days)
        return InitiativeQualified(self.tenant, self.initiative_id, self.promoter_ids, self.verified_signatures,
                                   self.threshold, self.qualified_at, item, self.outcome_due_at)  # type: ignore[arg-type]

    def expire(self, verified: int, now: datetime) -> InitiativeExpired | None:
        """At the deadline without the threshold (verified): expired. None when not due, not
        collecting, or when the verified count reaches the threshold (it qualifies instead)."""
        if self.status != COLLECTING or self.closes_at is None or now < self.closes_at or verified >= self.threshold:
            return None
        self.status, self.expired_at, self.verified_signatures = EXPIRED, now, verified
        return InitiativeExpired(self.tenant, self.initiative_id, self.promoter_ids, verified, self.threshold, now)

    # -- the board's answer
    def discussed(self, meeting_id: str, decision_id: str | None, at: datetime) -> bool:
        """The meeting carrying the forced item closed (`meeting_id`: where the meetings family
        says the item was discussed). A meeting held later than planned moves the due date to P
        days (frozen at qualification) after it was held. False when already recorded (a replay)."""
        if self.status != QUALIFIED:
            return False
        self.status, self.discussed_at, self.decision_id = DISCUSSED, at, decision_id
        if self.forced is not None and self.outcome_due_at is not None:
            later = at + (self.outcome_due_at - self.forced.meeting_starts_at)
            if later > self.outcome_due_at:
                self.outcome_due_at = later
                if self.overdue_since is not None and self.overdue_since < later:
                    self.overdue_since = None  # the meeting was postponed: the new date is not passed
        if self.forced is not None and self.forced.meeting_id != meeting_id:
            self.forced = replace(self.forced, meeting_id=meeting_id)
        return True

    def flag_overdue(self, now: datetime) -> OutcomeOverdue | None:
        """The outcome is not published by its due date: flagged once (None when not due or
        flagged already)."""
        if (self.status not in OUTCOME_OWED or self.outcome_due_at is None or now < self.outcome_due_at
                or self.overdue_since is not None or self.forced is None):
            return None
        self.overdue_since = now
        return OutcomeOverdue(self.tenant, self.initiative_id, self.promoter_ids, self.forced.meeting_id,
                              self.outcome_due_at, now)

    def check_outcome(self, kind: str, text: LocalizedText) -> None:
        if kind not in OUTCOMES:
            raise InvalidArgument("kind is required: adopted as proposed, adopted amended, rejected, or referred",
                                  field="kind", reason="MISSING_OUTCOME_KIND")
        check_complete(text, "text")
        if self.status == CLOSED:
            raise FailedPrecondition("the outcome is published already", field="initiative_id",
                                     reason="OUTCOME_ALREADY_PUBLISHED")
        if self.status == QUALIFIED:
            raise FailedPrecondition("the meeting that carries the initiative's item was not held yet",
                                     field="initiative_id", reason="MEETING_NOT_HELD")
        self._require(DISCUSSED, reason="NO_OUTCOME_OWED")

    def publish_outcome(self, kind: str, text: LocalizedText, by: str, now: datetime,
                        assembly_id: str | None = None) -> OutcomePublished:
        """Publishing closes the initiative (nothing else does)."""
        self.check_outcome(kind, text)
        late = self.outcome_due_at is not None and now > self.outcome_due_at
        self.outcome = Outcome(kind, text, now, by, assembly_id)
        self.status = CLOSED
        return OutcomePublished(self.tenant, self.initiative_id, self.promoter_ids, self.outcome, late)

    def visible_promoters(self, full: bool) -> list[Promoter]:
        """The committee as a reader sees it: all invitations for the committee and the secretary,
        the author and those who accepted for everyone else."""
        return [replace(p) for p in self.promoters if full or p.status in (AUTHOR, ACCEPTED)]
