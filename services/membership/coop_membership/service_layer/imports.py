"""Bulk import of members (a CSV file sent through ImportMembers): all rows or none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from coop_domain.clock import local_date, utcnow
from coop_domain.errors import InvalidArgument
from coop_domain.principal import Principal
from coop_membership.domain import events as ev
from coop_membership.domain.model import DETAILS_FIELD, Member, MemberDetails, Status
from coop_membership.service_layer.ports import MembershipUnitOfWork

#: Members written per statement batch.
CHUNK = 2000


@dataclass
class ImportRow:
    line: int
    details: MemberDetails | None
    status: Status = Status.ACTIVE
    error: tuple[str, str] | None = None  # (field, message) found while parsing


@dataclass
class ImportReport:
    rows_received: int = 0
    rows_imported: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, field of the row, message)
    committed: bool = False


def row_field(error: InvalidArgument) -> str:
    """The field of an import row an error names ("email", as the report has always said)."""
    return (error.field or "").removeprefix(f"{DETAILS_FIELD}.")


def _validate(rows: list[ImportRow], report: ImportReport,
              languages: frozenset[str]) -> tuple[list[tuple[ImportRow, MemberDetails]], dict[str, int]]:
    valid: list[tuple[ImportRow, MemberDetails]] = []
    seen: dict[str, int] = {}
    for row in rows:
        if row.error:
            report.errors.append((row.line, *row.error))
            continue
        if row.status not in (Status.ACTIVE, Status.APPLICANT):
            report.errors.append((row.line, "status", "imported members are active or applicant"))
            continue
        try:
            details = row.details.normalised(languages) if row.details else None
        except InvalidArgument as exc:
            report.errors.append((row.line, row_field(exc), exc.message))
            continue
        if details is None:
            report.errors.append((row.line, "", "empty row"))
            continue
        if details.email in seen:
            report.errors.append((row.line, "email", f"duplicate of line {seen[details.email]}"))
            continue
        seen[details.email] = row.line
        valid.append((row, details))
    if not rows:
        report.errors.append((0, "", "the file has no member rows"))
    return valid, seen


def import_members(uow: MembershipUnitOfWork, caller: Principal, rows: list[ImportRow], *, dry_run: bool,
                   progress: Callable[[int], None] | None = None) -> ImportReport:
    """All or nothing: any bad row (or duplicate email, in the file or in the register) aborts the file."""
    caller.require("admin")
    report = ImportReport(rows_received=len(rows))
    now = utcnow()
    valid, seen = _validate(rows, report, uow.languages)
    with uow:
        taken = uow.members.emails_taken(seen)
        for row, details in valid:
            if details.email in taken:
                report.errors.append((row.line, "email", f"{details.email} is already a member"))
        report.errors.sort()
        if report.errors or dry_run:
            return report
        members = []
        for row, details in valid:
            member = Member.apply(details, now, uow.languages)
            member.status = row.status
            if row.status == Status.ACTIVE:
                member.joined_on = member.joined_on or local_date(now)
            members.append(member)
        policy = uow.shares.share_year(local_date(now).year)
        for start in range(0, len(members), CHUNK):
            chunk = members[start : start + CHUNK]
            uow.members.import_many(chunk, "imported", caller.subject)
            for member in chunk:
                if member.status == Status.ACTIVE:
                    uow.publish(ev.MemberAdmitted(member, in_good_standing=member.in_good_standing(local_date(now), policy)))
            if progress:
                progress(len(chunk))
        uow.commit()
    report.rows_imported = len(members)
    report.committed = True
    return report
