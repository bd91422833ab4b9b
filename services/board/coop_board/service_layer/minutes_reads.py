"""The members' reads of published minutes and decisions: list and search by date range and
topic (text search in the reader's language), cursor pagination. Served from the denormalized
published rows (one per language) on the read pool: no unit of work, no transaction."""

from __future__ import annotations

from datetime import date

from coop_board.domain import roles
from coop_board.domain.minutes_public import PublishedDecision, PublishedMinutes, fold
from coop_board.domain.texts import LANGUAGES
from coop_board.service_layer.ports_minutes import PublishedReads
from coop_domain.errors import InvalidArgument, NotFound
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal

READERS = (roles.MEMBER, *roles.BOARD_READERS)
MAX_QUERY = 200


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise InvalidArgument("language is fr, nl or en", field="language", reason="UNKNOWN_LANGUAGE")
    return language


def _range(since: date | None, until: date | None) -> None:
    if since and until and since > until:
        raise InvalidArgument("from_date is after to_date", field="from_date", reason="INVALID_DATE_RANGE")


def _query(query: str) -> str:
    if len(query) > MAX_QUERY:
        raise InvalidArgument(f"a search is at most {MAX_QUERY} characters", field="query", reason="QUERY_TOO_LONG")
    return fold(query.strip())


def list_published_minutes(reads: PublishedReads, caller: Principal, language: str, since: date | None, until: date | None,
                           query: str, requested_size: int, token: str) -> tuple[list[PublishedMinutes], str]:
    caller.require(*READERS)
    lang, text = _language(language), _query(query)
    _range(since, until)
    size = page_size(requested_size, default=20, maximum=100)
    position = decode_page_token(token, f"published_minutes:{lang}", 2)
    rows = reads.minutes_page(caller.tenant, lang, since, until, text, tuple(position) if position else None, size + 1)
    more, rows = len(rows) > size, rows[:size]
    last = rows[-1] if rows else None
    next_token = encode_page_token(f"published_minutes:{lang}", last.meeting_date.isoformat(), last.minutes_id) \
        if more and last else ""
    return rows, next_token


def search_published_decisions(reads: PublishedReads, caller: Principal, language: str, since: date | None,
                               until: date | None, query: str, requested_size: int,
                               token: str) -> tuple[list[PublishedDecision], str]:
    caller.require(*READERS)
    lang, text = _language(language), _query(query)
    _range(since, until)
    size = page_size(requested_size, default=20, maximum=100)
    position = decode_page_token(token, f"published_decisions:{lang}", 2)
    rows = reads.decisions_page(caller.tenant, lang, since, until, text, tuple(position) if position else None,
                                size + 1)
    more, rows = len(rows) > size, rows[:size]
    last = rows[-1] if rows else None
    next_token = encode_page_token(f"published_decisions:{lang}", last.meeting_date.isoformat(), last.decision_id) \
        if more and last else ""
    return rows, next_token


def get_published_decision(reads: PublishedReads, caller: Principal, decision_id: str, language: str) -> PublishedDecision:
    caller.require(*READERS)
    lang = _language(language)
    if not decision_id:
        raise InvalidArgument("decision_id is required", field="decision_id", reason="DECISION_ID_REQUIRED")
    found = reads.decision(caller.tenant, decision_id, lang)
    if found is None:
        raise NotFound(f"no published decision {decision_id}", field="decision_id", reason="DECISION_NOT_FOUND")
    return found


def published_minutes(reads: PublishedReads, caller: Principal, minutes_id: str, language: str) -> PublishedMinutes:
    """The public part of published minutes in one language (what RenderMinutes renders)."""
    caller.require(*READERS)
    lang = _language(language)
    if not minutes_id:
        raise InvalidArgument("minutes_id is required", field="minutes_id", reason="MINUTES_ID_REQUIRED")
    found = reads.minutes(caller.tenant, minutes_id, lang)
    if found is None:
        raise NotFound(f"no published minutes {minutes_id}", field="minutes_id", reason="MINUTES_NOT_PUBLISHED")
    return found
