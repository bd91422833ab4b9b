"""Deliberately naive second implementations, used only to cross-check the domain.

Written from the documented rules, not from the production code: ballots are
expanded one paper per unit of weight, Fractions everywhere, no aggregation,
different widest-path algorithm, recursive Schulze tiers. Slow and obvious on
purpose.
"""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction


def ref_draw_key(seed: str, candidate: str) -> str:
    """Documented draw: SHA-256 of seed, unit separator, candidate id; smallest favoured."""
    return hashlib.sha256(f"{seed}\x1f{candidate}".encode()).hexdigest()


# -- plurality / approval -------------------------------------------------------
def ref_choices(candidates, seats, ballots, seed):
    """Return (tallies dict, winners set) for plurality/approval."""
    tallies = {c: 0 for c in candidates}
    for choices, weight in ballots:
        for _ in range(weight):
            for c in choices:
                tallies[c] = tallies[c] + 1
    ranked = sorted(candidates, key=lambda c: (-tallies[c], ref_draw_key(seed, c)))
    return tallies, set(ranked[:seats])


# -- Schulze ----------------------------------------------------------------------
def ref_pairwise(candidates, ballots):
    d = {x: {y: 0 for y in candidates} for x in candidates}
    for ranking, weight in ballots:
        position = {c: i for i, c in enumerate(ranking)}
        for x in candidates:
            for y in candidates:
                if x == y:
                    continue
                px = position.get(x, math.inf)
                py = position.get(y, math.inf)
                if px < py:
                    d[x][y] += weight
    return d


def ref_widest(candidates, d):
    """Bellman-Ford style relaxation until stable, per source."""
    link = {
        x: {y: (d[x][y] if x != y and d[x][y] > d[y][x] else 0) for y in candidates}
        for x in candidates
    }
    width = {x: dict(link[x]) for x in candidates}
    changed = True
    while changed:
        changed = False
        for s in candidates:
            for mid in candidates:
                for t in candidates:
                    if len({s, mid, t}) < 3:
                        continue
                    w = min(width[s][mid], link[mid][t])
                    if w > width[s][t]:
                        width[s][t] = w
                        changed = True
    return width


def ref_schulze(candidates, ballots, seed):
    """Return (pairwise, strongest, ranking) as dicts and a tuple."""
    rankings = [(r, w) for r, w in ballots if r]
    d = ref_pairwise(candidates, rankings)
    p = ref_widest(candidates, d)

    def beats(x, y):
        return p[x][y] > p[y][x]

    depth_cache = {}

    def depth(c):
        if c not in depth_cache:
            above = [b for b in candidates if b != c and beats(b, c)]
            depth_cache[c] = 0 if not above else 1 + max(depth(b) for b in above)
        return depth_cache[c]

    ranking = tuple(sorted(candidates, key=lambda c: (depth(c), ref_draw_key(seed, c))))
    return d, p, ranking


# -- STV (Scottish WIGM) ----------------------------------------------------------------
def _trunc5(x: Fraction) -> Fraction:
    return Fraction(math.floor(x * 100000), 100000)


class _Paper:
    def __init__(self, prefs):
        self.prefs = list(prefs)
        self.value = Fraction(1)
        self.holder = self.prefs[0]


def ref_stv(candidates, seats, ballots, seed):
    """Return dict(quota, winners, rounds=[(action, candidate, tallies, exhausted_total)])."""
    papers = [_Paper(r) for r, w in ballots if r for _ in range(w)]
    quota = len(papers) // (seats + 1) + 1
    hopeful = list(candidates)
    elected: list[str] = []
    settled = {}  # elected candidates whose surplus is gone: total fixed at quota
    zeroed = set()
    exhausted = Fraction(0)
    history: list[dict] = []
    rounds = []

    def total(c):
        if c in settled:
            return settled[c]
        if c in zeroed:
            return Fraction(0)
        return sum((p.value for p in papers if p.holder == c), Fraction(0))

    def snapshot():
        return {c: total(c) for c in candidates}

    def vector(c):
        return [total(c)] + [h[c] for h in history]

    def order_desc(cs):
        # sort by vector descending, then draw ascending: two stable sorts
        cs = sorted(cs, key=lambda c: ref_draw_key(seed, c))
        return sorted(cs, key=vector, reverse=True)

    def next_holder(p):
        while p.prefs and p.prefs[0] not in hopeful:
            p.prefs.pop(0)
        return p.prefs[0] if p.prefs else None

    def elect_reached():
        reached = [c for c in hopeful if total(c) >= quota]
        out = order_desc(reached)
        for c in out:
            hopeful.remove(c)
            elected.append(c)
        return out

    def record(action, cand, new):
        snap = snapshot()
        rounds.append((action, cand, snap, exhausted, tuple(new)))
        history.append(snap)

    new = elect_reached()
    record("first preferences", None, new)
    while len(elected) < seats:
        if len(hopeful) <= seats - len(elected):
            rest = order_desc(hopeful)
            for c in rest:
                hopeful.remove(c)
                elected.append(c)
            record("fill", None, rest)
            break
        with_surplus = [c for c in elected if c not in settled and total(c) > quota]
        if with_surplus:
            src = order_desc(with_surplus)[0]
            t = total(src)
            s = t - quota
            for p in papers:
                if p.holder != src:
                    continue
                p.value = _trunc5(s * p.value / t)
                p.prefs.pop(0)
                p.holder = next_holder(p)
                if p.holder is None:
                    exhausted += p.value
                    p.holder = "<exhausted>"
            settled[src] = Fraction(quota)
            new = elect_reached()
            record("surplus", src, new)
        else:
            src = order_desc(hopeful)[-1]
            hopeful.remove(src)
            for p in papers:
                if p.holder != src:
                    continue
                p.prefs.pop(0)
                p.holder = next_holder(p)
                if p.holder is None:
                    exhausted += p.value
                    p.holder = "<exhausted>"
            zeroed.add(src)
            new = elect_reached()
            record("exclusion", src, new)
    # elected candidates that never had a surplus transferred keep their papers
    return {"quota": quota, "winners": tuple(elected), "rounds": rounds}
