"""group.linear_combination: libdecaf's sums agree with libsodium's term-by-term answer, always.

The proofs check their equations through linear_combination; a wrong sum would accept a bad
ballot or refuse a good one, so every shape a proof uses is compared with libsodium's
multiplication and addition (the group's reference): zero scalars, the identity, repeated
elements, scalar 1 (a plain sum), G and H (kept tables), elements named as reused (tables made on
the way and evicted beyond the cache), odd and even term counts, many threads at once.
"""

from __future__ import annotations

import logging
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop_elections.domain.crypto import _decaf, group
from coop_elections.domain.crypto.group import (
    IDENTITY,
    ONE,
    ORDER,
    Element,
    G,
    H,
    Scalar,
    element_sum,
    linear_combination,
    random_scalar,
)

from .test_elections_crypto_group import GENERATOR_MULTIPLES, INVALID_ENCODINGS


def _reference(terms: list[tuple[Scalar, Element]]) -> Element:
    """libsodium's answer: one multiplication and one addition per term (Element's operators)."""
    total = IDENTITY
    for k, p in terms:
        total = total + p * k
    return total


def _random_element() -> Element:
    return G * random_scalar()


def test_the_platform_has_libdecaf_so_proof_checks_take_the_fast_path():
    # scripts/ensure_tools.sh and the images install Debian's libdecaf0; without it every check
    # would still be right, only 1.3-2x slower, so its absence must fail here rather than pass unseen
    assert group.ACCELERATED


@pytest.mark.parametrize("k", range(16))
def test_multiples_of_the_generator_through_its_table_encode_as_rfc9496_publishes(k):
    assert linear_combination([(Scalar.from_int(k), G)]).to_bytes().hex() == GENERATOR_MULTIPLES[k]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 10, 33])
def test_sums_of_random_multiples_agree_with_libsodium(count):
    terms = [(random_scalar(), _random_element()) for _ in range(count)]
    assert linear_combination(terms) == _reference(terms)


def test_generators_g_and_h_mixed_with_other_elements_agree_with_libsodium():
    terms = [(random_scalar(), G), (random_scalar(), _random_element()), (random_scalar(), H),
             (random_scalar(), _random_element()), (random_scalar(), _random_element())]
    assert linear_combination(terms) == _reference(terms)


def test_zero_scalars_and_the_identity_add_nothing():
    p = _random_element()
    k = random_scalar()
    terms = [(Scalar.from_int(0), _random_element()), (random_scalar(), IDENTITY), (k, p)]
    assert linear_combination(terms) == p * k


def test_no_terms_or_terms_that_cancel_give_the_identity_encoded_as_zeros():
    p, k = _random_element(), random_scalar()
    assert linear_combination([]) == IDENTITY
    assert linear_combination([(k, p), (-k, p)]) == IDENTITY
    assert linear_combination([(k, p), (ONE, -(p * k))]).to_bytes() == bytes(32)


def test_terms_of_the_same_element_are_merged_before_the_sum():
    p = _random_element()
    a, b = random_scalar(), random_scalar()
    assert linear_combination([(a, p), (b, p), (a, G), (b, G)]) == p * (a + b) + G * (a + b)


def test_scalar_one_terms_are_plain_additions():
    elements = [_random_element() for _ in range(9)]
    assert element_sum(elements) == _reference([(ONE, e) for e in elements])
    assert element_sum([]) == IDENTITY
    assert element_sum(iter(elements[:3])) == elements[0] + elements[1] + elements[2]


def test_the_largest_scalar_and_negated_scalars_agree_with_libsodium():
    largest = Scalar.from_int(ORDER - 1)
    p, q = _random_element(), _random_element()
    terms = [(largest, p), (-random_scalar(), q), (largest, G)]
    assert linear_combination(terms) == _reference(terms)


def test_reused_elements_give_the_same_sum_the_first_time_and_from_their_kept_table():
    pk = _random_element()
    for _ in range(3):
        terms = [(random_scalar(), pk), (random_scalar(), G), (random_scalar(), _random_element())]
        assert linear_combination(terms, reused=(pk,)) == _reference(terms)


def test_more_reused_elements_than_tables_kept_still_agree_with_libsodium():
    reused = [_random_element() for _ in range(_decaf._TABLES_KEPT + 10)]
    terms = [(random_scalar(), p) for p in reused]
    assert linear_combination(terms, reused=reused) == _reference(terms)
    again = [(random_scalar(), p) for p in reused[:5]]
    assert linear_combination(again, reused=reused[:5]) == _reference(again)


def test_a_term_that_is_not_a_scalar_and_an_element_is_refused():
    with pytest.raises(TypeError):
        linear_combination([(G, random_scalar())])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        linear_combination([(3, G)])  # type: ignore[list-item]


def test_many_threads_combining_at_once_each_get_their_own_right_answer():
    cases = [[(random_scalar(), _random_element()) for _ in range(5)] for _ in range(16)]
    pk = _random_element()
    cases = [terms + [(random_scalar(), pk)] for terms in cases]
    expected = [_reference(terms) for terms in cases]
    results: list[list[Element]] = [[] for _ in cases]

    def work(i: int) -> None:
        for _ in range(20):
            results[i].append(linear_combination(cases[i], reused=(pk,)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == [expected[i]] * 20 for i, r in enumerate(results))


def test_without_libdecaf_the_same_sums_come_from_libsodium(monkeypatch):
    terms = [(random_scalar(), G), (random_scalar(), _random_element()), (ONE, _random_element())]
    fast = linear_combination(terms)
    monkeypatch.setattr(group, "_DECAF", None)
    assert linear_combination(terms) == fast == _reference(terms)


def test_a_libdecaf_that_disagrees_with_libsodium_on_the_fixed_values_is_not_used():
    wrong = {"G": G.to_bytes(), "H": H.to_bytes(), "2G+3H": (G * Scalar.from_int(5)).to_bytes()}
    assert _decaf.load(wrong) is None
    right = {"G": G.to_bytes(), "H": H.to_bytes(),
             "2G+3H": (G * Scalar.from_int(2) + H * Scalar.from_int(3)).to_bytes()}
    assert _decaf.load(right) is not None


@pytest.mark.parametrize("encoding", INVALID_ENCODINGS)
def test_libdecaf_refuses_every_rfc9496_a2_invalid_encoding_instead_of_answering(encoding):
    # the group checks encodings before they get here; this is the second line, not the first
    decaf = _decaf.load({"G": G.to_bytes(), "H": H.to_bytes(),
                         "2G+3H": (G * Scalar.from_int(2) + H * Scalar.from_int(3)).to_bytes()})
    assert decaf is not None
    with pytest.raises(ValueError):
        decaf.combine([random_scalar().to_bytes()], [bytes.fromhex(encoding)])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, ORDER - 1), st.integers(0, 2**64), st.booleans()),
                min_size=0, max_size=8))
def test_any_small_combination_agrees_with_libsodium(parts):
    terms = [(Scalar.from_int(k), G * Scalar.from_int(e) if fresh else H) for k, e, fresh in parts]
    assert linear_combination(terms) == _reference(terms)


def test_the_api_says_at_start_that_proof_checks_use_libdecaf(caplog, monkeypatch):
    from coop_elections.entrypoints import grpc_api

    monkeypatch.setattr(group, "ACCELERATED", True)
    with caplog.at_level(logging.INFO, logger=grpc_api.__name__):
        grpc_api.log_crypto_backend()
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    assert "libdecaf" in caplog.text


def test_the_api_warns_at_start_when_libdecaf_is_missing_and_says_how_to_install_it(caplog, monkeypatch):
    from coop_elections.entrypoints import grpc_api

    monkeypatch.setattr(group, "ACCELERATED", False)
    with caplog.at_level(logging.INFO, logger=grpc_api.__name__):
        grpc_api.log_crypto_backend()
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "apt-get install libdecaf0" in caplog.text and "make native" in caplog.text
