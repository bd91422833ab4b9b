"""Fixed-size published values kept as their bytes and decoded one at a time, on access.

At the cooperative's scale a tally is 375,321 ciphertexts and each trustee's 375,321 decryption
shares. Decoded, they are Python objects of about 280 and 570 bytes each: the finish of a tally
held two mixes and three trustees' shares, some 900 MiB, in a process limited to 512 MiB. Kept as
their published bytes (64 and 132 each) they take 23 and 48 MiB. A slice is a view of the same
bytes (no copy: a pool's chunks are all sliced at once) and pickles as one bytes object, so a
process pool's worker decodes only its own chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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
