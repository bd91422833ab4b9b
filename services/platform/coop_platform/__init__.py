"""Shared platform mechanics for every coopgov service.

Config, database and unit of work, transactional outbox and its relay, inbox
(idempotent consumers), CloudEvents envelope, gRPC bootstrap with auth, error
mapping and metrics, the nameko worker base, structured logs. Services import
these; they never copy them.

Import discipline (DESIGN D1/D2): nothing here imports nameko or eventlet except
``coop_platform.green`` (the first import of a worker entrypoint) and ``coop_platform.worker``,
which only worker entrypoints import.
"""
