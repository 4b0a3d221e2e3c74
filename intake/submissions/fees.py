"""A contribution's fee from its 字数: chars × rate / 1000, counted and rounded as the desk sets.

Chinese desks pay by the thousand characters (千字): some count exactly, some count any part
of a thousand as a whole one (不足千字按千字计); most pay whole yuan, rounding half up
(四舍五入), some always up or always down; many pay a minimum per piece (保底). Money is
worked out in :class:`~decimal.Decimal`, never in binary floating point.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

from intake.core.config import FeesConfig

_STEP = {"fen": Decimal("0.01"), "jiao": Decimal("0.1"), "yuan": Decimal("1"), "ten": Decimal("10")}
_MODE = {"half-up": ROUND_HALF_UP, "up": ROUND_UP, "down": ROUND_DOWN}
_CENTS = Decimal("0.01")


def fee(char_count: int, fees: FeesConfig) -> Decimal | None:
    """The fee in yuan to two decimals, or None when no rate is configured."""
    if fees.rate_per_thousand_chars <= 0:
        return None
    chars = Decimal(max(char_count, 0))
    if fees.count == "thousands-up":
        chars = (chars / 1000).to_integral_value(ROUND_UP) * 1000
    amount = chars * Decimal(str(fees.rate_per_thousand_chars)) / 1000
    step = _STEP[fees.round_to]
    amount = (amount / step).to_integral_value(_MODE[fees.rounding]) * step
    amount = max(amount, Decimal(str(fees.minimum))) if chars else amount
    return amount.quantize(_CENTS)
