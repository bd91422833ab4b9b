"""The membership domain on its own: lifecycle, validation, shares, good standing.

The last section checks that the SQL twin of the good-standing rule
(adapters.repositories.good_standing_clause) selects exactly the members the
domain rule says are in good standing, on a real (SQLite) database.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, insert, select

from coop_domain.errors import FailedPrecondition, InvalidArgument
from coop_membership.adapters import orm
from coop_membership.adapters.repositories import good_standing_clause
from coop_membership.domain.model import (
    DEFAULT_GRACE_DAYS,
    DEFAULT_SHARE_CENTS,
    EDITABLE_FIELDS,
    TRANSITIONS,
    Address,
    Category,
    Member,
    MemberDetails,
    Share,
    ShareState,
    ShareYear,
    Status,
    format_member_number,
    good_standing,
    languages_with,
    parse_member_number,
)
from coop_testkit import cooperative_today

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def details(**overrides) -> MemberDetails:
    base = dict(given_name="Ada", family_name="Lovelace", email="ada@example.org",
                country_of_residence="BE", preferred_language="fr")
    base.update(overrides)
    return MemberDetails(**base)


def member(status: Status = Status.APPLICANT, **overrides) -> Member:
    m = Member.apply(details(**overrides), NOW)
    m.member_no = 7
    m.status = status
    return m


# -- lifecycle -------------------------------------------------------------------------------

LEGAL = sorted((a, b) for a, targets in TRANSITIONS.items() for b in targets)
ILLEGAL = sorted((a, b) for a, b in itertools.product(Status, Status) if b not in TRANSITIONS[a])


def test_transition_table_is_the_documented_lifecycle():
    assert set(LEGAL) == {
        (Status.APPLICANT, Status.ACTIVE), (Status.APPLICANT, Status.RESIGNED),
        (Status.ACTIVE, Status.SUSPENDED), (Status.ACTIVE, Status.RESIGNED), (Status.ACTIVE, Status.EXCLUDED),
        (Status.SUSPENDED, Status.ACTIVE), (Status.SUSPENDED, Status.RESIGNED),
        (Status.SUSPENDED, Status.EXCLUDED),
        (Status.RESIGNED, Status.ACTIVE), (Status.EXCLUDED, Status.ACTIVE),
    }


@pytest.mark.parametrize(("source", "target"), LEGAL, ids=lambda s: s.value)
def test_legal_transition_changes_status_and_records_reason_actor_and_time(source, target):
    m = member(source)
    change = m.change_status(target, "  board   decision ", "admin-1", NOW)
    assert m.status == target
    assert (change.from_status, change.to_status) == (source, target)
    assert change.reason == "board decision"
    assert change.actor == "admin-1"
    assert change.at == NOW
    assert change.member_no == 7
    assert m.updated_at == NOW


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=lambda s: s.value)
def test_illegal_transition_is_refused_with_failed_precondition_and_changes_nothing(source, target):
    m = member(source)
    with pytest.raises(FailedPrecondition):
        m.change_status(target, "because", "admin-1", NOW)
    assert m.status == source


@pytest.mark.parametrize("target", [Status.SUSPENDED, Status.EXCLUDED])
def test_suspension_and_exclusion_need_a_reason(target):
    m = member(Status.ACTIVE)
    with pytest.raises(InvalidArgument) as err:
        m.change_status(target, "   ", "admin", NOW)
    assert err.value.field == "reason"
    assert m.status == Status.ACTIVE


def test_reason_longer_than_500_characters_is_invalid():
    with pytest.raises(InvalidArgument):
        member(Status.ACTIVE).change_status(Status.RESIGNED, "x" * 501, "admin", NOW)


def test_first_admission_sets_joined_on_and_readmission_keeps_it():
    m = member(Status.APPLICANT)
    m.change_status(Status.ACTIVE, "", "admin", NOW)
    assert m.joined_on == NOW.date()
    m.change_status(Status.RESIGNED, "", "admin", NOW)
    m.change_status(Status.ACTIVE, "back", "admin", NOW + timedelta(days=400))
    assert m.joined_on == NOW.date()


def test_joined_on_is_the_cooperatives_day_so_an_admission_at_23_30_utc_joins_the_next_day():
    m = member(Status.APPLICANT)
    m.change_status(Status.ACTIVE, "", "admin", datetime(2026, 12, 6, 23, 30, tzinfo=UTC))
    assert m.joined_on == date(2026, 12, 7)  # 00:30 in Brussels


def test_erased_member_cannot_change_status():
    m = member(Status.RESIGNED)
    m.erase(NOW)
    with pytest.raises(FailedPrecondition):
        m.change_status(Status.ACTIVE, "", "admin", NOW)


def test_erase_pseudonymises_but_keeps_identity_number_and_status():
    m = member(Status.RESIGNED, phone="+32 2 123 45 67",
               address=Address("Rue 1", "1000", "Bruxelles", "BE"))
    m.erase(NOW)
    assert (m.given_name, m.family_name) == ("erased", "erased")
    assert m.email is m.phone is m.street is m.postal_code is m.city is m.address_country is None
    assert m.erased and m.member_number == "M000007" and m.status == Status.RESIGNED


# -- validation ------------------------------------------------------------------------------

def test_valid_details_are_normalised():
    d = details(given_name="  Ada  Augusta ", email=" Ada@Example.ORG ", country_of_residence=" be ",
                preferred_language=" EN ", address=Address(" Rue  1 ", "1000", "Bxl", "fr")).normalised()
    assert d.given_name == "Ada Augusta"
    assert d.email == "ada@example.org"
    assert d.country_of_residence == "BE"
    assert d.preferred_language == "en"
    assert d.address.street == "Rue 1" and d.address.country == "FR"


@pytest.mark.parametrize("email", [
    "", "   ", "plain", "a@b", "@example.org", "a@@example.org", "a b@example.org", "a@-example.org",
    "a@example-.org", "a@exa mple.org", "a@.org", ("x" * 65) + "@example.org",
    "a@" + ("b" * 250) + ".org",
])
def test_invalid_email_is_refused(email):
    with pytest.raises(InvalidArgument) as err:
        details(email=email).normalised()
    assert err.value.field == "member.email"


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@sub.example.org", "x_y@a-b.example"])
def test_valid_email_is_accepted(email):
    assert details(email=email).normalised().email == email.lower()


@pytest.mark.parametrize("country", ["", "B", "BEL", "XX", "VF", "ZZ", "12", "uk"])
def test_country_of_residence_must_be_iso_alpha2(country):
    with pytest.raises(InvalidArgument) as err:
        details(country_of_residence=country).normalised()
    assert err.value.field == "member.country_of_residence"


@pytest.mark.parametrize("country", ["BE", "fr", "nl", "DE", "GB", "US", "CD"])
def test_iso_alpha2_countries_are_accepted(country):
    assert details(country_of_residence=country).normalised().country_of_residence == country.upper()


def test_address_country_if_given_must_be_iso_alpha2():
    with pytest.raises(InvalidArgument) as err:
        details(address=Address(country="XX")).normalised()
    assert err.value.field == "member.address.country"


@pytest.mark.parametrize("language", ["", "de", "french", "e"])
def test_unsupported_language_is_refused(language):
    with pytest.raises(InvalidArgument) as err:
        details(preferred_language=language).normalised()
    assert err.value.field == "member.preferred_language"


@pytest.mark.parametrize("language", ["fr", "nl", "en", "FR"])
def test_french_dutch_and_english_are_supported(language):
    assert details(preferred_language=language).normalised().preferred_language == language.lower()


def test_more_languages_can_be_handed_in():
    languages = languages_with(["de", " IT "])
    assert details(preferred_language="it").normalised(languages).preferred_language == "it"
    with pytest.raises(InvalidArgument) as err:
        details(preferred_language="de").normalised()
    assert err.value.reason == "UNSUPPORTED_LANGUAGE"


def test_the_entrypoints_read_the_configured_languages_once_from_the_environment():
    from coop_membership.entrypoints.settings import member_languages

    assert member_languages({"COOP_MEMBER_LANGUAGES": "de, it,"}) == {"fr", "nl", "en", "de", "it"}
    assert member_languages({}) == {"fr", "nl", "en"}


@pytest.mark.parametrize("field", ["given_name", "family_name", "email", "country_of_residence"])
def test_missing_required_field_is_refused_naming_the_field(field):
    with pytest.raises(InvalidArgument) as err:
        details(**{field: "  "}).normalised()
    assert err.value.field == f"member.{field}"


@pytest.mark.parametrize("field", ["given_name", "family_name"])
def test_names_with_control_characters_or_too_long_are_refused(field):
    with pytest.raises(InvalidArgument):
        details(**{field: "Ada\x07"}).normalised()
    with pytest.raises(InvalidArgument):
        details(**{field: "A" * 101}).normalised()


@pytest.mark.parametrize("phone", ["12", "call me", "+32 2 123 45 67 89 10 11 12 13"])
def test_bad_phone_is_refused(phone):
    with pytest.raises(InvalidArgument) as err:
        details(phone=phone).normalised()
    assert err.value.field == "member.phone"


def test_joined_on_in_the_future_is_refused():
    with pytest.raises(InvalidArgument) as err:
        details(joined_on=cooperative_today() + timedelta(days=10)).normalised()
    assert err.value.field == "member.joined_on"


def test_apply_gives_a_new_applicant_with_a_uuid():
    m = Member.apply(details(), NOW)
    assert m.status == Status.APPLICANT
    uuid.UUID(m.member_id)
    assert m.category == Category.USER


def test_update_changes_only_named_fields_and_reports_real_changes():
    m = member(Status.ACTIVE)
    changed = m.update(details(email="new@example.org", family_name="Other"), ["email"], NOW)
    assert changed == ["email"]
    assert m.email == "new@example.org" and m.family_name == "Lovelace"
    assert m.update(details(email="new@example.org"), ["email"], NOW) == []


@pytest.mark.parametrize("paths", [[], ["member_no"], ["status"], ["email", "erased"]])
def test_update_with_empty_or_unknown_paths_is_invalid(paths):
    m = member(Status.ACTIVE)
    with pytest.raises(InvalidArgument) as err:
        m.update(details(), paths, NOW)
    assert err.value.field == "update_paths"


def test_update_validates_the_result():
    m = member(Status.ACTIVE)
    with pytest.raises(InvalidArgument):
        m.update(details(country_of_residence="XX"), ["country_of_residence"], NOW)
    assert m.country_of_residence == "BE"


def test_update_of_erased_member_is_refused():
    m = member(Status.RESIGNED)
    m.erase(NOW)
    with pytest.raises(FailedPrecondition):
        m.update(details(), list(EDITABLE_FIELDS), NOW)


@pytest.mark.parametrize(("number", "expected"), [("M000042", 42), ("m42", 42), (" M000001 ", 1)])
def test_member_number_round_trip(number, expected):
    assert parse_member_number(number) == expected
    assert format_member_number(42) == "M000042"


@pytest.mark.parametrize("number", ["", "M", "42", "X000042", "M-1", "M4 2", "M²", "M1234567890123"])
def test_malformed_member_number_is_invalid_argument(number):
    with pytest.raises(InvalidArgument):
        parse_member_number(number)


# -- shares ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    dict(year=1899), dict(year=2201), dict(year=2026, amount_cents=0), dict(year=2026, amount_cents=-5),
    dict(year=2026, amount_cents=10_000_001), dict(year=2026, grace_days=-1), dict(year=2026, grace_days=367),
])
def test_share_year_policy_out_of_range_is_invalid(kwargs):
    with pytest.raises(InvalidArgument):
        ShareYear(**kwargs)


def test_share_year_defaults_to_30_euros_and_90_days_grace():
    policy = ShareYear(2026)
    assert (policy.amount_cents, policy.grace_days) == (DEFAULT_SHARE_CENTS, DEFAULT_GRACE_DAYS) == (3000, 90)


def share(state: ShareState = ShareState.SUBSCRIBED) -> Share:
    return Share("s1", 7, 2026, 3000, state)


def test_paying_the_exact_amount_marks_the_share_paid():
    s = share()
    assert s.pay(3000, "INV-1", NOW) is True
    assert (s.state, s.payment_reference, s.paid_at) == (ShareState.PAID, "INV-1", NOW)


def test_paying_again_with_the_same_reference_is_a_no_op():
    s = share()
    s.pay(3000, "INV-1", NOW)
    assert s.pay(3000, "INV-1", NOW + timedelta(days=1)) is False
    assert s.paid_at == NOW


def test_paying_a_paid_share_with_another_reference_is_refused():
    s = share()
    s.pay(3000, "INV-1", NOW)
    with pytest.raises(FailedPrecondition):
        s.pay(3000, "INV-2", NOW)


@pytest.mark.parametrize("amount", [2999, 3001, 0, -3000, 300000])
def test_paying_a_wrong_amount_is_invalid_and_leaves_the_share_unpaid(amount):
    s = share()
    with pytest.raises(InvalidArgument) as err:
        s.pay(amount, "INV-1", NOW)
    assert err.value.field == "amount_cents"
    assert s.state == ShareState.SUBSCRIBED


def test_refund_of_a_paid_share_marks_it_refunded():
    s = share()
    s.pay(3000, "INV-1", NOW)
    s.refund(NOW)
    assert (s.state, s.refunded_at) == (ShareState.REFUNDED, NOW)


@pytest.mark.parametrize("state", [ShareState.SUBSCRIBED, ShareState.REFUNDED])
def test_only_a_paid_share_can_be_refunded(state):
    with pytest.raises(FailedPrecondition):
        share(state).refund(NOW)


def test_a_refunded_share_cannot_be_paid_again():
    with pytest.raises(FailedPrecondition):
        share(ShareState.REFUNDED).pay(3000, "INV-9", NOW)


# -- good standing ---------------------------------------------------------------------------

POLICY = ShareYear(2026, grace_days=90)
GRACE_END = date(2026, 1, 1) + timedelta(days=90)  # 2026-04-01, still inside


@pytest.mark.parametrize("status", [s for s in Status if s != Status.ACTIVE])
def test_only_active_members_are_in_good_standing(status):
    assert not good_standing(status, 2026, date(2026, 1, 5), date(2026, 1, 10), POLICY)


def test_active_member_who_paid_this_year_is_in_good_standing_all_year():
    for today in (date(2026, 1, 1), date(2026, 6, 30), date(2026, 12, 31)):
        assert good_standing(Status.ACTIVE, 2026, date(2010, 1, 1), today, POLICY)


def test_paid_later_year_also_counts():
    assert good_standing(Status.ACTIVE, 2027, None, date(2026, 12, 31), POLICY)


def test_last_years_payment_counts_up_to_and_including_the_last_grace_day():
    assert good_standing(Status.ACTIVE, 2025, date(2010, 1, 1), GRACE_END, POLICY)
    assert not good_standing(Status.ACTIVE, 2025, date(2010, 1, 1), GRACE_END + timedelta(days=1), POLICY)


def test_payment_two_years_ago_gives_no_grace():
    assert not good_standing(Status.ACTIVE, 2024, date(2010, 1, 1), date(2026, 1, 1), POLICY)


def test_never_paid_member_is_in_good_standing_only_during_grace_after_joining():
    joined = date(2026, 6, 1)
    assert good_standing(Status.ACTIVE, None, joined, joined, POLICY)
    assert good_standing(Status.ACTIVE, None, joined, joined + timedelta(days=90), POLICY)
    assert not good_standing(Status.ACTIVE, None, joined, joined + timedelta(days=91), POLICY)
    assert not good_standing(Status.ACTIVE, None, None, joined, POLICY)


def test_zero_grace_days_means_pay_by_january_first():
    policy = ShareYear(2026, grace_days=0)
    assert good_standing(Status.ACTIVE, 2025, None, date(2026, 1, 1), policy)
    assert not good_standing(Status.ACTIVE, 2025, None, date(2026, 1, 2), policy)


def test_member_method_delegates_to_the_rule():
    m = member(Status.ACTIVE)
    m.paid_through_year = 2026
    assert m.in_good_standing(date(2026, 5, 1), POLICY)
    m.status = Status.SUSPENDED
    assert not m.in_good_standing(date(2026, 5, 1), POLICY)


def _sql_twin_cases():
    """Every combination of status, paid year and join date around the edges of a few dates."""
    days = [date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 2), date(2026, 12, 31),
            date(2024, 2, 29), date(2024, 12, 31)]
    graces = [0, 1, 90, 366]
    return [(d, g) for d in days for g in graces]


@pytest.fixture(scope="module")
def twin_db():
    engine = create_engine("sqlite://")
    orm.metadata.create_all(engine)
    rows, expected_inputs = [], []
    no = 0
    offsets = [None, -400, -367, -366, -92, -91, -90, -89, -2, -1, 0, 1, 30]
    anchor_days = [date(2026, 1, 1), date(2026, 4, 1), date(2026, 12, 31), date(2024, 2, 29)]
    for status in Status:
        for paid in (None, 2022, 2023, 2024, 2025, 2026, 2027):
            for anchor in anchor_days:
                for off in offsets:
                    if status != Status.ACTIVE and off not in (None, 0):
                        continue  # non-active members are out whatever their dates
                    no += 1
                    joined = None if off is None else anchor + timedelta(days=off)
                    rows.append(dict(
                        member_no=no, member_id=str(uuid.uuid4()), given_name="g", family_name="f",
                        email=f"m{no}@example.org", country_of_residence="BE", preferred_language="fr",
                        category="user", status=status.value, joined_on=joined, paid_through_year=paid,
                        erased=False, created_at=NOW, updated_at=NOW))
                    expected_inputs.append((no, status, paid, joined))
    with engine.begin() as conn:
        conn.execute(insert(orm.members), rows)
    yield engine, expected_inputs
    engine.dispose()


@pytest.mark.parametrize(("today", "grace"), _sql_twin_cases(), ids=str)
def test_sql_good_standing_clause_selects_exactly_the_members_the_domain_rule_accepts(twin_db, today, grace):
    engine, inputs = twin_db
    policy = ShareYear(today.year, grace_days=grace)
    expected = {no for no, status, paid, joined in inputs if good_standing(status, paid, joined, today, policy)}
    with engine.connect() as conn:
        got = set(conn.execute(select(orm.members.c.member_no).where(good_standing_clause(today, policy))).scalars())
        negated = set(conn.execute(
            select(orm.members.c.member_no).where(~good_standing_clause(today, policy))).scalars())
    assert expected, "the fixture must include members in good standing"
    assert got == expected
    assert negated == {no for no, *_ in inputs} - expected
