"""Business metrics of the minutes family (no per-person labels). The api counts publications
and renderings; the worker's timer sets the translation gauges. No grpc import: the worker
(eventlet) imports this module too."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

MINUTES_PUBLISHED = Counter("coop_board_minutes_published_total", "Minutes and errata published to members.")
RENDERED = Counter("coop_board_minutes_rendered_total", "Published minutes rendered, by format.", ["format"])
TRANSLATION_TASKS_OPEN = Gauge("coop_board_translation_tasks_open", "Minutes waiting for a missing translation.")
TRANSLATION_TASKS_OVERDUE = Gauge("coop_board_translation_tasks_overdue",
                                  "Minutes whose missing translation is past its due date.")
