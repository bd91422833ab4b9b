"""coopgov elections service.

The pure counting/verification domain lives in :mod:`coop_elections.domain`
(stdlib only) so that partner cooperatives, auditors and the worker/api
entrypoints can all recount an election with the same code.
"""

SERVICE_NAME = "elections"
