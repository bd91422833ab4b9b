"""Pure domain of the billing-contribution service (standard library only).

No nameko, grpc or SQLAlchemy here (DESIGN D2): both the api and the worker
processes, and the tests, use these objects directly.
"""
