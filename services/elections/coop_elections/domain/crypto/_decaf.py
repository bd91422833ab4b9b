"""Linear combinations of ristretto255 elements through libdecaf (Debian's libdecaf0), if present.

libsodium answers one multiplication or one addition per call and decodes and re-encodes every
point on the way (about 38 us a multiplication, 11 us an addition here). A proof check is a few
sums of scalar multiples, sum_i k_i * P_i; libdecaf keeps the points decoded between calls, so
a sum costs one decode per point (4 us), one addition per term (0.3 us) and one encode:

* two terms at once (`decaf_255_point_double_scalarmul`): 26 us a term;
* a term whose point has a table of its multiples (`decaf_255_precomputed_scalarmul`): 11.5 us.
  G and H always have one; the caller names other points it will use again (an election's key,
  the trustees' keys) and their tables are kept, a few at a time (9 KiB each).

Every call used is constant-time in the scalars, so provers may use it too. libdecaf encodes
ristretto255 exactly as RFC 9496 and libsodium do (decaf_255 is ristretto255 since libdecaf 1.0):
the import checks that on fixed values, and this module stays unused if it does not hold.

Inputs are the canonical encodings the group module already checked: a point that libdecaf cannot
decode raises ValueError, never a wrong answer.

The library is loaded as `ctypes.PyDLL`: each call keeps the GIL, as _sodium.py's do. Most calls
take under 4 us (an addition 0.3 us), and releasing the GIL around each one made the api's
request threads hand it over hundreds of times a ballot (see _sodium.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections import OrderedDict
from collections.abc import Sequence
from threading import Lock

_POINT = 256  # sizeof(decaf_255_point_t): four field elements of 5 limbs, each aligned to 32
_SCALAR = 32  # sizeof(decaf_255_scalar_t): four 64-bit limbs
_ALIGN = 32
_SUCCESS = -1  # DECAF_SUCCESS
_TABLES_KEPT = 64
_ONE = (1).to_bytes(32, "little")


def _load() -> ctypes.PyDLL | None:
    for name in (ctypes.util.find_library("decaf"), "libdecaf.so.0"):
        if name:
            try:
                return ctypes.PyDLL(name)
            except OSError:
                continue
    return None


class _Aligned:
    """One allocation of `count` slots of `size` bytes, each 32-byte aligned (as libdecaf wants)."""

    __slots__ = ("_raw", "base", "size")

    def __init__(self, count: int, size: int) -> None:
        self._raw = ctypes.create_string_buffer(count * size + _ALIGN)
        address = ctypes.addressof(self._raw)
        self.base = address + (-address) % _ALIGN
        self.size = size

    def __getitem__(self, i: int) -> int:
        return self.base + i * self.size


class Decaf:
    """The few libdecaf calls a linear combination needs, with tables of reused points."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        vp, cp, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        for name, args, res in (
            ("decaf_255_point_decode", [vp, cp, i], i),
            ("decaf_255_point_encode", [cp, vp], None),
            ("decaf_255_scalar_decode", [vp, cp], i),
            ("decaf_255_point_add", [vp, vp, vp], None),
            ("decaf_255_point_scalarmul", [vp, vp, vp], None),
            ("decaf_255_point_double_scalarmul", [vp, vp, vp, vp, vp], None),
            ("decaf_255_precompute", [vp, vp], None),
            ("decaf_255_precomputed_scalarmul", [vp, vp, vp], None),
        ):
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = args, res
        self._decode, self._encode = lib.decaf_255_point_decode, lib.decaf_255_point_encode
        self._scalar = lib.decaf_255_scalar_decode
        self._add, self._mul = lib.decaf_255_point_add, lib.decaf_255_point_scalarmul
        self._mul2, self._precompute = lib.decaf_255_point_double_scalarmul, lib.decaf_255_precompute
        self._table_mul = lib.decaf_255_precomputed_scalarmul
        self._table_size = ctypes.c_size_t.in_dll(lib, "decaf_255_sizeof_precomputed_s").value
        self._identity = ctypes.addressof(ctypes.c_char.in_dll(lib, "decaf_255_point_identity"))
        self._tables: OrderedDict[bytes, _Aligned] = OrderedDict()  # point encoding -> its table
        self._pinned: dict[bytes, _Aligned] = {}
        self._lock = Lock()

    def pin(self, point: bytes) -> None:
        """Keep a table of `point` for good (G and H: every proof uses them)."""
        self._pinned[point] = self._new_table(point)

    def _new_table(self, point: bytes) -> _Aligned:
        slot = _Aligned(1, _POINT)
        self._decode_into(slot[0], point)
        table = _Aligned(1, self._table_size)
        self._precompute(table[0], slot[0])
        return table

    def _table(self, point: bytes) -> _Aligned:
        """The point's table; the caller holds it while it multiplies (another thread may evict
        it from the cache meanwhile, and only the caller's reference keeps its memory)."""
        pinned = self._pinned.get(point)
        if pinned is not None:
            return pinned
        with self._lock:
            table = self._tables.get(point)
            if table is not None:
                self._tables.move_to_end(point)
                return table
        table = self._new_table(point)
        with self._lock:
            self._tables[point] = table
            while len(self._tables) > _TABLES_KEPT:
                self._tables.popitem(last=False)
        return table

    def _decode_into(self, address: int, point: bytes) -> None:
        if self._decode(address, point, 1) != _SUCCESS:
            raise ValueError("not the canonical encoding of a ristretto255 element")

    def combine(self, scalars: Sequence[bytes], points: Sequence[bytes],
                reused: frozenset[bytes] | set[bytes] = frozenset()) -> bytes:
        """The encoding of sum_i scalars[i] * points[i] (canonical encodings). A term of scalar 1
        is added as it is; points pinned or in `reused` go through their tables, the rest in pairs."""
        n = len(points)
        slots = _Aligned(n + 2, _POINT)
        keys = _Aligned(n, _SCALAR)
        acc, tmp = slots[n], slots[n + 1]
        ctypes.memmove(acc, self._identity, _POINT)
        paired: list[int] = []
        for i, (k, p) in enumerate(zip(scalars, points, strict=True)):
            if k == _ONE:  # a plain sum's term: no multiplication
                self._decode_into(slots[i], p)
                self._add(acc, acc, slots[i])
                continue
            if self._scalar(keys[i], k) != _SUCCESS:
                raise ValueError("non-canonical scalar")
            if p in self._pinned or p in reused:
                table = self._table(p)
                self._table_mul(tmp, table[0], keys[i])
                self._add(acc, acc, tmp)
            else:
                self._decode_into(slots[i], p)
                paired.append(i)
        for j in range(0, len(paired) - 1, 2):
            a, b = paired[j], paired[j + 1]
            self._mul2(tmp, slots[a], keys[a], slots[b], keys[b])
            self._add(acc, acc, tmp)
        if len(paired) % 2:
            last = paired[-1]
            self._mul(tmp, slots[last], keys[last])
            self._add(acc, acc, tmp)
        out = ctypes.create_string_buffer(32)
        self._encode(out, acc)
        return out.raw


def load(expected: dict[str, bytes]) -> Decaf | None:
    """libdecaf's combination if the library is there and agrees with `expected` on fixed values:
    {"G": G's encoding, "2G+3H": ..., "H": ...} as libsodium computes them; else None."""
    lib = _load()
    if lib is None:
        return None
    try:
        decaf = Decaf(lib)
        g, h = expected["G"], expected["H"]
        one, two, three = (n.to_bytes(32, "little") for n in (1, 2, 3))
        if (decaf.combine([one], [g]) != g
                or decaf.combine([two, three], [g, h]) != expected["2G+3H"]):
            return None
        decaf.pin(g)
        decaf.pin(h)
        if decaf.combine([two, three], [g, h]) != expected["2G+3H"]:
            return None
    except (AttributeError, ValueError):  # an older libdecaf without these symbols
        return None
    return decaf
