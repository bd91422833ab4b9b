"""A reminder is not sent once voting has closed, by the close its context carries."""

from datetime import UTC, datetime, timedelta

from coop_notifications.domain.turnout import voting_closed

CLOSES = datetime(2027, 3, 21, 17, 0, tzinfo=UTC)


def test_voting_is_closed_from_the_closing_instant_on() -> None:
    for closes_at in ("2027-03-21T17:00:00+00:00", "2027-03-21T17:00:00Z", "2027-03-21T18:00:00+01:00"):
        assert not voting_closed(closes_at, CLOSES - timedelta(seconds=1))
        assert voting_closed(closes_at, CLOSES)


def test_a_missing_or_unreadable_close_does_not_hold_the_reminder_back() -> None:
    for closes_at in (None, "", "tomorrow", 1_800_000_000):
        assert not voting_closed(closes_at, CLOSES + timedelta(days=365))
