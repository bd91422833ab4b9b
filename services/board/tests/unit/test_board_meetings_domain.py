"""The meeting aggregate's rules: freeze time, items, consent block, attendance and proxies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coop_board.domain.meetings import AgendaItem, Meeting, MeetingRules, check_item
from coop_board.domain.texts import LocalizedText
from coop_board.domain.votes import Vote
from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
T = LocalizedText("fr", "nl", "en")
RULES = MeetingRules()
SITTING = {"a", "b", "c", "d"}


def meeting(days: int = 10) -> Meeting:
    start = NOW + timedelta(days=days)
    return Meeting("m", "coop", T, start, "Namur", "", start - timedelta(days=RULES.freeze_days))


def item(**kw) -> AgendaItem:
    kw.setdefault("source", "other")
    kw.setdefault("kind", "other")
    return AgendaItem(kw.pop("item_id", "i"), 0, T, **kw)


def test_the_agenda_freezes_by_itself_freeze_days_before_the_meeting() -> None:
    m = meeting(days=10)
    assert not m.is_frozen(NOW) and m.is_frozen(NOW + timedelta(days=3))
    m.add_item(item(), NOW)
    with pytest.raises(FailedPrecondition) as exc:
        m.add_item(item(item_id="j"), NOW + timedelta(days=3))
    assert exc.value.reason == "AGENDA_FROZEN"


def test_items_are_numbered_and_reordered_as_a_permutation_only() -> None:
    m = meeting()
    for i in "xyz":
        m.add_item(item(item_id=i), NOW)
    m.reorder(["z", "x", "y"], NOW)
    assert [(it.item_id, it.position) for it in m.items] == [("z", 1), ("x", 2), ("y", 3)]
    with pytest.raises(InvalidArgument):
        m.reorder(["z", "x"], NOW)


@pytest.mark.parametrize(("change", "reason"), [
    ({"source": "nowhere"}, "INVALID_SOURCE"), ({"kind": "party"}, "INVALID_KIND"),
    ({"source": "dossier", "kind": "dossier"}, "DOSSIER_REF_REQUIRED"),
    ({"consent": True, "secret": True}, "NOT_ROUTINE"), ({"ref": "no spaces"}, "INVALID_REF"),
])
def test_an_item_with_bad_values_is_refused_naming_its_field(change, reason) -> None:
    with pytest.raises(InvalidArgument) as exc:
        check_item(item(**change))
    assert exc.value.reason == reason and exc.value.field.startswith("item.")


def test_a_director_holds_at_most_one_written_proxy() -> None:
    m = meeting()
    m.record_attendance("a", "present", None, RULES, SITTING)
    m.record_attendance("b", "excused", "a", RULES, SITTING)
    with pytest.raises(FailedPrecondition) as exc:
        m.record_attendance("c", "absent", "a", RULES, SITTING)
    assert exc.value.reason == "PROXY_LIMIT"
    with pytest.raises(FailedPrecondition) as exc:
        m.record_attendance("d", "absent", "b", MeetingRules(proxies_allowed=False), SITTING)
    assert exc.value.reason == "PROXIES_NOT_ALLOWED"
    with pytest.raises(FailedPrecondition) as exc:
        m.record_attendance("z", "present", None, RULES, SITTING)
    assert exc.value.reason == "NOT_A_SITTING_DIRECTOR"


def test_an_item_pulled_from_the_consent_block_leaves_it() -> None:
    m = meeting()
    m.add_item(item(item_id="x", consent=True), NOW)
    m.add_item(item(item_id="y", consent=True), NOW)
    m.pull_from_consent("x", "b")
    assert [it.item_id for it in m.consent_items()] == ["y"]
    with pytest.raises(FailedPrecondition):
        m.pull_from_consent("x", "c")


def test_a_vote_takes_one_ballot_per_director_and_a_secret_one_keeps_no_names() -> None:
    v = Vote("v", ("i",), "item", "i", T, "simple", secret=True)
    v.cast("a", "for")
    with pytest.raises(AlreadyExists):
        v.cast("a", "against")
    assert v.counts == {"for": 1} and v.ballots == {} and v.voters == {"a"}


def test_a_declaration_comes_before_the_items_first_vote() -> None:
    m = meeting()
    m.add_item(item(item_id="x"), NOW)
    m.declare("a", "x", "my brother", NOW)
    with pytest.raises(FailedPrecondition):
        m.declare("a", "x", "again", NOW)
    m.votes.append(Vote("v", ("x",), "item", "x", T, "simple"))
    with pytest.raises(FailedPrecondition) as exc:
        m.declare("b", "x", "late", NOW)
    assert exc.value.reason == "DECLARATION_TOO_LATE"


def test_settings_are_read_from_the_environment() -> None:
    from coop_board.entrypoints.settings_meetings import meeting_rules

    rules = meeting_rules({"COOP_BOARD_AGENDA_FREEZE_DAYS": "3", "COOP_BOARD_QUORUM": "2/3",
                           "COOP_BOARD_CASTING_VOTE": "false", "COOP_BOARD_QUALIFIED_MAJORITIES": "set_budget:two_thirds"})
    assert (rules.freeze_days, rules.quorum_num, rules.quorum_den, rules.casting_vote) == (3, 2, 3, False)
    assert rules.majority_for("set_budget") == "two_thirds" and rules.majority_for("statute_change") == "simple"
    with pytest.raises(ValueError):
        meeting_rules({"COOP_BOARD_STATUTORY_MONTHS": "approve_accounts:13"})
