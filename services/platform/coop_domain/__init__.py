"""The vocabulary every service's pure domain and service layer share: errors, the caller
(`Principal`), a clock, page tokens and the base of domain events.

Pure Python, no third-party import: a domain may import it without importing the platform
(no gRPC, nameko or SQLAlchemy). The platform's gRPC layer turns these errors into rich status.
"""
