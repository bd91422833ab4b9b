"""Use cases of members' yearly statements: one member's, and the year-end run over everyone,
streamed in chunks from set-based queries (the statements run is benchmarked: keep it so)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from coop_billing.domain.checks import int64, parse_uuid
from coop_billing.domain.statement import LANGUAGES, MemberStatement, render_html, render_text
from coop_billing.service_layer.common import check_year, known_member
from coop_billing.service_layer.ports import BillingUnitOfWork
from coop_domain.errors import DomainError, InvalidArgument
from coop_domain.principal import Principal

log = logging.getLogger(__name__)
STATEMENT_CHUNK = 1000
#: who runs the year-end statements
RUNNERS = ("admin", "service")


@dataclass(frozen=True)
class RenderedStatement:
    statement: MemberStatement
    language: str
    html: str
    text: str


@dataclass(frozen=True)
class StatementFailure:
    """A member whose statement could not be produced: the stream says why and goes on."""

    member_id: str
    year: int
    reason: str


def _check_language(language: str) -> str:
    language = (language or "").strip().lower()
    if language and language not in LANGUAGES:
        raise InvalidArgument(f"language must be one of {', '.join(LANGUAGES)}", field="language",
                              reason="UNSUPPORTED_LANGUAGE")
    return language


def get_statement(uow: BillingUnitOfWork, caller: Principal, member_id: str, year: int,
                  language: str = "") -> RenderedStatement:
    """One member's statement for a year, in `language` or the member's own."""
    caller.require_self_or(member_id, "admin", "teller")
    member_id = parse_uuid(member_id, "member_id")
    check_year(year)
    language = _check_language(language)
    with uow:
        member = known_member(uow.read_only(), member_id)
        figures = uow.statements.statement_figures(member_id, year)
        rates = uow.statements.applied_rates_of([member_id], year)[member_id]
    return _render_statement(member, figures, rates, year, language)


def statement_failure(member_id: str, year: int, exc: Exception) -> StatementFailure:
    """The failure to stream for one member (a domain refusal as it is, anything else logged)."""
    if isinstance(exc, DomainError):
        return StatementFailure(member_id, year, str(exc))
    log.exception("bug: the %s statement of member %s failed", year, member_id)
    return StatementFailure(member_id, year, "internal error; it has been logged")


def statements(uow: BillingUnitOfWork, caller: Principal, year: int, language: str = "", after: str = "",
               limit: int = 0) -> tuple[int, Iterator[RenderedStatement | StatementFailure]]:
    """Every member's statement for a year, in member-id order after `after` (to resume), at
    most `limit` (0: all): (how many there will be, the statements). The figures come from
    set-based queries per chunk of members, so the year-end run costs a few scans per
    thousand members instead of several queries per member. A member whose statement cannot
    be produced comes as a StatementFailure: the run never stops at one member."""
    caller.require(*RUNNERS)
    check_year(year)
    language = _check_language(language)
    if after:
        after = parse_uuid(after, "page_token")
    if limit < 0:
        raise InvalidArgument("limit cannot be negative", field="limit", reason="NEGATIVE_LIMIT")
    with uow:
        total = uow.read_only().members.member_count(after)
    total = min(total, limit) if limit else total

    def generate() -> Iterator[RenderedStatement | StatementFailure]:
        cursor, left = after, total
        while left > 0:
            with uow:
                members = uow.read_only().members.members_page(cursor, min(STATEMENT_CHUNK, left))
                if not members:
                    return
                ids = [m.member_id for m in members]
                figures = uow.statements.statement_figures_of(ids, year)
                rates = uow.statements.applied_rates_of(ids, year)
            for member in members:
                try:
                    yield _render_statement(member, figures[member.member_id], rates[member.member_id], year,
                                            language)
                except Exception as exc:  # noqa: BLE001 - one member never stops the year-end run
                    yield statement_failure(member.member_id, year, exc)
            cursor, left = members[-1].member_id, left - len(members)

    return total, generate()


def _render_statement(member: Any, figures: dict[str, int], rates: tuple[tuple[int, ...], tuple[int, ...]],
                      year: int, language: str) -> RenderedStatement:
    lang = language or (member.preferred_language if member.preferred_language in LANGUAGES else "fr")
    name = f"{member.given_name} {member.family_name}".strip() or member.member_number or member.member_id
    for figure, cents in figures.items():
        int64(cents, f"statement {year}: {figure}")
    statement = MemberStatement(
        member_id=member.member_id, member_name=name, year=year,
        revenue_excl_vat_cents=figures["revenue"], revenue_contribution_cents=figures["contribution"],
        employer_social_charges_cents=figures["social"], employment_contribution_cents=figures["employment"],
        share_fee_cents=figures["share_fee"], budget_in_cents=figures["budget_in"],
        budget_out_cents=figures["budget_out"], contracts_paid=figures["contracts"],
        gross_salaries_cents=figures["gross"], revenue_rates_bp=rates[0], employment_rates_bp=rates[1])
    return RenderedStatement(statement, lang, render_html(statement, lang), render_text(statement, lang))
