"""The initiative's state machine (domain/initiatives.py), pure: each transition, each refusal
by its reason, the frozen threshold, the progress marks and the due dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coop_board.domain.initiatives import (
    ACCEPTED,
    CLOSED,
    COLLECTING,
    DECLINED,
    DISCUSSED,
    EXPIRED,
    QUALIFIED,
    REFUSED,
    REJECTED,
    SUBMITTED,
    Initiative,
    InitiativeRules,
    eligibility,
    marks_reached,
)
from coop_board.domain.links import ForcedItem, MemberStanding
from coop_board.domain.texts import LocalizedText
from coop_domain.errors import FailedPrecondition, InvalidArgument, PermissionDenied

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
RULES = InitiativeRules(promoters=2, admissibility=timedelta(days=14), collection=timedelta(days=30), threshold_count=None,
                        threshold_percent=5.0, max_delay_days=60, outcome=timedelta(days=20))
GOOD = MemberStanding("m", "active", "user", True)
ALL = LocalizedText("fr", "nl", "en")


def fr(text: str) -> LocalizedText:
    return LocalizedText(fr=text)


def draft() -> Initiative:
    return Initiative.draft("i-1", "coop", "author", "fr", fr("Titre"), fr("Texte"), fr("Question ?"), NOW, RULES)


def submitted() -> Initiative:
    s = draft()
    s.invite("author", ["p1", "p2", "p3"], NOW)
    s.answer("p1", True, GOOD, NOW)
    s.answer("p2", True, GOOD, NOW)
    s.answer("p3", False, None, NOW)
    s.submit("author", NOW, RULES)
    return s


def collecting(members: int = 1000) -> Initiative:
    s = submitted()
    s.admit("sec-1", NOW, RULES, members)
    return s


def test_a_draft_needs_title_text_and_question_in_the_authors_language_only() -> None:
    with pytest.raises(InvalidArgument) as exc:
        Initiative.draft("i", "coop", "a", "nl", fr("Titre"), fr("Texte"), fr("Q"), NOW, RULES)
    assert exc.value.reason == "MISSING_TEXT" and exc.value.field == "title.nl"
    with pytest.raises(InvalidArgument) as exc:
        Initiative.draft("i", "coop", "a", "de", fr("T"), fr("T"), fr("Q"), NOW, RULES)
    assert exc.value.reason == "INVALID_LANGUAGE"
    with pytest.raises(InvalidArgument) as exc:
        Initiative.draft("i", "coop", "a", "fr", fr("T" * 201), fr("T"), fr("Q"), NOW, RULES)
    assert exc.value.reason == "TEXT_TOO_LONG"
    assert draft().promoter_ids == ("author",)


def test_only_the_author_changes_and_invites_and_an_invitation_twice_changes_nothing() -> None:
    s = draft()
    with pytest.raises(PermissionDenied) as exc:
        s.invite("p1", ["p2"], NOW)
    assert exc.value.reason == "NOT_THE_AUTHOR"
    assert s.invite("author", ["p1", "p1", "p2"], NOW) == ["p1", "p2"]
    assert s.invite("author", ["p2"], NOW) == []
    with pytest.raises(InvalidArgument) as exc:
        s.invite("author", ["author"], NOW)
    assert exc.value.reason == "AUTHOR_INVITED"


def test_accepting_needs_good_standing_with_distinct_reasons_and_declining_does_not() -> None:
    s = draft()
    s.invite("author", ["p1"], NOW)
    with pytest.raises(FailedPrecondition) as exc:
        s.answer("p1", True, None, NOW)
    assert exc.value.reason == "NOT_A_MEMBER"
    with pytest.raises(FailedPrecondition) as exc:
        s.answer("p1", True, MemberStanding("p1", "active", "user", False), NOW)
    assert exc.value.reason == "NOT_IN_GOOD_STANDING"
    s.answer("p1", False, None, NOW)
    assert s.promoters[1].status == DECLINED
    with pytest.raises(PermissionDenied) as exc:
        s.answer("stranger", True, GOOD, NOW)
    assert exc.value.reason == "NOT_INVITED"


def test_submitting_is_refused_until_enough_co_promoters_accepted() -> None:
    s = draft()
    s.invite("author", ["p1", "p2"], NOW)
    s.answer("p1", True, GOOD, NOW)
    with pytest.raises(FailedPrecondition) as exc:
        s.submit("author", NOW, RULES)
    assert exc.value.reason == "NOT_ENOUGH_PROMOTERS" and exc.value.detail["accepted"] == 1
    s.answer("p2", True, GOOD, NOW)
    event = s.submit("author", NOW, RULES)
    assert s.status == SUBMITTED and event.promoter_ids == ("author", "p1", "p2")
    assert event.admissibility_due_at == NOW + timedelta(days=14)
    with pytest.raises(FailedPrecondition) as exc:
        s.update_draft("author", "fr", fr("T"), fr("T"), fr("Q"))
    assert exc.value.reason == "NOT_A_DRAFT"


def test_a_refusal_needs_its_reason_in_three_languages() -> None:
    s = submitted()
    with pytest.raises(InvalidArgument) as exc:
        s.refuse("sec-1", LocalizedText("fr", "", "en"), NOW)
    assert exc.value.reason == "MISSING_LANGUAGE" and exc.value.field == "refusal_reason.nl"
    event = s.refuse("sec-1", ALL, NOW)
    assert s.status == REFUSED and event.reason == ALL


def test_admissible_opens_the_collection_with_the_threshold_frozen_on_the_members_then() -> None:
    s = collecting(members=41_702)
    assert s.status == COLLECTING and s.threshold == 2086 and s.threshold_rule == "percent"
    assert s.closes_at == NOW + timedelta(days=30) and s.members_base == 41_702
    fixed = submitted()
    fixed.admit(None, NOW, InitiativeRules(threshold_count=1500), 41_702)
    assert fixed.threshold == 1500 and fixed.threshold_rule == "count" and fixed.admissible_by_default


def test_admissibility_lapses_only_after_the_delay() -> None:
    s = submitted()
    assert not s.admissibility_lapsed(NOW + timedelta(days=13))
    assert s.admissibility_lapsed(NOW + timedelta(days=14))


def test_progress_marks_are_33_66_and_100_percent_and_each_is_reported_once() -> None:
    assert marks_reached(32, 100) == () and marks_reached(33, 100) == (33,)
    assert marks_reached(66, 100) == (33, 66) and marks_reached(100, 100) == (33, 66, 100)
    s = collecting(members=2000)  # threshold 100
    assert s.progress_marks(70) == (33, 66)
    s.progress = 66
    assert s.progress_marks(70) == () and s.progress_marks(100) == (100,)


def test_qualification_counts_only_verified_signatures_and_the_outcome_is_due_after_the_meeting() -> None:
    s = collecting(members=2000)
    assert not s.qualify(99, NOW)
    assert s.qualify(100, NOW) and s.status == QUALIFIED
    item = ForcedItem("m-1", "it-1", NOW + timedelta(days=10), False)
    event = s.forced_item(item, RULES)
    assert s.outcome_due_at == NOW + timedelta(days=30) and event.forced == item


def test_expiry_only_at_the_deadline_without_the_threshold() -> None:
    s = collecting(members=2000)
    assert s.expire(50, NOW + timedelta(days=29)) is None
    assert s.expire(100, NOW + timedelta(days=30)) is None  # it qualifies instead
    event = s.expire(99, NOW + timedelta(days=30))
    assert s.status == EXPIRED and event is not None and event.verified_signatures == 99
    assert s.expire(99, NOW + timedelta(days=31)) is None


def qualified() -> Initiative:
    s = collecting(members=2000)
    s.qualify(100, NOW)
    s.forced_item(ForcedItem("m-1", "it-1", NOW + timedelta(days=10), False), RULES)
    return s


def test_the_outcome_is_refused_before_the_meeting_and_needs_three_languages_and_closes_it() -> None:
    s = qualified()
    with pytest.raises(FailedPrecondition) as exc:
        s.publish_outcome(REJECTED, ALL, "sec-1", NOW)
    assert exc.value.reason == "MEETING_NOT_HELD"
    assert s.discussed("m-1", "d-1", NOW + timedelta(days=10))
    assert not s.discussed("m-1", "d-1", NOW + timedelta(days=10)), "a replay changes nothing"
    with pytest.raises(InvalidArgument) as exc:
        s.publish_outcome(REJECTED, LocalizedText("fr", "nl", ""), "sec-1", NOW)
    assert exc.value.field == "text.en"
    with pytest.raises(InvalidArgument) as exc:
        s.publish_outcome("", ALL, "sec-1", NOW)
    assert exc.value.reason == "MISSING_OUTCOME_KIND"
    event = s.publish_outcome(REJECTED, ALL, "sec-1", NOW + timedelta(days=11))
    assert s.status == CLOSED and not event.late
    with pytest.raises(FailedPrecondition) as exc:
        s.publish_outcome(REJECTED, ALL, "sec-1", NOW)
    assert exc.value.reason == "OUTCOME_ALREADY_PUBLISHED"


def test_an_outcome_not_published_by_its_due_date_is_flagged_once() -> None:
    s = qualified()
    assert s.flag_overdue(NOW + timedelta(days=29)) is None
    event = s.flag_overdue(NOW + timedelta(days=30))
    assert event is not None and s.overdue() and event.meeting_id == "m-1"
    assert s.flag_overdue(NOW + timedelta(days=31)) is None


def test_a_meeting_held_later_than_planned_moves_the_due_date() -> None:
    s = qualified()
    s.discussed("m-2", None, NOW + timedelta(days=15))
    assert s.status == DISCUSSED and s.outcome_due_at == NOW + timedelta(days=35)
    assert s.forced is not None and s.forced.meeting_id == "m-2"


def test_eligibility_tells_a_non_member_from_a_member_not_in_good_standing() -> None:
    assert eligibility(None) == "NOT_A_MEMBER"
    assert eligibility(MemberStanding("m", "excluded", "user", False)) == "NOT_A_MEMBER"
    assert eligibility(MemberStanding("m", "suspended", "user", False)) == "NOT_IN_GOOD_STANDING"
    assert eligibility(GOOD) is None
    assert ACCEPTED in {p.status for p in submitted().promoters}
