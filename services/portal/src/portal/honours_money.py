"""Money on the honours pages: the APIs count fen (0.01 yuan); people read and type yuan.
Amounts are shown per language and typed in either language's way ("1,200.50", "¥200",
"200元"); what cannot be a sum of money is a message key for the field, never a guess."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

FEN_PER_YUAN = 100
MAX_FEN = 10**12  # what the awards API accepts for a reward (ten billion yuan)
# Grouping commas, spaces, currency signs and the full-width forms a Chinese keyboard types.
IGNORED = str.maketrans("", "", ",\uff0c\u00a5\uffe5\u5143 ")


class NotMoney(ValueError):
    """The text is not an amount in yuan; `key` is the catalogue key of the reason."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def yuan(fen: int | None, lang: str) -> str:
    """`123450` → "1,234.50元" (zh) or "¥1,234.50" (en)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    figure = f"{whole:,}.{cents:02d}"
    return f"{sign}{figure}元" if lang == "zh" else f"{sign}¥{figure}"


def fen_of(text: str, *, most: int = MAX_FEN) -> int:
    """An amount typed in yuan, as fen: at most two decimals, not negative, at most `most`."""
    cleaned = text.strip().translate(IGNORED).replace("\uff0e", ".")
    if not cleaned:
        raise NotMoney("honours.money.blank")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise NotMoney("honours.money.invalid") from None
    if not amount.is_finite():
        raise NotMoney("honours.money.invalid")
    if amount < 0:
        raise NotMoney("honours.money.negative")
    fen = amount * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise NotMoney("honours.money.cents")
    if fen > most:
        raise NotMoney("honours.money.too_much")
    return int(fen)
