"""The encrypted tally and its audit: five trustees make the key, members cast encrypted STV,
Schulze, plurality, approval and resolution ballots (some weighted), two mixers shuffle, three
trustees decrypt, and the result equals the plaintext count of the same ballots. The audit
accepts the honest record and names every single tampered element."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ProcessPoolExecutor

import pytest
from encrypted_election import DEFINITION, EID, NAMES, VOTES, Election, run

from coop_elections.domain.counting import count_election
from coop_elections.domain.crypto import audit as au
from coop_elections.domain.crypto.ballots import EncryptedBallot, decrypt_ballot, encrypt_ballot
from coop_elections.domain.crypto.box import receipt_of
from coop_elections.domain.crypto.elgamal import Ciphertext, KeyPair
from coop_elections.domain.crypto.group import G, Scalar, random_scalar
from coop_elections.domain.crypto.tally import (
    Mix,
    WeightedBallot,
    box_totals,
    count,
    decode_ranking,
    decrypt_all,
    first_bad_share,
    mix_inputs,
    open_all,
    ranking_row,
    selection_totals,
    tally_input,
)
from coop_elections.domain.crypto.trustees import (
    NotEnoughDecryptionShares,
)
from coop_elections.domain.model import CastBallot, Method


@pytest.fixture(scope="module")
def election() -> Election:
    return run()


def _plaintext_count():
    return count_election(DEFINITION, [CastBallot(c, w) for c, w in VOTES])


def test_the_encrypted_tally_equals_the_plaintext_count_of_the_same_ballots(election):
    plain = _plaintext_count()
    assert election.result.ballots == plain.ballots and election.result.total_weight == plain.total_weight
    for question in DEFINITION.questions:
        ours, theirs = election.result.question(question.id), plain.question(question.id)
        if question.method is Method.APPROVAL:  # the sums hide who approved nobody
            assert ours.blank is None
            theirs = dataclasses.replace(theirs, blank=None)
        assert ours == theirs, question.id
    assert election.result.question("council").winners == plain.question("council").winners


def test_each_ballot_holds_what_its_voter_chose_under_the_joint_key(election):
    contents = [(decrypt_ballot(DEFINITION, b.ballot, _joint_secret(election)), b.weight)
                for b in election.ballots]
    assert [c for c, _ in contents] == [_as_decrypted(c) for c, _ in VOTES]


def _joint_secret(election: Election) -> Scalar:
    """The secret no party ever holds, rebuilt here from three key shares to check the test."""
    from coop_elections.domain.crypto.trustees import lagrange_at_zero

    used = (1, 2, 4)
    total = Scalar.from_int(0)
    for t in used:
        total = total + election.key_shares[t].secret * lagrange_at_zero(t, used)
    assert G * total == election.qualification.public_key
    return total


def _as_decrypted(content: dict) -> dict:
    out = {}
    for q in DEFINITION.questions:
        value = content.get(q.id)
        if q.method is Method.RESOLUTION:
            if value is not None:
                out[q.id] = value
        else:
            out[q.id] = [] if value is None else (sorted(value, key=NAMES.index)
                                                  if q.method in (Method.PLURALITY, Method.APPROVAL) else value)
    return out


def test_a_ranking_row_is_the_ballots_positions_which_decode_to_its_ranking():
    key = KeyPair.generate()
    ballot = encrypt_ballot(DEFINITION, {"council": ["cat", "ana"]}, key.public)
    row = ranking_row(ballot.answer("council"))
    from coop_elections.domain.crypto.elgamal import decrypt, discrete_log

    assert row == ballot.answer("council").positions
    assert [discrete_log(decrypt(ct, key.secret), 5) for ct in row] == [2, 4, 1, 5]
    assert decode_ranking(DEFINITION.questions[0], [2, 4, 1, 5]) == ("cat", "ana")
    assert decode_ranking(DEFINITION.questions[0], [2, 3, 4, 5]) == ()  # the cut first: blank


@pytest.mark.parametrize("values", [[1, 0, 2, 3], [1, 1, 2, 3], [6, 1, 2, 3], [1, 2, 3]])
def test_decoding_refuses_what_is_no_ranking(values):
    with pytest.raises(ValueError, match="council"):
        decode_ranking(DEFINITION.questions[0], values)


def test_weights_multiply_the_selection_sums_and_repeat_the_ranking_rows(election):
    council = DEFINITION.questions[0]
    assert len(mix_inputs(council, election.ballots)) == sum(w for _, w in VOTES)
    assert len(selection_totals(DEFINITION.questions[1], election.ballots)) == 3
    assert election.result.question("motion").yes == 1 + 1 + 1  # three yes ballots, weight 1 each
    assert election.result.question("motion").no == 2


def test_the_audit_accepts_the_honest_record(election):
    assert au.audit(election.record()) == []


def test_the_audit_gives_the_same_answer_over_two_processes(election):
    with ProcessPoolExecutor(2) as pool:
        assert au.audit(election.record(), mapper=pool.map) == []


def test_any_three_trustees_decrypt_and_two_do_not_and_are_told_who_is_missing(election):
    tally = tally_input(DEFINITION, box_totals(DEFINITION, election.ballots), election.mixes)
    two = {t: decrypt_all(election.key_shares[t], tally.ciphertexts, EID) for t in (2, 4)}
    with pytest.raises(NotEnoughDecryptionShares) as info:
        open_all(tally.ciphertexts, two, election.qualification)
    assert info.value.missing == (1, 3, 5) and info.value.valid == (2, 4)
    other_three = {**two, 5: election.decryptions[5]}
    plaintexts = open_all(tally.ciphertexts, other_three, election.qualification)
    assert count(DEFINITION, box_totals(DEFINITION, election.ballots), tally, plaintexts) == election.result


def test_the_first_bad_share_is_named_by_its_position_across_chunks_and_processes(election):
    ciphertexts = tally_input(DEFINITION, box_totals(DEFINITION, election.ballots), election.mixes).ciphertexts
    own, other = sorted(election.decryptions)[:2]
    shares = list(election.decryptions[own])
    assert len(shares) > 8
    assert first_bad_share(shares, ciphertexts, election.qualification, own, chunk=3) is None
    assert first_bad_share(shares, ciphertexts, election.qualification, other, chunk=3) == 0  # not theirs
    shares[7] = election.decryptions[other][7]  # another trustee's share, its proof valid for them
    shares[4] = shares[3]  # a share of another ciphertext: its proof fails here
    with ProcessPoolExecutor(2) as pool:
        assert first_bad_share(shares, ciphertexts, election.qualification, own, pool.map, chunk=2) == 4
    shares[4] = election.decryptions[own][4]
    assert first_bad_share(shares, ciphertexts, election.qualification, own, chunk=3) == 7
    with pytest.raises(ValueError, match="shares for"):
        first_bad_share(shares[:-1], ciphertexts, election.qualification, own)


def test_a_tally_needs_two_shuffles_of_each_ranked_question(election):
    with pytest.raises(ValueError, match="at least 2"):
        tally_input(DEFINITION, box_totals(DEFINITION, election.ballots), {q: m[:1] for q, m in election.mixes.items()})


# --- one tampered element at a time: the audit names it ----------------------------------------


def _other_element() -> object:
    return G * random_scalar()


def _flip_ciphertext(ct: Ciphertext) -> Ciphertext:
    return Ciphertext(ct.a, ct.b + G)  # one more vote in it


def _tamper_commitment_coefficient(e: Election):
    """C_21 is not under the proof of knowledge, but every trustee's verification key is computed
    from it: each decryption proof then fails against the tampered commitments."""
    c = e.commitments[1]
    changed = dataclasses.replace(c, coefficients=(c.coefficients[0], _other_element(), *c.coefficients[2:]))
    return e.record(commitments=(e.commitments[0], changed, *e.commitments[2:])), au.DECRYPTION, "trustee 1"


def _tamper_commitment_proof(e: Election):
    c = e.commitments[3]
    other = e.commitments[0].proof
    return (e.record(commitments=(*e.commitments[:3], dataclasses.replace(c, proof=other), e.commitments[4])),
            au.KEY, "trustee 4")


def _tamper_public_key(e: Election):
    return e.record(public_key=_other_element()), au.KEY, "election key"


def _tamper_ballot_ciphertext(e: Election):
    b = e.ballots[2]
    motion = b.ballot.answer("motion")
    forged = dataclasses.replace(motion, ciphertexts=(_flip_ciphertext(motion.ciphertexts[0]),
                                                      *motion.ciphertexts[1:]))
    answers = tuple(forged if a.question_id == "motion" else a for a in b.ballot.answers)
    ballot = WeightedBallot(dataclasses.replace(b.ballot, answers=answers), b.weight)
    return e.record(ballots=(*e.ballots[:2], ballot, *e.ballots[3:])), au.BALLOT, "ballot 2"


def _tamper_ballot_proof(e: Election):
    b = e.ballots[4]
    council = b.ballot.answer("council")
    # the ranking proof of another ballot (valid there, bound to that ballot's nonce)
    forged = dataclasses.replace(council, proof=e.ballots[3].ballot.answer("council").proof)
    answers = tuple(forged if a.question_id == "council" else a for a in b.ballot.answers)
    ballot = WeightedBallot(dataclasses.replace(b.ballot, answers=answers), b.weight)
    return e.record(ballots=(*e.ballots[:4], ballot, e.ballots[5])), au.BALLOT, "ballot 4"


def _tamper_ballot_copied(e: Election):
    """A byte-identical copy, as a record read from files holds it (another object)."""
    first = e.ballots[0]
    copy = WeightedBallot(EncryptedBallot.from_bytes(first.ballot.to_bytes()), first.weight)
    assert copy.ballot is not first.ballot
    return e.record(ballots=(*e.ballots, copy)), au.BALLOT, "ballot 6"


def _tamper_ballot_weight(e: Election):
    b = e.ballots[1]
    return (e.record(ballots=(e.ballots[0], WeightedBallot(b.ballot, 5), *e.ballots[2:])), au.MIX,
            "question 'council', shuffle 0")


def _tamper_ballot_dropped(e: Election):
    return e.record(ballots=e.ballots[1:]), au.MIX, "question 'council', shuffle 0"


def _replace_mix(e: Election, question: str, step: int, changed: Mix):
    steps = list(e.mixes[question])
    steps[step] = changed
    return e.record(mixes={**e.mixes, question: tuple(steps)})


def _tamper_mix_output(e: Election):
    m = e.mixes["council"][1]
    outputs = list(m.outputs)
    outputs[0] = (_flip_ciphertext(outputs[0][0]), *outputs[0][1:])
    return (_replace_mix(e, "council", 1, dataclasses.replace(m, outputs=tuple(outputs))), au.MIX,
            "question 'council', shuffle 1")


def _tamper_mix_proof(e: Election):
    m = e.mixes["priorities"][0]
    proof = dataclasses.replace(m.proof, s1=m.proof.s1 + Scalar.from_int(1))
    return (_replace_mix(e, "priorities", 0, dataclasses.replace(m, proof=proof)), au.MIX,
            "question 'priorities', shuffle 0")


def _tamper_mix_dropped(e: Election):
    return e.record(mixes={**e.mixes, "council": e.mixes["council"][:1]}), au.MIX, "question 'council'"


def _tamper_mix_mixer(e: Election):
    m = e.mixes["council"][1]
    return (_replace_mix(e, "council", 1, dataclasses.replace(m, mixer="someone-else")), au.MIX,
            "question 'council', shuffle 1")


def _tamper_decryption_share(e: Election):
    shares = list(e.decryptions[3])
    shares[4] = dataclasses.replace(shares[4], share=shares[4].share + G)
    return e.record(decryptions={**e.decryptions, 3: tuple(shares)}), au.DECRYPTION, "trustee 3, ciphertext 4"


def _tamper_decryption_proof(e: Election):
    shares = list(e.decryptions[5])
    shares[0] = dataclasses.replace(shares[0], proof=shares[1].proof)
    return e.record(decryptions={**e.decryptions, 5: tuple(shares)}), au.DECRYPTION, "trustee 5, ciphertext 0"


def _tamper_result_number(e: Election):
    motion = e.result.question("motion")
    questions = tuple(dataclasses.replace(q, yes=q.yes + 1) if q is motion else q for q in e.result.questions)
    return e.record(result=dataclasses.replace(e.result, questions=questions)), au.RESULT, "published result"


def _tamper_result_winner(e: Election):
    council = e.result.question("council")
    questions = tuple(dataclasses.replace(q, winners=tuple(reversed(q.winners))) if q is council else q
                      for q in e.result.questions)
    return e.record(result=dataclasses.replace(e.result, questions=questions)), au.RESULT, "published result"


def _tamper_tracker_order(e: Election):
    trackers = (e.trackers[1], e.trackers[0], *e.trackers[2:])
    return e.record(trackers=trackers), au.BOX, "ballot 1"


def _tamper_tracker_replaced(e: Election):
    """Another well-formed tracker, still last in order: only the chain tells."""
    return e.record(trackers=(*e.trackers[:-1], "ZZZZ-ZZZZ-ZZZ7")), au.BOX, "head"


def _tamper_tracker_malformed(e: Election):
    return e.record(trackers=("not-a-tracker", *e.trackers[1:])), au.BOX, "ballot 0"


def _tamper_head(e: Election):
    return e.record(head_hash="0" * 64), au.BOX, "head"


TAMPERINGS = [
    _tamper_tracker_order, _tamper_tracker_replaced, _tamper_tracker_malformed, _tamper_head,
    _tamper_commitment_coefficient, _tamper_commitment_proof, _tamper_public_key,
    _tamper_ballot_ciphertext, _tamper_ballot_proof, _tamper_ballot_copied, _tamper_ballot_weight,
    _tamper_ballot_dropped, _tamper_mix_output, _tamper_mix_proof, _tamper_mix_dropped,
    _tamper_mix_mixer, _tamper_decryption_share, _tamper_decryption_proof, _tamper_result_number,
    _tamper_result_winner,
]


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda f: f.__name__.removeprefix("_tamper_"))
def test_the_audit_rejects_each_single_tampered_element_and_names_it(election, tamper):
    record, element, where = tamper(election)
    findings = au.audit(record)
    assert findings, "the tampered record passed"
    assert any(f.element == element and f.where.startswith(where) for f in findings), findings


def test_a_decryption_without_enough_valid_trustees_is_named_in_the_audit(election):
    bad = {t: s for t, s in election.decryptions.items() if t != 1}
    findings = au.audit(election.record(decryptions=bad))
    assert [(f.element, f.where) for f in findings] == [(au.DECRYPTION, "tally")]
    assert "missing: trustees [1, 2, 4]" in findings[0].message



def test_too_few_trustees_are_named_before_any_work_even_over_two_processes(election):
    tally = tally_input(DEFINITION, box_totals(DEFINITION, election.ballots), election.mixes)
    two = {t: election.decryptions[t] for t in (1, 5)}
    with ProcessPoolExecutor(2) as pool, pytest.raises(NotEnoughDecryptionShares) as info:
        open_all(tally.ciphertexts, two, election.qualification, pool.map)
    assert (info.value.missing, info.value.valid) == ((2, 3, 4), (1, 5))


def test_the_refusal_for_too_few_shares_survives_a_trip_between_processes():
    import pickle

    error = pickle.loads(pickle.dumps(NotEnoughDecryptionShares(3, (1,), (2, 4, 5), (3,))))
    assert (error.needed, error.valid, error.missing, error.rejected) == (3, (1,), (2, 4, 5), (3,))
    assert "missing: trustees [2, 4, 5]" in str(error)


def test_a_voters_receipt_holds_against_the_record_under_any_spelling_of_its_tracker(election):
    record = election.record()
    tracker, ballot = record.trackers[2], record.ballots[2].ballot
    receipt = receipt_of(DEFINITION.id, tracker, ballot.to_bytes())
    assert au.check_receipt(record, tracker, receipt) is None
    assert au.check_receipt(record, tracker.replace("-", "").lower(), receipt.upper()) is None


@pytest.mark.parametrize("change, message", [
    (lambda t, h: (t, "0" * 64), "does not hash to the receipt"),
    (lambda t, h: ("ZZZZ-ZZZZ-ZZZ7", h), "no ballot under tracker ZZZZ-ZZZZ-ZZZ7"),
    (lambda t, h: ("not a tracker", h), "a tracker is 12 characters"),
])
def test_a_receipt_that_does_not_match_the_record_is_refused_saying_why(election, change, message):
    record = election.record()
    tracker = record.trackers[0]
    receipt = receipt_of(DEFINITION.id, tracker, record.ballots[0].ballot.to_bytes())
    assert message in au.check_receipt(record, *change(tracker, receipt))


def test_another_ballots_receipt_does_not_hold_for_this_tracker(election):
    record = election.record()
    other = receipt_of(DEFINITION.id, record.trackers[0], record.ballots[1].ballot.to_bytes())
    assert "does not hash" in au.check_receipt(record, record.trackers[0], other)


def test_the_box_totals_read_each_ballot_once_and_hold_none_of_them(election):
    """The service reads 41,702 stored ballots one at a time: the totals keep sums and rows only."""
    import gc
    import weakref

    class Tracked(EncryptedBallot):
        __slots__ = ("__weakref__",)

    decoded = []

    def one_at_a_time():
        for b in election.ballots:
            read = EncryptedBallot.from_bytes(b.ballot.to_bytes())
            ballot = Tracked(read.election_id, read.nonce, read.answers)
            decoded.append(weakref.ref(ballot))
            yield WeightedBallot(ballot, b.weight)

    totals = box_totals(DEFINITION, one_at_a_time(), mix_inputs_of=("council", "priorities"))
    gc.collect()
    assert len(decoded) == len(election.ballots) and all(ref() is None for ref in decoded)
    assert (totals.ballots, totals.total_weight) == (len(VOTES), sum(w for _, w in VOTES))
    for question in DEFINITION.questions:
        if question.method in (Method.STV, Method.SCHULZE):
            assert tuple(totals.mix_inputs(question.id)) == mix_inputs(question, election.ballots)
        else:
            assert totals.selection_totals(question.id) == selection_totals(question, election.ballots)
    assert tally_input(DEFINITION, totals, election.mixes) == tally_input(
        DEFINITION, box_totals(DEFINITION, election.ballots), election.mixes)


def test_ciphertexts_and_shares_cross_to_a_pool_as_their_published_bytes(election):
    """A pool's pickles carry each value's published bytes (the class named once a pickle), and
    the value comes back equal, of its own type: what keeps the tally's process pools cheap."""
    import pickle

    share = election.decryptions[1][0]
    ciphertext = election.mixes["council"][-1].outputs[0][0]
    for value in (share, share.proof, share.share, share.proof.response, ciphertext):
        data = pickle.dumps(value)
        assert value.to_bytes() in data
        back = pickle.loads(data)
        assert back == value and type(back) is type(value)
    many = pickle.dumps(election.decryptions[1])
    assert len(many) < 200 + len(election.decryptions[1]) * (len(share.to_bytes()) + 12)


def _packed_tally(election):
    """The same tally with every mix's outputs and every trustee's shares packed, as the service
    reads them from its database."""
    from coop_elections.domain.crypto.packed import Packed
    from coop_elections.domain.crypto.shuffle import packed_rows
    from coop_elections.domain.crypto.trustees import DECRYPTION_SHARE_BYTES, DecryptionShare

    @dataclasses.dataclass(frozen=True)
    class Step:
        outputs: object

    mixes = {q: tuple(Step(packed_rows(b"".join(ct.to_bytes() for row in m.outputs for ct in row), len(m.outputs[0])))
                      for m in steps) for q, steps in election.mixes.items()}
    shares = {t: Packed(b"".join(s.to_bytes() for s in given), DECRYPTION_SHARE_BYTES, DecryptionShare.from_bytes)
              for t, given in election.decryptions.items()}
    return tally_input(DEFINITION, box_totals(DEFINITION, election.ballots), mixes), shares


def test_a_packed_tally_decrypts_to_the_same_plaintexts_over_a_pool(election):
    from coop_elections.domain.crypto.packed import Packed

    tally, shares = _packed_tally(election)
    objects = tally_input(DEFINITION, box_totals(DEFINITION, election.ballots), election.mixes)
    assert isinstance(tally.ciphertexts, Packed) and list(tally.ciphertexts) == list(objects.ciphertexts)
    expected = open_all(objects.ciphertexts, election.decryptions, election.qualification)
    with ProcessPoolExecutor(2) as pool:
        assert open_all(tally.ciphertexts, shares, election.qualification, pool.map, chunk=4) == expected
        assert open_all(tally.ciphertexts, shares, election.qualification, pool.map, chunk=4,
                        checked=True) == expected
        assert first_bad_share(shares[3], tally.ciphertexts, election.qualification, 3, pool.map, chunk=4) is None
    assert count(DEFINITION, box_totals(DEFINITION, election.ballots), tally, expected) == election.result


def test_a_packed_share_that_does_not_decode_is_the_first_bad_one(election):
    from coop_elections.domain.crypto.packed import Packed

    tally, shares = _packed_tally(election)
    blob = bytearray(shares[1].blob)
    blob[6 * shares[1].size + 4:6 * shares[1].size + 36] = b"\xff" * 32
    torn = Packed(bytes(blob), shares[1].size, shares[1].decode)
    assert first_bad_share(torn, tally.ciphertexts, election.qualification, 1, chunk=4) == 6
