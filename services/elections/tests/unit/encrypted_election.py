"""A small encrypted election run end to end in-process (3 of 5 trustees, six weighted ballots on
five questions, two mixers): what the tally, audit and verifier tests start from."""

from __future__ import annotations

import dataclasses

from coop_elections.domain.crypto import audit as au
from coop_elections.domain.crypto.ballots import encrypt_ballot
from coop_elections.domain.crypto.box import box_head
from coop_elections.domain.crypto.tally import (
    WeightedBallot,
    box_totals,
    count,
    decrypt_all,
    mix,
    mix_inputs,
    open_all,
    tally_input,
)
from coop_elections.domain.crypto.trustees import Dealing, Threshold, combine_shares, qualify
from coop_elections.domain.model import ElectionDefinition, Method, Question
from coop_elections.domain.trackers import new_tracker

NAMES = ("ana", "ben", "cat", "dan")
DEFINITION = ElectionDefinition(
    "election-tally",
    (
        Question("council", Method.STV, NAMES, seats=2),
        Question("motion", Method.RESOLUTION),
        Question("chair", Method.PLURALITY, NAMES),
        Question("budget", Method.APPROVAL, NAMES),
        Question("priorities", Method.SCHULZE, NAMES),
    ),
    tie_break_seed="seed-of-the-tally",
    roll_weight=12,
)
EID = DEFINITION.id.encode()
VOTES = [
    ({"council": ["ana", "ben"], "motion": "yes", "chair": ["ana"], "budget": ["ana", "cat"],
      "priorities": ["ana", "cat", "ben"]}, 1),
    ({"council": ["ben", "ana", "dan"], "motion": "no", "chair": ["ben"], "budget": [],
      "priorities": ["ben"]}, 2),
    ({"council": ["cat"], "motion": "yes", "chair": [], "budget": ["dan"], "priorities": []}, 1),
    ({"council": [], "chair": ["ana"], "budget": ["ana", "ben", "cat", "dan"],
      "priorities": ["dan", "cat", "ben", "ana"]}, 1),
    ({"council": ["ana", "cat", "ben", "dan"], "motion": "abstain", "chair": ["cat"],
      "budget": ["cat"], "priorities": ["cat", "ana"]}, 3),
    ({"council": ["dan", "ana"], "motion": "yes", "chair": ["ana"], "budget": ["ben"],
      "priorities": ["ana"]}, 1),
]


@dataclasses.dataclass
class Election:
    threshold: Threshold
    commitments: tuple
    qualification: object
    key_shares: dict
    ballots: tuple
    mixes: dict
    decryptions: dict
    result: object
    trackers: tuple = ()  # each ballot's tracker, in box order
    head_hash: str = ""

    def record(self, **changes) -> au.EncryptedElectionRecord:
        fields = dict(definition=DEFINITION, threshold=self.threshold, commitments=self.commitments,
                      public_key=self.qualification.public_key, ballots=self.ballots,
                      mixes=self.mixes, decryptions=self.decryptions, result=self.result,
                      trackers=self.trackers, head_hash=self.head_hash)
        return au.EncryptedElectionRecord(**{**fields, **changes})


def run(decrypting=(1, 3, 5)) -> Election:
    threshold = Threshold(3, 5)
    dealings = {i: Dealing.generate(i, threshold) for i in threshold.trustees}
    commitments = tuple(d.publish(EID) for d in dealings.values())
    qualification = qualify(commitments, threshold, EID)
    key_shares = {j: combine_shares(j, {i: d.share_for(j) for i, d in dealings.items()}, qualification)
                  for j in threshold.trustees}
    key = qualification.public_key
    ballots = tuple(WeightedBallot(encrypt_ballot(DEFINITION, content, key), weight)
                    for content, weight in VOTES)
    mixes = {}
    for question in DEFINITION.questions:
        if question.method in (Method.STV, Method.SCHULZE):
            rows, steps = mix_inputs(question, ballots), []
            for step, mixer in enumerate(("service", "observer-of-the-board")):
                steps.append(mix(rows, key, DEFINITION.id, question.id, step, mixer))
                rows = steps[-1].outputs
            mixes[question.id] = tuple(steps)
    totals = box_totals(DEFINITION, ballots)
    tally = tally_input(DEFINITION, totals, mixes)
    decryptions = {t: decrypt_all(key_shares[t], tally.ciphertexts, EID, chunk=7) for t in decrypting}
    plaintexts = open_all(tally.ciphertexts, decryptions, qualification, chunk=5)
    result = count(DEFINITION, totals, tally, plaintexts)
    trackers = tuple(sorted(new_tracker() for _ in ballots))
    head = box_head(DEFINITION.id, ((t, b.weight, b.ballot.to_bytes()) for t, b in zip(trackers, ballots, strict=True)))
    return Election(threshold, commitments, qualification, key_shares, ballots, mixes, decryptions,
                    result, trackers, head)


