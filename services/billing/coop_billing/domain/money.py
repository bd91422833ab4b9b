"""Money arithmetic on integer cents.

Money is ALWAYS an ``int`` number of euro cents; never a float (DESIGN D5).

Rounding rule (the only one used in the billing domain):
    Whenever a rate is applied (a line's VAT, a contribution, social charges,
    the retained share of an envelope), the exact rational result is rounded
    to the cent HALF UP, i.e. half away from zero: 0.5 cent -> 1 cent,
    -0.5 cent -> -1 cent. Being symmetric, the rounded amount of a negated base
    is exactly the negated amount, so a credit note reverses an invoice (and
    its contribution) to the cent.

Rates are integers: contribution rates in basis points (650 = 6.5 %), VAT in
whole percent. Splitting an amount between several parties uses the
largest-remainder method so the parts add up EXACTLY to the whole.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from coop_domain.errors import InvalidArgument

BASIS_POINTS = 10_000
#: The largest amount one document (an invoice, a line, a payment, a contract) may carry:
#: EUR 100 billion. Anything above is a typo, and it keeps every sum the service prints far
#: from the int64 the API carries (922,337 maximal invoices would be needed to overflow a year).
MAX_AMOUNT_CENTS = 10**13


def require_cents(value: object, name: str = "amount_cents") -> int:
    """Return ``value`` if it is an int amount of cents; refuse floats, bools, Decimals."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name} must be an integer number of cents, got {value!r}", field=name,
                              reason="NOT_CENTS")
    return value


def require_at_most_max(value: int, name: str) -> int:
    """Refuse an amount beyond MAX_AMOUNT_CENTS (in either direction) as InvalidArgument."""
    if abs(value) > MAX_AMOUNT_CENTS:
        raise InvalidArgument(f"{name} {value} is absurdly large (max {MAX_AMOUNT_CENTS} cents)",
                              {"field": name}, reason="AMOUNT_TOO_LARGE")
    return value


def div_round_half_up(numerator: int, denominator: int) -> int:
    """Exact ``numerator / denominator`` rounded half away from zero (integers only)."""
    if denominator <= 0:
        raise InvalidArgument("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return sign * quotient


def apply_basis_points(amount_cents: int, basis_points: int) -> int:
    """``amount * bp / 10000`` rounded half up to the cent (see module rule)."""
    return div_round_half_up(amount_cents * basis_points, BASIS_POINTS)


def apply_percent(amount_cents: int, percent: int) -> int:
    """``amount * percent / 100`` rounded half up to the cent (used for VAT)."""
    return div_round_half_up(amount_cents * percent, 100)


def split_largest_remainder(
    total_cents: int,
    weights: Sequence[int],
    tie_keys: Sequence[Hashable] | None = None,
) -> list[int]:
    """Split ``total_cents`` proportionally to integer ``weights``, exact to the cent.

    Each part first gets the floor of its exact share; the cents left over go,
    one each, to the parts with the largest remainders. Ties are broken by
    ``tie_keys`` ascending (e.g. member ids) or by position, so the result does
    not depend on hash order and is reproducible.
    """
    if total_cents < 0:
        raise InvalidArgument("cannot split a negative amount")
    n = len(weights)
    if n == 0:
        if total_cents:
            raise InvalidArgument("cannot split a non-zero amount between nobody")
        return []
    weight_sum = 0
    for w in weights:
        if w < 0:
            raise InvalidArgument("weights must be >= 0")
        weight_sum += w
    if weight_sum == 0:
        if total_cents:
            raise InvalidArgument("cannot split a non-zero amount with all weights zero")
        return [0] * n
    parts: list[int] = []
    remainders: list[int] = []
    for w in weights:
        q, r = divmod(total_cents * w, weight_sum)
        parts.append(q)
        remainders.append(r)
    leftover = total_cents - sum(parts)
    if leftover:
        keys: Sequence[Hashable] = tie_keys if tie_keys is not None else range(n)
        order = sorted(
            (i for i in range(n) if remainders[i]),
            key=lambda i: (-remainders[i], keys[i]),
        )
        for i in order[:leftover]:
            parts[i] += 1
    return parts
