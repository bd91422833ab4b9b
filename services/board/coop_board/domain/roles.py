"""Roles of the board-meetings service, as they appear in a caller's token (docs/board.md, Access).

A role in the token is necessary, never sufficient where the roster decides: a `director` votes
only while a mandate of theirs is sitting on the day of the meeting, and the `secretary` is the
director elected to that office (or an admin acting for the board)."""

DIRECTOR = "director"      # an elected director (subject = member id)
SECRETARY = "secretary"    # the board's secretary: drafts minutes, records attendance, observers
MANAGEMENT = "management"  # the delegated administration: submits dossiers, owns follow-up actions
MEMBER = "member"          # a member: published minutes and decisions, own observer registrations
ADMIN = "admin"            # operations and the chair's staff: everything except voting

BOARD_READERS = (DIRECTOR, SECRETARY, MANAGEMENT, ADMIN)  # may read unpublished and closed items
