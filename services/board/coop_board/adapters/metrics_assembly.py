"""Prometheus metrics of the General Assembly: business totals, never per person."""

from __future__ import annotations

from prometheus_client import Counter

CONVOCATIONS_SENT = Counter("coop_board_convocations_sent_total",
                            "General Assembly convocations sent (assembly.convened events written).")
REGISTRATIONS = Counter("coop_board_assembly_registrations_total",
                        "General Assembly registrations by attendance (in_person, remote).", ["attendance"])
CHECK_INS = Counter("coop_board_assembly_check_ins_total", "Members checked in at the General Assembly's door.")
