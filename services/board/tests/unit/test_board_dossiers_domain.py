"""The dossier's rules, on the pure domain: versions kept, diffs, the two-level amendment rule,
no amendment on a decided proposal, recommendations and at least two proposals."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest

from coop_board.domain.dossiers import (
    ADOPTED,
    DECIDED,
    OPEN,
    REJECTED,
    SENT_BACK,
    SUBMITTED,
    WITHDRAWN,
    ProposalDraft,
    new_dossier,
)
from coop_board.domain.dossiers_changes import changes
from coop_board.domain.texts import LocalizedText
from coop_domain.errors import FailedPrecondition, InvalidArgument, NotFound

AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def lt(text: str) -> LocalizedText:
    return LocalizedText(fr=f"{text} (fr)", nl=f"{text} (nl)", en=text)


def covid_keys(n: int = 5, recommended=(1, 3)) -> list[ProposalDraft]:
    return [ProposalDraft(lt(f"Key {i}"), lt(f"Redistribute 60% by key {i}\nline two"), i in recommended,
                          lt(f"Why key {i}") if i in recommended else LocalizedText()) for i in range(n)]


def submitted(n: int = 5):
    d = new_dossier("d1", "coop", lt("COVID compensation envelope"), "mgr", AT)
    d.submit_version(covid_keys(n), [f"p{i}" for i in range(n)], ["doc1"], LocalizedText(), "mgr", AT)
    return d


def test_version_one_holds_five_proposals_two_recommended_with_rationale() -> None:
    d = submitted()
    v = d.version()
    assert d.status == SUBMITTED and v.number == 1 and len(v.proposals) == 5
    assert [p.recommended for p in v.proposals] == [False, True, False, True, False]
    assert v.proposals[1].rationale == lt("Why key 1")
    assert d.states["p0"].text_to_vote == v.proposals[0].text


@pytest.mark.parametrize("n", [0, 1])
def test_a_version_needs_at_least_two_proposals(n: int) -> None:
    d = new_dossier("d1", "coop", lt("t"), "mgr", AT)
    with pytest.raises(InvalidArgument) as e:
        d.submit_version(covid_keys(n), [f"p{i}" for i in range(n)], [], LocalizedText(), "mgr", AT)
    assert (e.value.field, e.value.reason) == ("proposals", "PROPOSAL_COUNT") and not d.versions


def test_a_recommendation_needs_its_rationale_in_three_languages() -> None:
    d = new_dossier("d1", "coop", lt("t"), "mgr", AT)
    drafts = covid_keys(2, recommended=())
    drafts[1] = ProposalDraft(lt("k"), lt("t"), True, LocalizedText(fr="pourquoi", nl="waarom"))
    with pytest.raises(InvalidArgument) as e:
        d.submit_version(drafts, ["a", "b"], [], LocalizedText(), "mgr", AT)
    assert e.value.field == "proposals[1].recommendation_rationale.en"
    assert e.value.reason == "TEXT_LANGUAGE_MISSING"


def test_a_proposal_text_missing_a_language_names_it() -> None:
    d = new_dossier("d1", "coop", lt("t"), "mgr", AT)
    drafts = covid_keys(2)
    drafts[0] = ProposalDraft(lt("k"), LocalizedText(fr="x", en="y"))
    with pytest.raises(InvalidArgument) as e:
        d.submit_version(drafts, ["a", "b"], [], LocalizedText(), "mgr", AT)
    assert e.value.field == "proposals[0].text.nl"


def test_no_second_submission_while_the_board_has_the_dossier() -> None:
    d = submitted()
    with pytest.raises(FailedPrecondition) as e:
        d.submit_version(covid_keys(), list("abcde"), [], lt("note"), "mgr", AT)
    assert e.value.reason == "DOSSIER_BEFORE_BOARD"


def test_send_back_rejects_all_and_version_two_keeps_version_one_readable() -> None:
    d = submitted()
    v1 = copy.deepcopy(d.version(1))
    d.send_back(1, lt("Revise the keys"), date(2027, 4, 1), "m1", "i1", "dec1", AT)
    assert d.status == SENT_BACK and d.due_on == date(2027, 4, 1)
    assert all(d.states[f"p{i}"].status == REJECTED for i in range(5))
    drafts = [ProposalDraft(lt("Key 1"), lt("Redistribute 60% by key 1\nline two, revised"), True, lt("Why key 1"),
                            revises="p1"),
              ProposalDraft(lt("Key 3"), lt("Redistribute 60% by key 3\nline two"), True, lt("Why key 3"),
                            revises="p3"),
              ProposalDraft(lt("Key 9"), lt("A new key"))]
    with pytest.raises(InvalidArgument) as e:
        d.submit_version(drafts, ["q1", "q3", "q9"], [], LocalizedText(), "mgr", AT)
    assert e.value.reason == "TEXT_LANGUAGE_MISSING" and e.value.field == "change_note.fr"
    d.submit_version(drafts, ["q1", "q3", "q9"], [], lt("Two keys revised, one new"), "mgr", AT)
    assert d.version(1) == v1 and d.latest == 2 and d.status == SUBMITTED and d.due_on is None
    found = {c.proposal_id or c.previous_id: c for c in changes(d, 2)}
    assert found["q1"].kind == "revised" and found["q3"].kind == "unchanged" and found["q9"].kind == "new"
    assert {found[p].kind for p in ("p0", "p2", "p4")} == {"dropped"}
    diff = found["q1"].text_diff
    assert "-line two" in diff.en and "+line two, revised" in diff.en
    assert "-line two (en)" not in diff.fr and "(fr)" in diff.fr
    assert found["q3"].text_diff == LocalizedText()
    assert [c.kind for c in changes(d, 1)] == ["new"] * 5


def test_a_revision_must_name_a_proposal_of_the_previous_version() -> None:
    d = submitted()
    d.send_back(1, lt("no"), date(2027, 4, 1), "m1", "i1", "dec1", AT)
    drafts = covid_keys(2)
    drafts[0] = ProposalDraft(lt("k"), lt("t"), revises="nope")
    with pytest.raises(InvalidArgument) as e:
        d.submit_version(drafts, ["a", "b"], [], lt("n"), "mgr", AT)
    assert (e.value.field, e.value.reason) == ("proposals[0].revises_proposal_id", "NOT_A_PREVIOUS_PROPOSAL")


def test_amendment_diff_against_the_text_it_amends_and_two_levels_at_most() -> None:
    d = submitted()
    a1 = d.propose_amendment("a1", "p1", lt("Redistribute 60% by key 1\nline 2 amended"), "dir1", AT)
    assert a1.level == 1 and a1.proposal_id == "p1" and a1.author_id == "dir1"
    assert "-line two" in a1.diff.en and "+line 2 amended" in a1.diff.en
    a2 = d.propose_amendment("a2", "a1", lt("Redistribute 60% by key 1\nline 2 amended twice"), "dir2", AT)
    assert a2.level == 2 and a2.proposal_id == "p1" and "-line 2 amended" in a2.diff.nl
    with pytest.raises(FailedPrecondition) as e:
        d.propose_amendment("a3", "a2", lt("deeper"), "dir3", AT)
    assert (e.value.field, e.value.reason) == ("parent_id", "AMENDMENT_TOO_DEEP")
    assert "a3" not in d.amendments


def test_amendments_are_voted_before_what_they_amend_and_an_adopted_one_becomes_the_text() -> None:
    d = submitted()
    d.propose_amendment("a1", "p1", lt("one"), "dir1", AT)
    d.propose_amendment("a2", "a1", lt("two"), "dir2", AT)
    order = [r.subject_id for r in d.voting_order(1)]
    assert order.index("a2") < order.index("a1") < order.index("p1")
    with pytest.raises(FailedPrecondition) as e:
        d.record_outcome("p1", ADOPTED, "x", AT)
    assert e.value.reason == "AMENDMENTS_PENDING"
    d.record_outcome("a2", ADOPTED, "dec-a2", AT)
    assert d.amendments["a1"].text == lt("two") and d.amendments["a1"].proposed_text == lt("one")
    d.record_outcome("a1", ADOPTED, "dec-a1", AT)
    assert d.states["p1"].text_to_vote == lt("two")
    assert d.ref("p1").text == lt("two") and d.version(1).proposals[1].text == lt("Redistribute 60% by key 1\nline two")
    d.record_outcome("p1", ADOPTED, "dec-p1", AT)
    assert d.status == DECIDED and d.states["p1"].status == ADOPTED
    with pytest.raises(FailedPrecondition) as e:
        d.record_outcome("p3", ADOPTED, "dec-p3", AT)
    assert e.value.reason == "ANOTHER_PROPOSAL_ADOPTED"
    d.record_outcome("p3", REJECTED, "dec-p3", AT)


def test_no_amendment_on_an_adopted_proposal() -> None:
    d = submitted()
    d.record_outcome("p0", ADOPTED, "dec", AT)
    with pytest.raises(FailedPrecondition) as e:
        d.propose_amendment("a1", "p0", lt("late"), "dir1", AT)
    assert (e.value.field, e.value.reason) == ("parent_id", "AMENDED_SUBJECT_ADOPTED")


def test_no_amendment_on_a_rejected_proposal_nor_an_unknown_one() -> None:
    d = submitted()
    d.record_outcome("p0", REJECTED, "dec", AT)
    with pytest.raises(FailedPrecondition) as e:
        d.propose_amendment("a1", "p0", lt("late"), "dir1", AT)
    assert e.value.reason == "AMENDED_SUBJECT_REJECTED"
    with pytest.raises(NotFound):
        d.propose_amendment("a1", "zz", lt("late"), "dir1", AT)


def test_an_amendment_must_change_the_text_and_be_complete() -> None:
    d = submitted()
    with pytest.raises(InvalidArgument) as e:
        d.propose_amendment("a1", "p0", d.states["p0"].text_to_vote, "dir1", AT)
    assert e.value.reason == "AMENDMENT_CHANGES_NOTHING"
    with pytest.raises(InvalidArgument) as e:
        d.propose_amendment("a1", "p0", LocalizedText(fr="x"), "dir1", AT)
    assert e.value.field == "text.nl"


def test_withdrawal_by_its_author_takes_sub_amendments_along() -> None:
    d = submitted()
    d.propose_amendment("a1", "p1", lt("one"), "dir1", AT)
    d.propose_amendment("a2", "a1", lt("two"), "dir2", AT)
    with pytest.raises(FailedPrecondition) as e:
        d.withdraw_amendment("a1", "dir2", AT)
    assert e.value.reason == "NOT_THE_AUTHOR"
    d.withdraw_amendment("a1", "dir1", AT)
    assert d.amendments["a1"].status == WITHDRAWN and d.amendments["a2"].status == WITHDRAWN
    assert d.states["p1"].status == OPEN


def test_send_back_needs_reasons_and_a_future_due_date_and_no_adopted_proposal() -> None:
    d = submitted()
    with pytest.raises(InvalidArgument) as e:
        d.send_back(1, LocalizedText(), date(2027, 4, 1), "m", "i", "dec", AT)
    assert e.value.reason == "SEND_BACK_REASONS_MISSING"
    with pytest.raises(InvalidArgument) as e:
        d.send_back(1, lt("r"), date(2027, 2, 1), "m", "i", "dec", AT)
    assert e.value.reason == "DUE_DATE_PAST"
    d.propose_amendment("a1", "p1", lt("one"), "dir1", AT)
    d.record_outcome("p0", ADOPTED, "dec", AT)
    with pytest.raises(FailedPrecondition) as e:
        d.send_back(1, lt("r"), date(2027, 4, 1), "m", "i", "dec", AT)
    assert e.value.reason == "PROPOSAL_ADOPTED"


def test_send_back_rejects_open_amendments_and_version_one_can_no_longer_be_amended() -> None:
    d = submitted()
    d.propose_amendment("a1", "p1", lt("one"), "dir1", AT)
    d.send_back(1, lt("r"), date(2027, 4, 1), "m", "i", "dec", AT)
    assert d.amendments["a1"].status == REJECTED
    with pytest.raises(FailedPrecondition):
        d.propose_amendment("a9", "p2", lt("x"), "dir1", AT)
    with pytest.raises(FailedPrecondition) as e:
        d.record_outcome("p2", ADOPTED, "dec", AT)
    assert e.value.reason == "VERSION_NOT_BEFORE_BOARD"


def test_outcome_is_adopted_or_rejected() -> None:
    d = submitted()
    with pytest.raises(InvalidArgument) as e:
        d.record_outcome("p0", "maybe", None, AT)
    assert e.value.field == "outcome"


@pytest.mark.parametrize(("filename", "media_type", "size", "reason"), [
    ("", "application/pdf", 3, "INVALID_FILENAME"), ("../a.pdf", "", 3, "INVALID_FILENAME"),
    ("a\nb.pdf", "", 3, "INVALID_FILENAME"), ("a.pdf", "pdf", 3, "INVALID_MEDIA_TYPE"),
    ("a.pdf", "", 0, "DOCUMENT_EMPTY"), ("a.pdf", "", 11, "DOCUMENT_TOO_LARGE")])
def test_a_document_upload_is_checked_before_any_byte_is_stored(filename, media_type, size, reason) -> None:
    from coop_board.domain.dossiers_documents import check_upload

    with pytest.raises(InvalidArgument) as e:
        check_upload(filename, media_type, size, 10)
    assert e.value.reason == reason and e.value.field.startswith("document.")
    assert check_upload("a.pdf", "Application/PDF", 10, 10) == "application/pdf"
