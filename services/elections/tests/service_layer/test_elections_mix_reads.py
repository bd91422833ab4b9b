"""A tally reads only the last mix of each ranked question: every step is 24 MiB at the
cooperative's scale, and SubmitDecryptionShares, StreamTallyCiphertexts and the finish each build
the tally's input (bench/README.md, memory)."""

from __future__ import annotations

from types import SimpleNamespace

from coop_elections.domain.crypto.elgamal import encrypt
from coop_elections.domain.crypto.group import G, random_scalar
from coop_elections.domain.crypto.tally import BoxTotals, tally_input
from coop_elections.domain.model import ElectionDefinition, Method, Question
from coop_elections.service_layer.encrypted_tally import QuestionMixes, _mixes

KEY = G * random_scalar()
DEFINITION = ElectionDefinition("e-1", (Question("board", Method.STV, ("ana", "ben")),
                                        Question("accounts", Method.RESOLUTION)), tie_break_seed="s")


class _RecordingMixes:
    """The repository's reads of stored mix steps, recorded: two steps of "board"."""

    def __init__(self) -> None:
        self.read: list[int] = []
        self.rows = {step: tuple((encrypt(step, KEY, random_scalar()), encrypt(1, KEY, random_scalar()))
                                 for _ in range(3)) for step in (0, 1)}

    def mix(self, election_id: str, question_id: str, step: int) -> SimpleNamespace:
        self.read.append(step)
        blob = b"".join(ct.to_bytes() for row in self.rows[step] for ct in row)
        return SimpleNamespace(step=step, mixer=f"mixer-{step}", width=2, outputs=blob, proof=b"")


def test_the_tally_input_reads_the_last_mix_of_a_question_and_no_other():
    repository = _RecordingMixes()
    uow = SimpleNamespace(elections=repository)
    state = SimpleNamespace(mixes=(QuestionMixes("board", ("mixer-0", "mixer-1"), "", 3),))  # two steps done
    mixes = _mixes(uow, SimpleNamespace(election_id="e-1"), state)
    assert len(mixes["board"]) == 2 and repository.read == []  # the steps are counted, none read
    tally = tally_input(DEFINITION, BoxTotals(DEFINITION), mixes)
    assert repository.read == [1]
    assert list(tally.rows[0]) == list(repository.rows[1])
