"""coop_platform.caching.LastUsed: keeps the last `size` keys used, reading one counts as a use,
and request threads may share it."""

from __future__ import annotations

import threading

import pytest

from coop_platform.caching import LastUsed


def test_the_least_recently_used_key_goes_first_and_a_read_counts_as_a_use():
    kept: LastUsed[str, int] = LastUsed(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "b" is now the least recently used
    kept.put("c", 3)
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == (1, None, 3)
    assert len(kept) == 2


def test_putting_a_kept_key_again_replaces_its_value_without_growing():
    kept: LastUsed[str, int] = LastUsed(2)
    kept.put("a", 1)
    kept.put("a", 10)
    assert (kept.get("a"), len(kept)) == (10, 1)


def test_a_cache_of_no_value_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        LastUsed(0)


def test_threads_sharing_it_never_see_it_grow_past_its_size():
    kept: LastUsed[int, int] = LastUsed(8)

    def churn(offset: int) -> None:
        for i in range(2_000):
            kept.put(offset + i % 20, i)
            kept.get(offset + (i * 7) % 20)

    threads = [threading.Thread(target=churn, args=(n * 100,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(kept) == 8
