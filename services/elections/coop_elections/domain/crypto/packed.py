"""Fixed-size published values kept as their bytes and decoded one at a time, on access.

At the cooperative's scale a tally is 375,321 ciphertexts and each trustee's 375,321 decryption
shares. Decoded, they are Python objects of about 280 and 570 bytes each: the finish of a tally
held two mixes and three trustees' shares, some 900 MiB, in a process limited to 512 MiB. Kept as
their published bytes (64 and 132 each) they take 23 and 48 MiB. A slice is a view of the same
bytes (no copy: a pool's chunks are all sliced at once) and pickles as one bytes object, so a
process pool's worker decodes only its own chunk.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, overload

T = TypeVar("T")


class Packed(Sequence[T], Generic[T]):
    """A read-only sequence over `blob`, one item every `size` bytes, each decoded by `decode`
    when read (so a malformed item raises decode's ValueError where it is read, not before).
    `decode` takes bytes or a memoryview of them, and must pickle (a module-level function or
    a class's from_bytes) for a pool to use it."""

    __slots__ = ("blob", "decode", "size")

    def __init__(self, blob: bytes | memoryview, size: int, decode: Callable[[bytes], T]) -> None:
        if not isinstance(blob, bytes | memoryview):
            blob = bytes(blob)
        if size <= 0 or len(blob) % size:
            raise ValueError(f"{len(blob)} bytes are no whole number of {size}-byte items")
        self.blob, self.size, self.decode = blob, size, decode

    def __len__(self) -> int:
        return len(self.blob) // self.size

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Packed[T]: ...

    def __getitem__(self, index: int | slice) -> T | Packed[T]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                raise ValueError("a packed sequence is sliced with step 1")
            view = memoryview(self.blob)[start * self.size:max(start, stop) * self.size]
            return Packed(view, self.size, self.decode)
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("packed sequence index out of range")
        return self.decode(self.blob[index * self.size:(index + 1) * self.size])

    def __iter__(self) -> Iterator[T]:
        blob, size, decode = self.blob, self.size, self.decode
        return (decode(blob[i:i + size]) for i in range(0, len(blob), size))

    def raw(self) -> Iterator[bytes]:
        """Each item's bytes, undecoded (to forward them as published)."""
        return (bytes(self.blob[i:i + self.size]) for i in range(0, len(self.blob), self.size))

    def __reduce__(self) -> tuple:
        return Packed, (bytes(self.blob), self.size, self.decode)

    def __repr__(self) -> str:
        return f"Packed({len(self)} items of {self.size} bytes)"


def published(values: Sequence[T] | Packed[T]) -> Iterator[bytes]:
    """Each value's published bytes: a Packed sequence's as they are, without decoding them."""
    if isinstance(values, Packed):
        return values.raw()
    return (v.to_bytes() for v in values)  # type: ignore[attr-defined]


class Joined:
    """Fixed-size items joined into one blob as a stream brings them (a trustee's 375,321 shares
    held as their 48 MiB of bytes, not also as a list of 375,321 objects of about 170 bytes
    each). Optionally in rows of one width (a mixer's output rows of ciphertexts).

    Adding never raises: the first item of the wrong size, or row of another width, is recorded
    as `problem` and nothing more is joined, so that whoever checks the upload decides when to
    refuse it, in the order of its other checks."""

    __slots__ = ("_buffer", "count", "item_bytes", "problem", "rows", "width")

    def __init__(self, item_bytes: int) -> None:
        self.item_bytes = item_bytes
        self._buffer = io.BytesIO()
        self.count = 0  # items joined
        self.rows = 0  # rows joined (add_row)
        self.width: int | None = None  # the first row's width
        self.problem: Problem | None = None

    @classmethod
    def of(cls, items: Iterable[bytes], item_bytes: int) -> Joined:
        joined = cls(item_bytes)
        joined.extend(items)
        return joined

    @classmethod
    def of_rows(cls, rows: Iterable[Sequence[bytes]], item_bytes: int) -> Joined:
        joined = cls(item_bytes)
        joined.extend_rows(rows)
        return joined

    def extend(self, items: Iterable[bytes]) -> None:
        for item in items:
            if self.problem is not None:
                return
            if len(item) != self.item_bytes:
                self.problem = Problem(SIZE, self.count)
                return
            self._buffer.write(item)
            self.count += 1

    def extend_rows(self, rows: Iterable[Sequence[bytes]]) -> None:
        for row in rows:
            if self.problem is not None:
                return
            if self.width is None:
                self.width = len(row)
            elif len(row) != self.width:
                self.problem = Problem(WIDTH, self.rows)
                return
            self.extend(row)
            self.rows += 1

    def blob(self) -> bytes:
        """The joined bytes (BytesIO hands over its buffer: no second copy)."""
        return self._buffer.getvalue()


SIZE = "size"  # an item of the wrong size
WIDTH = "width"  # a row of another width than the first


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a Joined upload stopped: its kind (SIZE, WIDTH) and where (the item or the row); the
    service that refuses it words the error."""

    kind: str
    position: int
