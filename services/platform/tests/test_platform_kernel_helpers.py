"""The small shared helpers every service uses instead of its own copy: page tokens, page sizes,
dates, timestamps, update masks, the clock and the dialect differences."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.type.date_pb2 import Date
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, select

from coop_domain.clock import FixedClock, as_utc
from coop_domain.errors import InvalidArgument
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_platform.pbtypes import from_date, from_timestamp, mask_paths, to_date, to_timestamp
from coop_platform.sqlkit import POSTGRESQL, SQLITE, dialect_of, statement


def test_a_page_token_round_trips_its_position():
    token = encode_page_token("invoices", 2026, "b7c1")
    assert decode_page_token(token, "invoices", 2) == [2026, "b7c1"]
    assert decode_page_token("", "invoices", 2) is None


@pytest.mark.parametrize("token", ["garbage!", encode_page_token("members", 5), encode_page_token("invoices", 1)])
def test_a_page_token_of_another_list_or_shape_is_refused_naming_the_field(token):
    with pytest.raises(InvalidArgument) as caught:
        decode_page_token(token, "invoices", 2)
    assert caught.value.field == "page_token" and caught.value.reason == "INVALID_PAGE_TOKEN"


@pytest.mark.parametrize("position", [("2026", "b7c1"), (True, "b7c1"), (2026, 7)])
def test_a_page_token_whose_position_has_other_types_is_refused(position):
    assert decode_page_token(encode_page_token("invoices", 2026, "b7c1"), "invoices", 2,
                             types=(int, str)) == [2026, "b7c1"]
    with pytest.raises(InvalidArgument) as caught:
        decode_page_token(encode_page_token("invoices", *position), "invoices", 2, types=(int, str))
    assert caught.value.reason == "INVALID_PAGE_TOKEN"


def test_page_size_defaults_caps_and_refuses_negative():
    assert page_size(0) == 100 and page_size(5000) == 1000 and page_size(7) == 7
    with pytest.raises(InvalidArgument):
        page_size(-1)


def test_dates_round_trip_and_an_impossible_date_names_its_field():
    assert from_date(to_date(date(2024, 2, 29))) == date(2024, 2, 29)
    assert from_date(Date()) is None
    with pytest.raises(InvalidArgument) as caught:
        from_date(Date(year=2026, month=2, day=30), field="assembly_day")
    assert caught.value.field == "assembly_day"
    with pytest.raises(InvalidArgument):
        from_date(Date(), field="opens_on", required=True)


def test_timestamps_are_aware_utc_and_unset_is_none():
    at = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    assert from_timestamp(to_timestamp(at)) == at
    assert from_timestamp(to_timestamp(datetime(2026, 12, 6, 10, 0))) == at  # naive taken as UTC
    assert to_timestamp(None) is None
    from google.protobuf.timestamp_pb2 import Timestamp
    assert from_timestamp(Timestamp()) is None


def test_an_update_mask_must_name_updatable_fields():
    assert mask_paths(FieldMask(paths=["email"]), {"email", "phone"}) == ["email"]
    with pytest.raises(InvalidArgument) as caught:
        mask_paths(FieldMask(paths=["member_no"]), {"email"})
    assert caught.value.reason == "FIELD_NOT_UPDATABLE"
    with pytest.raises(InvalidArgument):
        mask_paths(FieldMask(), {"email"})


def test_a_fixed_clock_holds_still_until_moved():
    clock = FixedClock(datetime(2026, 1, 1))
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC) == as_utc(datetime(2026, 1, 1))
    assert clock.advance(days=1) == datetime(2026, 1, 2, tzinfo=UTC)


def test_a_cached_statement_is_built_once_per_shape():
    built: list[int] = []

    @statement
    def by_size(n: int) -> str:
        built.append(n)
        return f"stmt{n}"

    assert by_size(3) is by_size(3) and by_size(4) == "stmt4"
    assert built == [3, 4]


def test_the_dialect_of_sqlite_locks_nothing_and_upserts_with_its_own_insert():
    engine = create_engine("sqlite://")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True))
    assert dialect_of(engine) is SQLITE and not SQLITE.one_driver_statement
    query = select(table)
    assert SQLITE.for_update(query) is query
    assert "FOR UPDATE" in str(POSTGRESQL.for_update(query).compile(dialect=__import__(
        "sqlalchemy.dialects.postgresql", fromlist=["dialect"]).dialect()))
    assert hasattr(SQLITE.insert(table), "on_conflict_do_nothing")
