"""What this service learns about members from membership's events (our own cooperative's
projection), as typed facts. The facts are shared with the board's projection: they live in
`coop_domain.membership` (parsed by `coop_platform.membership_facts`) and are named here too."""

from __future__ import annotations

from coop_domain.membership import MemberChanged, MemberErased, MemberFact

__all__ = ["MemberChanged", "MemberErased", "MemberFact"]
