"""The voter's client library for encrypted elections (issue 14).

What a voter's device runs, and what the member portal's browser client follows byte for byte
(docs/elections.md, "Encrypted ballots and their proofs"): read the published election and its
key, encrypt the answers with their proofs of validity, check the result the way the service
and every auditor will, and keep the ballot's hash as the voter's receipt.

    from coop_elections.client import load_election, prepare_ballot
    election = load_election("election.json")
    prepared = prepare_ballot(election, {"council": ["ana", "ben"], "motion": "yes"})
    prepared.to_json()  # what is sent; prepared.receipt is what the voter keeps

Before casting, a voter may challenge the ballot instead (Benaloh): `prepared.spoiled_json()`
publishes it with its opening, another device runs `audit_spoiled` to see what it holds, and
the voter prepares a fresh ballot. The device commits to the ballot (its receipt) before it
learns whether the ballot will be cast or challenged, so one that encrypts other answers than
the voter's is caught whenever the voter challenges a ballot it falsified.
"""

from .ballots import (
    BALLOT_FORMAT,
    OPENING_FORMAT,
    SPOILED_FORMAT,
    PreparedBallot,
    PublishedElection,
    audit_spoiled,
    check_ballot,
    load_election,
    parse_answer,
    prepare_ballot,
    read_ballot,
    read_opening,
    read_spoiled,
)

__all__ = [
    "BALLOT_FORMAT",
    "OPENING_FORMAT",
    "SPOILED_FORMAT",
    "PreparedBallot",
    "PublishedElection",
    "audit_spoiled",
    "check_ballot",
    "load_election",
    "parse_answer",
    "prepare_ballot",
    "read_ballot",
    "read_opening",
    "read_spoiled",
]
