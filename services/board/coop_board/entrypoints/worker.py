"""The board worker process: nameko (eventlet) for the bus and the clock; the only module that
imports it. Consumes elections' `election.results_published` (mandates) and membership's events
(directors' category and good standing), runs the board's timers, and relays the outbox."""

import coop_platform.green  # noqa: F401 - first: eventlet's patching, quietly (DESIGN D1/D2)

# isort: split

from typing import Any  # noqa: E402

from nameko.timer import timer  # noqa: E402,F401 - the families' timers

from coop_board import SERVICE_NAME  # noqa: E402
from coop_board.adapters.events_in_roster import apply_member_event, apply_results_event  # noqa: E402
from coop_board.adapters.unit_of_work import SqlBoardUnitOfWork  # noqa: E402
from coop_board.entrypoints import worker_roster  # noqa: E402
from coop_domain.clock import local_date, utcnow  # noqa: E402
from coop_platform.inbox import process_once  # noqa: E402
from coop_platform.worker import (  # noqa: E402
    HandlerMetrics,
    OutboxRelayRunner,
    WorkerResources,
    coop_event_handler,
)

resources = WorkerResources(SERVICE_NAME, SqlBoardUnitOfWork)
settings, engine, uow_factory = resources.settings, resources.engine, resources.uow_factory
now = utcnow  # the worker's clock (tests move it)


class BoardWorker:
    """Mandates from elections, the members projection, the board's timers, the outbox relay."""

    name = SERVICE_NAME
    metrics = HandlerMetrics()
    relay = OutboxRelayRunner(engine, settings)

    def _apply(self, consumer: str, envelope: dict[str, Any], effect: Any) -> None:
        process_once(uow_factory, f"{SERVICE_NAME}.{consumer}", envelope, effect)

    # --- roster ----------------------------------------------------------------------------

    @coop_event_handler("elections", "election.results_published", max_deliveries=5)
    def on_election_results_published(self, envelope: dict[str, Any]) -> None:
        """Mandates of the elected (natural key: a second copy under another id creates none)."""
        self._apply("on_election_results_published", envelope,
                    lambda uow, env: apply_results_event(uow, env, worker_roster.ROSTER))

    @coop_event_handler("membership", "member.admitted", max_deliveries=5)
    def on_member_admitted(self, envelope: dict[str, Any]) -> None:
        self._apply("on_member_admitted", envelope, apply_member_event)

    @coop_event_handler("membership", "member.updated", max_deliveries=5)
    def on_member_updated(self, envelope: dict[str, Any]) -> None:
        self._apply("on_member_updated", envelope, apply_member_event)

    @coop_event_handler("membership", "member.status_changed", max_deliveries=5)
    def on_member_status_changed(self, envelope: dict[str, Any]) -> None:
        self._apply("on_member_status_changed", envelope, apply_member_event)

    @coop_event_handler("membership", "share.paid", max_deliveries=5)
    def on_share_paid(self, envelope: dict[str, Any]) -> None:
        self._apply("on_share_paid", envelope, apply_member_event)

    @coop_event_handler("membership", "member.erased", max_deliveries=5)
    def on_member_erased(self, envelope: dict[str, Any]) -> None:
        self._apply("on_member_erased", envelope, apply_member_event)

    @timer(interval=worker_roster.TICK_SECONDS)
    def roster_timer(self) -> int:
        """Completed terms (mandate.ended) and the coop_board_* gauges."""
        return worker_roster.roster_tick(uow_factory, local_date(now()))

    # --- meetings --------------------------------------------------------------------------

    @timer(interval=60)
    def announce_frozen_agendas(self) -> int:
        """meeting.agenda_published (frozen) once an agenda's freeze time has passed; the gauge of
        overdue follow-up actions (coop_board_overdue_actions, alert CoopBoardActionsOverdue)."""
        from coop_board.entrypoints.metrics_meetings import OVERDUE_ACTIONS
        from coop_board.service_layer.decisions import overdue_action_counts
        from coop_board.service_layer.meetings import announce_frozen_agendas
        from coop_domain.principal import system_principal

        system = system_principal(SERVICE_NAME)
        for tenant, count in overdue_action_counts(uow_factory(), system, local_date(now())).items():
            OVERDUE_ACTIONS.labels(tenant=tenant).set(count)
        return announce_frozen_agendas(uow_factory(), system, now())

    # --- dossiers --------------------------------------------------------------------------

    # --- minutes ---------------------------------------------------------------------------

    @timer(interval=60)
    def minutes_translation_gauges(self) -> tuple[int, int]:
        """coop_board_translation_tasks_open / _overdue: minutes waiting for a translation."""
        from coop_board.adapters.metrics_minutes import (
            TRANSLATION_TASKS_OPEN,
            TRANSLATION_TASKS_OVERDUE,
        )
        from coop_board.adapters.repository_minutes import translation_task_counts

        with uow_factory().reading() as conn:
            open_tasks, overdue = translation_task_counts(conn, local_date(now()))
        TRANSLATION_TASKS_OPEN.set(open_tasks)
        TRANSLATION_TASKS_OVERDUE.set(overdue)
        return open_tasks, overdue

    # --- observers -------------------------------------------------------------------------
    from coop_board.adapters import metrics_observers as observer_metrics  # noqa: E402 - kept in its section

    @timer(interval=observer_metrics.gauge_interval())
    def observer_gauges(self) -> dict[str, tuple[int, int, int]]:
        """coop_board_observer_seats, _seats_taken and coop_board_observers_waiting per tenant."""
        return self.observer_metrics.refresh_gauges(uow_factory(), now())

    # --- initiatives -----------------------------------------------------------------------
    from coop_board.entrypoints import worker_initiatives  # noqa: E402 - kept in its section

    @timer(interval=worker_initiatives.TICK_SECONDS)
    def initiatives_timer(self) -> dict[str, int]:
        """Admissible by default, qualification backstop, expiry, overdue outcomes and the
        coop_board_outcomes_overdue gauge (alert CoopBoardOutcomesOverdue)."""
        return self.worker_initiatives.initiatives_tick(uow_factory, now())

    # --- assembly --------------------------------------------------------------------------
    from coop_board.entrypoints import worker_assembly  # noqa: E402 - kept in its section

    @timer(interval=worker_assembly.TICK_SECONDS)
    def assembly_convocations(self) -> int:
        """assembly.convened to each member of an Assembly being convened, batch after batch
        (coop_board_convocations_sent_total); a seat left free while members wait is given."""
        return self.worker_assembly.convocation_tick(uow_factory, now())

    # ----------------------------------------------------------------------------------------


def main() -> None:
    resources.run(BoardWorker)


if __name__ == "__main__":
    main()
