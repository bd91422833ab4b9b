"""Redistribution envelopes: who gets how much of a one-off amount.

An envelope of ``amount_cents`` keeps a retained share for the cooperative
(e.g. 40 %, rounded half up to the cent); the rest (``distributable_cents``)
goes to the ELIGIBLE members: those whose revenue excl. VAT over the
envelope's reference period is at least ``min_revenue_cents`` (default 1 cent,
i.e. "revenue > 0"). The caller supplies each member's revenue already
restricted to the reference period.

Allocation keys turn members into non-negative INTEGER weights:

* ``ProRataRevenue``  weight = revenue in cents.
* ``EqualShares``     weight = 1.
* ``SectorWeighted``  weight per NACE sector code (longest prefix wins: a
  weight for "90" applies to "90.01"; unknown sectors get ``default_weight``).
  ``basis="revenue"`` (default) multiplies it by the member's revenue, so a
  euro earned in a difficult sector counts more while the link with what each
  member brought stays; ``basis="head"`` gives it per member, independent of
  revenue. Weights are decimals with at most 4 places (scaled to integers).
* ``Mixed``           e.g. 50 % pro rata + 50 % equal: each part's weights are
  normalised to its own total and blended by its share, exactly (integers on a
  common denominator), so the mix is the exact weighted sum of the parts.

Floors and caps (per member, in cents) are then applied as the fixed point of
the iterative rule "cap those above the cap and redistribute the excess to the
others pro rata; raise those below the floor and take it from the others pro
rata": each member gets ``clamp(lambda * weight, floor, cap)`` with the single
lambda making the total equal to the pot. It is computed directly by sweeping
the sorted breakpoints with exact integer arithmetic (no float, no oscillation).

Rounding: the unbounded members' exact shares are rounded by the LARGEST
REMAINDER method (ties: member id ascending), so the total distributed equals
``distributable_cents`` EXACTLY, and floors and caps still hold to the cent.

Simulation compares scenarios side by side: total, beneficiaries (amount > 0),
min / median / max over beneficiaries (an even count's median is the mean of
the two middle amounts, rounded half up), the share of the total reaching the
lower-revenue half of eligible members (sorted by revenue then id; the middle
member of an odd count is in neither half), and the Gini coefficient over all
eligible members (zeros included).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal, Protocol

from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument

from .errors import ShortOfMoney
from .money import apply_basis_points, div_round_half_up, require_cents, split_largest_remainder

WEIGHT_SCALE = 10_000  # sector weights are stored as integers of 1/10000


@dataclass(frozen=True, slots=True)
class MemberRevenue:
    """A member's revenue excl. VAT over the reference period, and their NACE sector."""

    member_id: str
    revenue_cents: int
    sector: str = ""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A one-off amount; ``retained_bp`` of it stays with the cooperative."""

    amount_cents: int
    retained_bp: int = 4000
    min_revenue_cents: int = 1
    reference_start: date | None = None
    reference_end: date | None = None

    def __post_init__(self) -> None:
        require_cents(self.amount_cents)
        if self.amount_cents < 0:
            raise InvalidArgument("envelope amount must be >= 0", field="envelope.amount_cents", reason="AMOUNT_NEGATIVE")
        require_cents(self.retained_bp, "retained_bp")
        if not 0 <= self.retained_bp <= 10_000:
            raise InvalidArgument("retained share is between 0 and 10000 basis points", field="envelope.retained_bp",
                                  reason="RATE_OUT_OF_RANGE")
        require_cents(self.min_revenue_cents, "min_revenue_cents")
        if self.min_revenue_cents < 1:
            raise InvalidArgument("eligibility needs a revenue of at least 1 cent")
        if self.reference_start and self.reference_end and self.reference_end < self.reference_start:
            raise InvalidArgument("reference period ends before it starts", field="envelope.reference_end",
                                  reason="ENDS_BEFORE_START")

    @property
    def retained_cents(self) -> int:
        return apply_basis_points(self.amount_cents, self.retained_bp)

    @property
    def distributable_cents(self) -> int:
        """What goes to members; retained + distributable == amount exactly."""
        return self.amount_cents - self.retained_cents

    def eligible(self, members: Sequence[MemberRevenue]) -> list[MemberRevenue]:
        """Members with at least the minimum revenue, in input order; ids must be unique."""
        seen: set[str] = set()
        out: list[MemberRevenue] = []
        for m in members:
            if m.member_id in seen:
                raise InvalidArgument(f"member {m.member_id} listed twice")
            seen.add(m.member_id)
            if m.revenue_cents >= self.min_revenue_cents:
                out.append(m)
        return out


class AllocationKey(Protocol):
    """Anything that gives each member a non-negative integer weight."""

    def weights(self, members: Sequence[MemberRevenue]) -> list[int]: ...


@dataclass(frozen=True, slots=True)
class ProRataRevenue:
    def weights(self, members: Sequence[MemberRevenue]) -> list[int]:
        return [m.revenue_cents for m in members]


@dataclass(frozen=True, slots=True)
class EqualShares:
    def weights(self, members: Sequence[MemberRevenue]) -> list[int]:
        return [1] * len(members)


def _scaled_weight(value: Decimal | int | str) -> int:
    if isinstance(value, float | bool):
        raise InvalidArgument("sector weights are Decimal, int or str, not float")
    try:
        d = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidArgument(f"bad sector weight {value!r}") from None
    scaled = d * WEIGHT_SCALE
    if not d.is_finite() or d < 0 or scaled != scaled.to_integral_value():
        raise InvalidArgument(f"sector weight must be >= 0 with at most 4 decimals, got {value!r}")
    return int(scaled)


def _sector_digits(code: str) -> str:
    return code.replace(".", "").replace(" ", "").upper()


@dataclass(frozen=True)
class SectorWeighted:
    """Weight per NACE sector (longest prefix), times revenue or per head (module doc)."""

    sector_weights: Mapping[str, Decimal | int | str]
    basis: Literal["revenue", "head"] = "revenue"
    default_weight: Decimal | int | str = 1
    _scaled: dict[str, int] = field(init=False, repr=False, compare=False)
    _default: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.basis not in ("revenue", "head"):
            raise InvalidArgument("basis is 'revenue' or 'head'")
        object.__setattr__(
            self, "_scaled", {_sector_digits(k): _scaled_weight(v) for k, v in self.sector_weights.items()}
        )
        object.__setattr__(self, "_default", _scaled_weight(self.default_weight))

    def weight_of_sector(self, sector: str) -> int:
        """Scaled weight (x10000) of a NACE code: the longest matching prefix, else default."""
        code = _sector_digits(sector)
        for end in range(len(code), 0, -1):
            w = self._scaled.get(code[:end])
            if w is not None:
                return w
        return self._default

    def weights(self, members: Sequence[MemberRevenue]) -> list[int]:
        cache: dict[str, int] = {}
        out: list[int] = []
        for m in members:
            w = cache.get(m.sector)
            if w is None:
                w = cache[m.sector] = self.weight_of_sector(m.sector)
            out.append(w * m.revenue_cents if self.basis == "revenue" else w)
        return out


@dataclass(frozen=True)
class Mixed:
    """Blend of keys, e.g. ``Mixed(((5000, ProRataRevenue()), (5000, EqualShares())))``.

    Shares are positive integers, relative to their sum (basis points read best).
    """

    parts: tuple[tuple[int, AllocationKey], ...]

    def __post_init__(self) -> None:
        if not self.parts:
            raise InvalidArgument("a mix needs at least one part")
        for share, _key in self.parts:
            if isinstance(share, bool) or not isinstance(share, int) or share <= 0:
                raise InvalidArgument("mix shares are positive integers")

    def weights(self, members: Sequence[MemberRevenue]) -> list[int]:
        part_weights = [(share, key.weights(members)) for share, key in self.parts]
        totals = [sum(w) for _s, w in part_weights]
        if members and any(t == 0 for t in totals):
            raise FailedPrecondition("a part of the mix gives every member a zero weight")
        if not members:
            return []
        common = math.lcm(*totals)
        combined = [0] * len(members)
        for (share, ws), total in zip(part_weights, totals, strict=True):
            factor = share * (common // total)
            for j, w in enumerate(ws):
                if w:
                    combined[j] += factor * w
        return combined


@dataclass(frozen=True)
class Scenario:
    """A named key with optional per-member floor and cap (cents)."""

    name: str
    key: AllocationKey
    floor_cents: int = 0
    cap_cents: int | None = None

    def __post_init__(self) -> None:
        require_cents(self.floor_cents, "floor_cents")
        if self.floor_cents < 0:
            raise InvalidArgument("floor must be >= 0")
        if self.cap_cents is not None:
            require_cents(self.cap_cents, "cap_cents")
            if self.cap_cents < self.floor_cents:
                raise InvalidArgument("cap is below the floor")


@dataclass(frozen=True)
class Allocation:
    """Result of one scenario: amounts aligned with ``member_ids`` (eligible members)."""

    scenario: str
    member_ids: tuple[str, ...]
    amounts_cents: tuple[int, ...]

    @property
    def total_cents(self) -> int:
        return sum(self.amounts_cents)

    def as_dict(self) -> dict[str, int]:
        return dict(zip(self.member_ids, self.amounts_cents, strict=True))


def bounded_split(
    pot_cents: int,
    weights: Sequence[int],
    floor_cents: int = 0,
    cap_cents: int | None = None,
    tie_keys: Sequence[str] | None = None,
) -> list[int]:
    """Split ``pot_cents`` as ``clamp(lambda*w, floor, cap)``, exact to the cent.

    FailedPrecondition when impossible: floors above the pot (``shortfall_cents``),
    or caps / zero weights that cannot absorb the whole pot (``undistributable_cents``).
    """
    require_cents(pot_cents, "pot_cents")
    n = len(weights)
    f, c = floor_cents, cap_cents
    if pot_cents < 0:
        raise InvalidArgument("pot must be >= 0")
    if n == 0:
        if pot_cents:
            raise FailedPrecondition("nobody is eligible", {"undistributable_cents": pot_cents}, reason="NOBODY_ELIGIBLE")
        return []
    if n * f > pot_cents:
        raise ShortOfMoney(
            "floors exceed the envelope", {"shortfall_cents": n * f - pot_cents}, field="scenario.floor_cents"
        )
    if c is not None and n * c < pot_cents:
        raise FailedPrecondition(
            "caps leave part of the envelope undistributed",
            {"undistributable_cents": pot_cents - n * c}, field="scenario.cap_cents", reason="UNDISTRIBUTABLE",
        )
    if any(w < 0 for w in weights):
        raise InvalidArgument("weights must be >= 0")
    amounts = [f] * n
    if pot_cents == n * f:
        return amounts
    # Members with a positive weight by descending weight: their breakpoints
    # (f/w leaving the floor, c/w reaching the cap) then come in ascending order.
    order = sorted((j for j in range(n) if weights[j] > 0), key=lambda j: -weights[j])
    npos = len(order)
    prefix = [0] * (npos + 1)
    for idx, j in enumerate(order):
        prefix[idx + 1] = prefix[idx] + weights[j]
    released = npos if f == 0 else 0  # order[:released] are above their floor
    capped = 0  # order[:capped] are at their cap
    while True:
        # Next breakpoint lambda = num/den: a floor release or a cap (floor first on ties).
        nxt = None
        if released < npos:
            nxt = ("floor", f, weights[order[released]])
        if c is not None and capped < released:
            cap_event = ("cap", c, weights[order[capped]])
            if nxt is None or c * nxt[2] < nxt[1] * cap_event[2]:
                nxt = cap_event
        fixed = (n - released) * f + capped * (c or 0)
        w_mid = prefix[released] - prefix[capped]
        if nxt is None:
            if w_mid == 0:
                raise FailedPrecondition(
                    "weights and caps cannot absorb the envelope",
                    {"undistributable_cents": pot_cents - fixed}, reason="UNDISTRIBUTABLE",
                )
            break
        _kind, num, den = nxt
        if fixed * den + num * w_mid >= pot_cents * den:
            break  # the solution lies before this breakpoint
        if _kind == "floor":
            released += 1
        else:
            capped += 1
    if c is not None:
        for j in order[:capped]:
            amounts[j] = c
    middle = order[capped:released]
    keys = [tie_keys[j] for j in middle] if tie_keys is not None else middle
    shares = split_largest_remainder(pot_cents - fixed, [weights[j] for j in middle], keys)
    for j, a in zip(middle, shares, strict=True):
        amounts[j] = a
    return amounts


def allocate(envelope: Envelope, members: Sequence[MemberRevenue], scenario: Scenario) -> Allocation:
    """Distribute the envelope's distributable amount among eligible members."""
    eligible = envelope.eligible(members)
    return _allocate_eligible(envelope, eligible, scenario)


def _allocate_eligible(envelope: Envelope, eligible: list[MemberRevenue], scenario: Scenario) -> Allocation:
    ids = [m.member_id for m in eligible]
    weights = scenario.key.weights(eligible)
    amounts = bounded_split(
        envelope.distributable_cents, weights, scenario.floor_cents, scenario.cap_cents, ids
    )
    return Allocation(scenario.name, tuple(ids), tuple(amounts))


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Side-by-side figures for one scenario (see module doc for definitions)."""

    scenario: str
    total_distributed_cents: int
    eligible: int
    beneficiaries: int
    min_cents: int
    median_cents: int
    max_cents: int
    lower_half_share: float
    gini: float


def gini(amounts: Sequence[int]) -> float:
    """Gini coefficient of non-negative amounts (0 = equal, -> 1 = all to one)."""
    n = len(amounts)
    total = sum(amounts)
    if n == 0 or total == 0:
        return 0.0
    ranked = sum(i * x for i, x in enumerate(sorted(amounts), start=1))
    return (2 * ranked - (n + 1) * total) / (n * total)


def median_cents(sorted_amounts: Sequence[int]) -> int:
    n = len(sorted_amounts)
    if n == 0:
        return 0
    mid = n // 2
    if n % 2:
        return sorted_amounts[mid]
    return div_round_half_up(sorted_amounts[mid - 1] + sorted_amounts[mid], 2)


def summarize(allocation: Allocation, lower_half_idx: Sequence[int]) -> SimulationResult:
    """Figures for one allocation; ``lower_half_idx`` are positions of the lower-revenue half."""
    amounts = allocation.amounts_cents
    total = sum(amounts)
    paid = sorted(a for a in amounts if a > 0)
    lower = sum(amounts[i] for i in lower_half_idx)
    return SimulationResult(
        scenario=allocation.scenario,
        total_distributed_cents=total,
        eligible=len(amounts),
        beneficiaries=len(paid),
        min_cents=paid[0] if paid else 0,
        median_cents=median_cents(paid),
        max_cents=paid[-1] if paid else 0,
        lower_half_share=lower / total if total else 0.0,
        gini=gini(amounts),
    )


def simulate(
    envelope: Envelope, members: Sequence[MemberRevenue], scenarios: Sequence[Scenario]
) -> list[SimulationResult]:
    """Run several scenarios on the same envelope and members, in the given order."""
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise AlreadyExists("scenario names must be unique", field="scenarios", reason="SCENARIO_NAME_TAKEN")
    eligible = envelope.eligible(members)
    by_revenue = sorted(range(len(eligible)), key=lambda i: (eligible[i].revenue_cents, eligible[i].member_id))
    lower_half = by_revenue[: len(eligible) // 2]
    return [summarize(_allocate_eligible(envelope, eligible, s), lower_half) for s in scenarios]
