"""The voter's client library for encrypted elections (issue 14).

What a voter's device runs, and what the member portal's browser client follows byte for byte
(docs/elections.md, "Encrypted ballots and their proofs"): read the published election and its
key, encrypt the answers with their proofs of validity, check the result the way the service
and every auditor will, and keep the ballot's hash as the voter's receipt.

    from coop_elections.client import load_election, prepare_ballot
    election = load_election("election.json")
    prepared = prepare_ballot(election, {"council": ["ana", "ben"], "motion": "yes"})
    prepared.to_json()  # what is sent; prepared.receipt is what the voter keeps
"""

from .ballots import (
    BALLOT_FORMAT,
    PreparedBallot,
    PublishedElection,
    check_ballot,
    load_election,
    parse_answer,
    prepare_ballot,
    read_ballot,
)

__all__ = [
    "BALLOT_FORMAT",
    "PreparedBallot",
    "PublishedElection",
    "check_ballot",
    "load_election",
    "parse_answer",
    "prepare_ballot",
    "read_ballot",
]
