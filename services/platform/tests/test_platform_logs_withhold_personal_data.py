"""Logged database errors never carry the values of the statement (hardening issue, point 7): an
internal error during a cast or a registration used to log voter ids, ballot contents or personal
data, because SQLAlchemy prints the bound parameters and PostgreSQL repeats the offending value."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from coop_platform.db import make_engine
from coop_platform.logs import configure_logging, describe_exception
from coop_testkit import postgres_database

EMAIL = "anne.peeters@example.be"


@pytest.fixture(scope="module")
def engine():
    with postgres_database() as url:
        eng = make_engine(url, pool_size=2)
        yield eng
        eng.dispose()


def logged_failure(engine, statements: list[tuple[str, dict]]) -> tuple[str, DBAPIError]:
    stream = io.StringIO()
    configure_logging("membership", "INFO", stream=stream)
    try:
        with engine.begin() as conn:
            for sql, params in statements:
                conn.execute(text(sql), params)
    except DBAPIError as exc:
        logging.getLogger("coop.test").exception("bug: RegisterMember failed")
        return stream.getvalue(), exc
    finally:
        logging.getLogger().handlers.clear()
    raise AssertionError("the statements did not fail")


def test_a_unique_violation_is_logged_without_the_duplicate_value(engine):
    log, exc = logged_failure(engine, [
        ("CREATE TEMP TABLE contacts (email text PRIMARY KEY)", {}),
        ("INSERT INTO contacts VALUES (:email)", {"email": EMAIL}),
        ("INSERT INTO contacts VALUES (:email)", {"email": EMAIL}),
    ])
    assert EMAIL in str(exc.orig)  # what PostgreSQL says, and what used to be logged
    record = json.loads(log.strip().splitlines()[-1])
    assert EMAIL not in log
    assert "SQLSTATE 23505" in record["exc_info"] and "constraint_name=contacts_pkey" in record["exc_info"]
    assert "INSERT INTO contacts" in record["exc_info"]


def test_a_failed_cast_is_logged_without_the_value_or_the_bound_parameters(engine):
    log, exc = logged_failure(engine, [("SELECT CAST(:ballot AS integer)", {"ballot": "voter-7f3a:candidate-B"})])
    assert "voter-7f3a" not in str(exc).split("[SQL")[1]  # the engine hides the bound parameters
    assert "voter-7f3a" not in log
    assert "SQLSTATE 22P02" in log


def test_errors_that_are_not_from_the_database_keep_their_message():
    assert describe_exception(ValueError("page_size must be positive")) == "ValueError: page_size must be positive"
