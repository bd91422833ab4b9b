"""Servicers of the observers family (registered by entrypoints/grpc_api.py)."""

from __future__ import annotations

from typing import Any

# (servicer class taking (uow_factory, clock), add_<Service>Servicer_to_server, service full name)
SERVICERS: list[tuple[Any, Any, str]] = []
