"""ristretto255 as the encrypted ballots use it: RFC 9496 known answers, encodings, identity, hashing.

The RFC 9496 appendix A vectors below could not be read from the RFC itself (no network here);
they were copied from public repositories that embed them, and each set was found identical in
at least two of them:

* A.1 (encodings of B[0]..B[15]): claucece/sage-ristretto255-decaf448, vectors.txt ("From the
  draft", by an author of the RFC), and gtank/ristretto255, ristretto255_test.go
  (TestRistrettoSmallMultiplesTestVectors); also odin-lang/Odin,
  tests/core/crypto/test_core_crypto_ecc25519.odin.
* A.2 (invalid encodings): jedisct1/libsodium, test/default/core_ristretto255.c (tv1), and
  gtank/ristretto255, ristretto255_test.go (TestRistrettoBadEncodingsTestVectors).
* A.3 (the one-way map, libsodium's crypto_core_ristretto255_from_hash): the seven inputs from
  jedisct1/libsodium, test/default/core_ristretto255.c (tv2), with outputs from
  claucece/sage-ristretto255-decaf448, vectors/vectors.json ("ristretto255_map"), both matching
  odin-lang/Odin, tests/core/crypto/test_core_crypto_ecc25519.odin, which also has the four
  inputs that map to one output (the non-injectivity vectors, listed at the end of A.3).
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop_elections.domain.crypto.group import (
    H_LABEL,
    IDENTITY,
    ORDER,
    Element,
    G,
    H,
    Scalar,
    hash_to_element,
    hash_to_scalar,
    length_prefixed,
    random_scalar,
)

# RFC 9496, A.1: B[0] (the identity) .. B[15].
GENERATOR_MULTIPLES = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
    "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
    "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
    "da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57",
    "e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e",
    "f64746d3c92b13050ed8d80236a7f0007c3b3f962f5ba793d19a601ebb1df403",
    "44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d",
    "903293d8f2287ebe10e2374dc1a53e0bc887e592699f02d077d5263cdd55601c",
    "02622ace8f7303a31cafc63f8fc48fdc16e1c8c8d234b2f0d6685282a9076031",
    "20706fd788b2720a1ed2a5dad4952b01f413bcf0e7564de8cdc816689e2db95f",
    "bce83f8ba5dd2fa572864c24ba1810f9522bc6004afe95877ac73241cafdab42",
    "e4549ee16b9aa03099ca208c67adafcafa4c3f3e4e5303de6026e3ca8ff84460",
    "aa52e000df2e16f55fb1032fc33bc42742dad6bd5a8fc0be0167436c5948501f",
    "46376b80f409b29dc2b5f6f0c52591990896e5716f41477cd30085ab7f10301e",
    "e0c418f7c8d9c4cdd7395b93ea124f3ad99021bb681dfc3302a9d99a2e53e64e",
]

# RFC 9496, A.2: encodings every decoder must reject.
INVALID_ENCODINGS = [
    # Non-canonical field encodings
    "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    # Negative field elements
    "0100000000000000000000000000000000000000000000000000000000000000",
    "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20",
    "c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562",
    "c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78",
    "47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24",
    "f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72",
    "87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309",
    # Non-square x^2
    "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
    "4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f",
    "de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b",
    "bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042",
    "2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08",
    "f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22",
    "8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731",
    "2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b",
    # Negative xy value
    "3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e",
    "a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220",
    "d483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e",
    "8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32",
    "32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b",
    "227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165",
    "5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e",
    "445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b",
    # s = -1, which causes y = 0
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
]

# RFC 9496, A.3: 64-byte inputs of the one-way map and the encodings of their images.
ONE_WAY_MAP = [
    ("5d1be09e3d0c82fc538112490e35701979d99e06ca3e2b5b54bffe8b4dc772c1"
     "4d98b696a1bbfb5ca32c436cc61c16563790306c79eaca7705668b47dffe5bb6",
     "3066f82a1a747d45120d1740f14358531a8f04bbffe6a819f86dfe50f44a0a46"),
    ("f116b34b8f17ceb56e8732a60d913dd10cce47a6d53bee9204be8b44f6678b27"
     "0102a56902e2488c46120e9276cfe54638286b9e4b3cdb470b542d46c2068d38",
     "f26e5b6f7d362d2d2a94c5d0e7602cb4773c95a2e5c31a64f133189fa76ed61b"),
    ("8422e1bbdaab52938b81fd602effb6f89110e1e57208ad12d9ad767e2e25510c"
     "27140775f9337088b982d83d7fcf0b2fa1edffe51952cbe7365e95c86eaf325c",
     "006ccd2a9e6867e6a2c5cea83d3302cc9de128dd2a9a57dd8ee7b9d7ffe02826"),
    ("ac22415129b61427bf464e17baee8db65940c233b98afce8d17c57beeb7876c2"
     "150d15af1cb1fb824bbd14955f2b57d08d388aab431a391cfc33d5bafb5dbbaf",
     "f8f0c87cf237953c5890aec3998169005dae3eca1fbb04548c635953c817f92a"),
    ("165d697a1ef3d5cf3c38565beefcf88c0f282b8e7dbd28544c483432f1cec767"
     "5debea8ebb4e5fe7d6f6e5db15f15587ac4d4d4a1de7191e0c1ca6664abcc413",
     "ae81e7dedf20a497e10c304a765c1767a42d6e06029758d2d7e8ef7cc4c41179"),
    ("a836e6c9a9ca9f1e8d486273ad56a78c70cf18f0ce10abb1c7172ddd605d7fd2"
     "979854f47ae1ccf204a33102095b4200e5befc0465accc263175485f0e17ea5c",
     "e2705652ff9f5e44d3e841bf1c251cf7dddb77d140870d1ab2ed64f1a9ce8628"),
    ("2cdc11eaeb95daf01189417cdddbf95952993aa9cb9c640eb5058d09702c7462"
     "2c9965a697a3b345ec24ee56335b556e677b30e6f90ac77d781064f866a3c982",
     "80bd07262511cdde4863f8a7434cef696750681cb9510eea557088f76d9e5065"),
]

# RFC 9496, A.3 (end): four inputs with one image, the map being many-to-one.
ONE_WAY_MAP_SAME_IMAGE_INPUTS = [
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "1200000000000000000000000000000000000000000000000000000000000000",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "0000000000000000000000000000000000000000000000000000000000000080"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000"
    "1200000000000000000000000000000000000000000000000000000000000080",
]
ONE_WAY_MAP_SAME_IMAGE = "304282791023b73128d277bdcb5c7746ef2eac08dde9f2983379cb8e5ef0517f"

# Our second generator, pinned so that another implementation can check its derivation.
H_ENCODING = "9e9eb95826f7837977fbc4e986fbb06fb66736cd2755f5d3da37151cf97d9737"

scalar_ints = st.integers(min_value=0, max_value=ORDER - 1)


def _int(s: Scalar) -> int:
    return int.from_bytes(s.to_bytes(), "little")


# --- RFC 9496 known answers -------------------------------------------------------------------


@pytest.mark.parametrize("i", range(16))
def test_rfc9496_a1_small_multiples_of_the_generator_encode_as_published(i):
    assert (G * Scalar.from_int(i)).to_bytes().hex() == GENERATOR_MULTIPLES[i]


def test_rfc9496_a1_repeated_addition_of_the_generator_walks_the_published_encodings():
    point = IDENTITY
    for expected in GENERATOR_MULTIPLES:
        assert point.to_bytes().hex() == expected
        point = point + G


@pytest.mark.parametrize("encoding", GENERATOR_MULTIPLES)
def test_rfc9496_a1_encodings_decode_and_reencode_to_the_same_bytes(encoding):
    assert Element.from_bytes(bytes.fromhex(encoding)).to_bytes().hex() == encoding


def test_rfc9496_a1_generator_is_b1_and_identity_is_b0():
    assert G.to_bytes().hex() == GENERATOR_MULTIPLES[1]
    assert IDENTITY.to_bytes() == bytes(32)


@pytest.mark.parametrize("encoding", INVALID_ENCODINGS)
def test_rfc9496_a2_invalid_encodings_are_rejected(encoding):
    with pytest.raises(ValueError):
        Element.from_bytes(bytes.fromhex(encoding))


@pytest.mark.parametrize(("digest", "image"), ONE_WAY_MAP)
def test_rfc9496_a3_one_way_map_gives_the_published_elements(digest, image):
    assert Element.from_hash(bytes.fromhex(digest)).to_bytes().hex() == image


@pytest.mark.parametrize("digest", ONE_WAY_MAP_SAME_IMAGE_INPUTS)
def test_rfc9496_a3_the_four_colliding_inputs_map_to_the_one_published_element(digest):
    assert Element.from_hash(bytes.fromhex(digest)).to_bytes().hex() == ONE_WAY_MAP_SAME_IMAGE


# --- encodings ---------------------------------------------------------------------------------


def test_scalar_encodings_at_and_above_the_order_are_rejected_below_it_accepted():
    assert _int(Scalar.from_bytes((ORDER - 1).to_bytes(32, "little"))) == ORDER - 1
    for value in (ORDER, ORDER + 1, 2**255 - 1, 2**256 - 1):
        with pytest.raises(ValueError, match="non-canonical"):
            Scalar.from_bytes(value.to_bytes(32, "little"))


@pytest.mark.parametrize("data", [b"", bytes(31), bytes(33), bytes(64)])
def test_scalar_and_element_encodings_of_the_wrong_length_are_rejected(data):
    with pytest.raises(ValueError):
        Scalar.from_bytes(data)
    with pytest.raises(ValueError):
        Element.from_bytes(data)


def test_direct_construction_validates_like_from_bytes():
    with pytest.raises(ValueError):
        Element(bytes.fromhex(INVALID_ENCODINGS[0]))
    with pytest.raises(ValueError):
        Scalar(ORDER.to_bytes(32, "little"))


def test_from_hash_needs_exactly_64_bytes():
    with pytest.raises(ValueError):
        Element.from_hash(bytes(32))
    with pytest.raises(ValueError):
        Scalar.from_hash(bytes(63))


def test_scalars_are_little_endian_and_small_integers_reduce_mod_the_order():
    assert Scalar.from_int(1).to_bytes() == b"\x01" + bytes(31)
    assert Scalar.from_int(256).to_bytes() == b"\x00\x01" + bytes(30)
    assert Scalar.from_int(ORDER).is_zero()
    assert _int(Scalar.from_int(-1)) == ORDER - 1
    with pytest.raises(ValueError):
        Scalar.from_int(1 << 512)
    with pytest.raises(TypeError):
        Scalar.from_int(True)


def test_equal_elements_are_equal_and_hash_alike_so_they_can_key_a_dict():
    two = G + G
    same = Element.from_bytes(bytes.fromhex(GENERATOR_MULTIPLES[2]))
    assert two == same and hash(two) == hash(same)
    assert {two: "x"}[same] == "x"
    assert Scalar.from_int(5) == Scalar.from_bytes(b"\x05" + bytes(31))


# --- the identity and zero, which libsodium's scalar multiplication refuses -------------------


def test_multiplying_by_zero_gives_the_identity_encoded_as_32_zero_bytes():
    zero = Scalar.from_int(0)
    assert G * zero == IDENTITY
    assert H * zero == IDENTITY
    assert (G * zero).to_bytes() == bytes(32)


def test_multiplying_the_identity_gives_the_identity():
    assert IDENTITY * random_scalar() == IDENTITY
    assert IDENTITY * Scalar.from_int(0) == IDENTITY


def test_the_identity_is_neutral_and_p_minus_p_is_the_identity():
    p = G * random_scalar()
    assert p + IDENTITY == p and IDENTITY + p == p
    assert p - p == IDENTITY
    assert p + (-p) == IDENTITY
    assert -IDENTITY == IDENTITY


def test_the_order_annihilates_the_group():
    assert G * Scalar.from_int(ORDER - 1) == -G
    assert G * Scalar.from_int(ORDER - 1) + G == IDENTITY


def test_zero_has_no_inverse_and_others_do():
    with pytest.raises(ValueError):
        Scalar.from_int(0).invert()
    s = random_scalar()
    assert s * s.invert() == Scalar.from_int(1)


def test_random_scalars_are_nonzero_and_differ():
    scalars = {random_scalar() for _ in range(32)}
    assert len(scalars) == 32
    assert not any(s.is_zero() for s in scalars)


# --- hashing -----------------------------------------------------------------------------------


def _reference_hash_to_scalar(label: bytes, *parts: bytes) -> int:
    """The documented construction, written again with hashlib and Python integers only."""
    data = b"".join(len(x).to_bytes(8, "big") + x for x in (label, *parts))
    return int.from_bytes(hashlib.sha512(data).digest(), "little") % ORDER


def test_hash_to_scalar_is_sha512_of_the_length_prefixed_parts_reduced_mod_the_order():
    label, parts = b"coopgov/test", (b"", b"election-1", bytes(range(40)))
    assert _int(hash_to_scalar(label, *parts)) == _reference_hash_to_scalar(label, *parts)
    assert length_prefixed(b"ab") == bytes(7) + b"\x02ab"


def test_hash_to_scalar_separates_parts_so_moving_a_boundary_changes_the_challenge():
    assert hash_to_scalar(b"l", b"ab", b"c") != hash_to_scalar(b"l", b"a", b"bc")
    assert hash_to_scalar(b"l", b"a") != hash_to_scalar(b"la")
    assert hash_to_scalar(b"l", b"") != hash_to_scalar(b"l")


def test_hash_to_scalar_takes_only_bytes():
    with pytest.raises(TypeError):
        hash_to_scalar(b"l", "text")  # type: ignore[arg-type]


def test_second_generator_h_is_the_one_way_map_of_sha512_of_its_label():
    digest = hashlib.sha512(len(H_LABEL).to_bytes(8, "big") + H_LABEL).digest()
    assert H == Element.from_hash(digest) == hash_to_element(H_LABEL)
    assert H.to_bytes().hex() == H_ENCODING
    assert H not in (G, IDENTITY)


# --- properties, checked against Python integers mod L ------------------------------------------


@settings(max_examples=40, deadline=None)
@given(scalar_ints, scalar_ints)
def test_scalar_arithmetic_agrees_with_integers_mod_the_order(x, y):
    a, b = Scalar.from_int(x), Scalar.from_int(y)
    assert _int(a + b) == (x + y) % ORDER
    assert _int(a - b) == (x - y) % ORDER
    assert _int(a * b) == (x * y) % ORDER
    assert _int(-a) == (-x) % ORDER
    if x:
        assert _int(a.invert()) == pow(x, -1, ORDER)


@settings(max_examples=25, deadline=None)
@given(scalar_ints, scalar_ints)
def test_scalar_multiplication_is_a_homomorphism_from_scalars_to_elements(x, y):
    a, b = Scalar.from_int(x), Scalar.from_int(y)
    assert G * (a + b) == G * a + G * b
    assert H * (a * b) == (H * a) * b
    assert Element.from_bytes((G * a).to_bytes()) == G * a
