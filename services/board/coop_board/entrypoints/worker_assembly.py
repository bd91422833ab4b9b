"""The assembly family's part of the board worker (entrypoints/worker.py, `# --- assembly`
section): the convocation job and the workshops' settling. No nameko here.

Each tick sends convocations batch after batch (one transaction each, COOP_BOARD_CONVOCATION_BATCH
members) until none is left or `max_batches` went out, so a tick stays short and the next one
resumes where it stopped; two replicas share the work (each batch locks its Assembly's row, the
other skips it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from coop_board.adapters.metrics_assembly import CONVOCATIONS_SENT
from coop_board.domain.assembly import AssemblyRules
from coop_board.entrypoints.settings_assembly import assembly_rules, convocation_tick_seconds
from coop_board.service_layer.assembly import send_convocations, settle_workshops

RULES = assembly_rules()
TICK_SECONDS = convocation_tick_seconds()
MAX_BATCHES = 10  # per tick (10,000 members at the default batch size): a tick stays short


def convocation_tick(uow_factory: Callable[[], Any], now: datetime, rules: AssemblyRules | None = None,
                     max_batches: int | None = None) -> int:
    """Convocations sent by this tick (coop_board_convocations_sent_total)."""
    rules = rules or RULES
    sent = 0
    for _ in range(max_batches or MAX_BATCHES):
        batch = send_convocations(uow_factory(), now, rules)
        if batch is None:
            break
        CONVOCATIONS_SENT.inc(batch[1])
        sent += batch[1]
    settle_workshops(uow_factory(), now)
    return sent
