"""The General Assembly's rules (domain/assembly.py), without storage: the statutory agenda, the
notice period, the convocation in one language, the registration's choices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coop_board.domain.assembly import (
    BOARD_ELECTION,
    INITIATIVE,
    Assembly,
    AssemblyDocument,
    AssemblyRules,
    Referral,
    Workshop,
    check_registration,
    check_workshop,
    convocation,
    member_language,
)
from coop_board.domain.texts import LocalizedText
from coop_domain.errors import FailedPrecondition, InvalidArgument

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
T = LocalizedText(fr="AG", nl="AV", en="GA")


def assembly(starts_in: timedelta = timedelta(days=40)) -> Assembly:
    doc = AssemblyDocument(LocalizedText(fr="Comptes", nl="Rekeningen", en="Accounts"),
                           LocalizedText(fr="/fr.pdf", nl="/nl.pdf", en="/en.pdf"))
    return Assembly("a1", "coop", T, NOW + starts_in, "Brussels", NOW + starts_in - timedelta(days=5), "el-1",
                    (doc,), NOW, "sec")


def test_the_agenda_has_the_statutory_items_then_referred_initiatives_in_referral_order() -> None:
    later = Referral("coop", "i-2", LocalizedText(fr="b", nl="b", en="b"), NOW + timedelta(hours=1), "a1")
    first = Referral("coop", "i-9", LocalizedText(fr="a", nl="a", en="a"), NOW, "a1")
    items = assembly().agenda([later, first])
    assert [i.kind for i in items][:3] == ["approve_accounts", "discharge_directors", BOARD_ELECTION]
    assert items[2].ref == "el-1" and [(i.kind, i.ref) for i in items[3:]] == [(INITIATIVE, "i-9"), (INITIATIVE, "i-2")]


@pytest.mark.parametrize(("days_before", "allowed"), [(15, True), (16, True), (14.9, False)])
def test_convening_needs_the_statutory_notice(days_before: float, allowed: bool) -> None:
    a = assembly()
    now = a.starts_at - timedelta(days=days_before)
    if allowed:
        a.convene("sec", now, AssemblyRules(), 10)
        assert (a.status, a.convocation_total) == ("convening", 10)
    else:
        with pytest.raises(FailedPrecondition) as exc:
            a.convene("sec", now, AssemblyRules(), 10)
        assert exc.value.reason == "NOTICE_PERIOD_TOO_SHORT" and a.status == "scheduled"


def test_an_assembly_is_convened_once_and_completes_on_a_short_batch() -> None:
    a = assembly()
    a.convene("sec", NOW, AssemblyRules(), 3)
    with pytest.raises(FailedPrecondition):
        a.convene("sec", NOW, AssemblyRules(), 3)
    a.record_batch(2, "m2", False, NOW)
    assert (a.status, a.convocation_cursor, a.convocation_sent) == ("convening", "m2", 2)
    a.record_batch(1, "m3", True, NOW)
    assert (a.status, a.convocation_sent, a.convocation_completed_at) == ("convened", 3, NOW)


def test_a_convocation_holds_the_texts_of_one_language_only() -> None:
    a = assembly()
    c = convocation(a, a.agenda(), "m1", "nl")
    assert (c.language, c.title, c.documents) == ("nl", "AV", (("Rekeningen", "/nl.pdf"),))
    assert c.agenda[0] == "Goedkeuring van de jaarrekening"


@pytest.mark.parametrize(("language", "expected"), [("nl", "nl"), ("EN", "en"), ("de", "fr"), (None, "fr"),
                                                    ("", "fr")])
def test_a_members_language_or_the_fallback(language: str | None, expected: str) -> None:
    assert member_language(language, AssemblyRules(fallback_language="fr")) == expected


def test_registration_closes_at_the_deadline() -> None:
    a = assembly()
    a.require_registration_open(a.registration_deadline)
    with pytest.raises(FailedPrecondition) as exc:
        a.require_registration_open(a.registration_deadline + timedelta(seconds=1))
    assert exc.value.reason == "REGISTRATION_CLOSED"


def test_the_choices_of_a_registration_are_checked() -> None:
    w = {f"w{n}": Workshop(f"w{n}", "coop", "a1", T, 10, "fr", NOW, NOW, NOW) for n in range(4)}
    check_registration("remote", "en", ["w0", "w1", "w2"], w)
    for args, reason in ((("", "fr", []), "INVALID_ATTENDANCE"), (("remote", "it", []), "UNKNOWN_LANGUAGE"),
                         (("remote", "fr", ["w0", "w1", "w2", "w3"]), "TOO_MANY_WORKSHOPS"),
                         (("remote", "fr", ["w0", "w0"]), "DUPLICATE_WORKSHOP"),
                         (("remote", "fr", ["w9"]), "WORKSHOP_NOT_FOUND")):
        with pytest.raises(InvalidArgument) as exc:
            check_registration(*args, w)
        assert exc.value.reason == reason


@pytest.mark.parametrize(("assembly_utc", "workshop_utc", "allowed"), [
    # 10:00 in Brussels; 00:30 the next day in Brussels, though still the same day in UTC
    (datetime(2027, 6, 12, 8, 0, tzinfo=UTC), datetime(2027, 6, 12, 22, 30, tzinfo=UTC), False),
    # 01:00 on the 13th in Brussels (the 12th in UTC); 03:00 the same Brussels day (the 13th in UTC)
    (datetime(2027, 6, 12, 23, 0, tzinfo=UTC), datetime(2027, 6, 13, 1, 0, tzinfo=UTC), True),
    (datetime(2027, 6, 12, 8, 0, tzinfo=UTC), datetime(2027, 6, 12, 14, 0, tzinfo=UTC), True),
])
def test_a_workshop_is_on_the_assemblys_day_in_the_cooperatives_time_zone(assembly_utc, workshop_utc,
                                                                             allowed) -> None:
    ga = assembly()
    ga.starts_at = assembly_utc
    hold = lambda: check_workshop(ga, T, 30, "fr", workshop_utc, workshop_utc + timedelta(hours=1))  # noqa: E731
    if allowed:
        hold()
    else:
        with pytest.raises(InvalidArgument) as refused:
            hold()
        assert refused.value.reason == "WORKSHOP_OUTSIDE_ASSEMBLY"
