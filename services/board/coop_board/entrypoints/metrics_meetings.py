"""The meetings family's business metrics (no per-person label): served by the api's metrics
endpoint with the platform's."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

MEETINGS_SCHEDULED = Counter("coop_board_meetings_scheduled_total", "Board meetings scheduled.")
BALLOTS = Counter("coop_board_ballots_total", "Ballots recorded (cast or by show of hands), by vote kind.",
                  ["secret"])
VOTES_CLOSED = Counter("coop_board_votes_closed_total", "Votes closed, by outcome (adopted, rejected).",
                       ["outcome"])
DECISIONS = Counter("coop_board_decisions_total", "Decisions taken, by kind (adopted, sent_back).", ["kind"])
REFUSED = Counter("coop_board_meeting_refusals_total",
                  "Meeting writes refused for a rule of the statutes (quorum, recusal, frozen agenda), by reason.",
                  ["reason"])
WATCHED = frozenset({"QUORUM_NOT_MET", "DIRECTOR_RECUSED", "NOT_A_SITTING_DIRECTOR", "AGENDA_NOT_FROZEN",
                     "AGENDA_FROZEN", "ALREADY_VOTED"})
OVERDUE_ACTIONS = Gauge("coop_board_overdue_actions",
                        "Follow-up actions of the board's decisions past their due date and not done (the worker's "
                        "timer sets it every minute).", ["tenant"])
