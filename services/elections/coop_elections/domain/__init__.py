"""Pure domain of the elections service (stdlib only: no nameko, grpc or SQLAlchemy).

Modules:

* :mod:`.model` - election definitions, questions, majorities, quorums, ballots;
* :mod:`.validation` - ballot validation per question method;
* :mod:`.plurality`, :mod:`.stv`, :mod:`.schulze`, :mod:`.resolution` - counting;
* :mod:`.counting` - a whole election;
* :mod:`.tiebreak` - the seeded, recorded draw;
* :mod:`.ballot_box` - hash-chained ballot box, verification, recount;
* :mod:`.window` - the voting window;
* :mod:`.proxies` - the proxy book;
* :mod:`.errors` - errors only elections have (the rest are `coop_domain.errors`).
"""

from .ballot_box import (
    BallotBox,
    BoxEntry,
    PublishedBox,
    Receipt,
    build_chain,
    find_tracker,
    recount,
    verify_box,
)
from .counting import ElectionResult, count_election, count_question
from .errors import ChainBroken
from .model import CastBallot, ElectionDefinition, Majority, Method, Question, Quorum
from .proxies import Proxy, ProxyBook, ProxyStatus
from .tiebreak import TieBreak, draw_order
from .trackers import new_tracker, normalise_tracker
from .validation import validate_ballot
from .window import VotingWindow

__all__ = [
    "BallotBox",
    "BoxEntry",
    "CastBallot",
    "ChainBroken",
    "ElectionDefinition",
    "ElectionResult",
    "Majority",
    "Method",
    "Proxy",
    "ProxyBook",
    "ProxyStatus",
    "PublishedBox",
    "Question",
    "Quorum",
    "Receipt",
    "TieBreak",
    "VotingWindow",
    "build_chain",
    "count_election",
    "count_question",
    "draw_order",
    "find_tracker",
    "new_tracker",
    "normalise_tracker",
    "recount",
    "validate_ballot",
    "verify_box",
]
