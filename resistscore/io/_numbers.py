"""How numbers are written in a text table: decide the decimal and thousands separators from all its cells.

A cell such as ``1,500`` is 1.5 in a file written with a decimal comma and 1500 in a file written with a
thousands separator; ``1.500`` is the mirror case. A file is written by one program with one number
format, so the format is decided from the evidence of every data cell at once, never from a single cell
or from the first lines:

* a cell that only one format can read is *definitive*: ``5.1``, ``0.500``, ``1234.5``, ``1,234.5``,
  ``1,500,000`` need a decimal point; ``5,1``, ``0,500``, ``1.234,5``, ``1.500.000`` a decimal comma;
* a cell of the form ``[1-9]d{0,2}<sep>ddd`` (``1,500``, ``12.345``) is *ambiguous*: a decimal with three
  digits, or a thousands-grouped integer;
* plain integers read the same in every format.

Definitive cells of both formats -> error (a mixed file). Definitive cells of one format -> that
format. Only ambiguous cells -> each reading is checked against how a program writes numbers: decimals
are written either with as few digits as needed (no trailing zero: ``1,5``, never ``1,500``) or with a
fixed number of digits (then every number has them, and no plain integer appears); a thousands
separator groups every number of four digits or more (a plain ``1500`` beside ``2,000`` rules it out).
When exactly one reading fits, it is used; when both or neither fit, the file is refused with an error
that names ``decimal=`` / ``thousands=`` (CLI ``--decimal`` / ``--thousands``). Example: ``1,500`` beside
``900`` and ``2,000`` is 1500 (a decimal-comma writer would have written ``1,5`` and ``2``), while
``1,234`` beside ``5,678`` alone cannot be decided.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from resistscore._errors import InputFormatError

__all__ = ["DECIMALS", "NA_STRINGS", "THOUSANDS", "NumberEvidence", "NumberFormat", "convert", "decide"]

#: spellings of a missing value in text tables (besides an empty cell)
NA_STRINGS = ["", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "None", "-", ".", "#N/A", "?"]
_NA = frozenset(NA_STRINGS)
DECIMALS = (".", ",")
#: accepted thousands separators ("" = none; " " also accepts the no-break spaces U+00A0 and U+202F)
THOUSANDS = ("", ",", ".", " ", "'")
_INF = re.compile(r"[+-]?(?:inf|infinity)", re.IGNORECASE)
_INT = re.compile(r"[+-]?([0-9]+)", re.ASCII)
_OTHER = {".": ",", ",": "."}
_MAX_EXAMPLES = 5


def _sep_class(t: str) -> str:
    return "[ \u00a0\u202f]" if t == " " else re.escape(t)


@functools.cache
def _strip_thousands(t: str) -> re.Pattern[str]:
    return re.compile(_sep_class(t))


@dataclass(frozen=True)
class NumberFormat:
    """Decimal and thousands separators of a table (``thousands=""``: none)."""

    decimal: str = "."
    thousands: str = ""
    reason: str = ""

    def grammar(self) -> re.Pattern[str]:
        """Regular expression that a number written in this format matches in full."""
        return _grammar(self.decimal, self.thousands)


@functools.cache
def _grammar(decimal: str, thousands: str) -> re.Pattern[str]:
    d = re.escape(decimal)
    if thousands:
        t = _sep_class(thousands)
        intpart = rf"(?:[1-9][0-9]{{0,2}}(?:{t}[0-9]{{3}})+|[0-9]+)"
    else:
        intpart = r"[0-9]+"
    return re.compile(rf"[+-]?(?:{intpart}(?:{d}[0-9]*)?|{d}[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


_DOT = NumberFormat(".", ",")
_COMMA = NumberFormat(",", ".")
_DOT_RE, _COMMA_RE = _DOT.grammar(), _COMMA.grammar()
_AMB_RE = {s: re.compile(rf"[+-]?[1-9][0-9]{{0,2}}{re.escape(s)}([0-9]{{3}})", re.ASCII) for s in DECIMALS}


def _uniques(values) -> tuple[np.ndarray, np.ndarray]:
    """(codes, unique values) of a column; NaN/None/NA get code -1."""
    arr = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
    if len(arr) > 512:
        codes, uniq = pd.factorize(arr, use_na_sentinel=True)
        return codes, np.asarray(uniq, dtype=object)
    seen: dict = {}  # small columns: a dict is ~20x faster than pandas' machinery
    codes = np.empty(len(arr), dtype=np.intp)
    for i, v in enumerate(arr):
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            codes[i] = -1
        else:
            codes[i] = seen.setdefault(v, len(seen))
    uniq = np.empty(len(seen), dtype=object)
    uniq[:] = list(seen)
    return codes, uniq


def _number_like_one(v, extra: re.Pattern[str] | None) -> bool:
    if not isinstance(v, str):
        return True  # a number already (typed sources), or NaN
    t = v.strip()
    return t in _NA or bool(
        _DOT_RE.fullmatch(t)
        or _COMMA_RE.fullmatch(t)
        or _INF.fullmatch(t)
        or (extra is not None and extra.fullmatch(t))
    )


def user_grammar(decimal: str | None, thousands: str | None) -> re.Pattern[str] | None:
    """Return the grammar of a number format the user gave (``thousands=" "`` or ``"'"``), else None."""
    if thousands in (" ", "'"):
        return NumberFormat(decimal or ".", thousands).grammar()
    return None


def is_number_like(values, extra: re.Pattern[str] | None = None) -> np.ndarray:
    """Boolean mask: the cell is a number in some supported format (or ``extra``), or a missing value."""
    codes, uniq = _uniques(values)
    ok = np.fromiter((_number_like_one(v, extra) for v in uniq), dtype=bool, count=len(uniq))
    return np.where(codes < 0, True, ok[np.maximum(codes, 0)] if len(uniq) else True)


def is_blank(values) -> np.ndarray:
    """Boolean mask: the cell is NaN or empty (whitespace only)."""
    codes, uniq = _uniques(values)
    blank = np.fromiter((isinstance(v, str) and not v.strip() for v in uniq), dtype=bool, count=len(uniq))
    return np.where(codes < 0, True, blank[np.maximum(codes, 0)] if len(uniq) else True)


def is_missing(values) -> np.ndarray:
    """Boolean mask: the cell is empty, NaN or an NA spelling."""
    codes, uniq = _uniques(values)
    na = np.fromiter((isinstance(v, str) and v.strip() in _NA for v in uniq), dtype=bool, count=len(uniq))
    return np.where(codes < 0, True, na[np.maximum(codes, 0)] if len(uniq) else True)


@dataclass
class NumberEvidence:
    """Counts of definitive, ambiguous and integer cells seen so far (see the module docstring)."""

    definitive: dict[str, int] = field(default_factory=lambda: {".": 0, ",": 0})
    definitive_examples: dict[str, list[str]] = field(default_factory=lambda: {".": [], ",": []})
    ambiguous: dict[str, int] = field(default_factory=lambda: {".": 0, ",": 0})
    ambiguous_examples: dict[str, list[str]] = field(default_factory=lambda: {".": [], ",": []})
    trailing_zero: dict[str, bool] = field(default_factory=lambda: {".": False, ",": False})
    grouped: dict[str, int] = field(default_factory=lambda: {".": 0, ",": 0})  # definitive cells with a group
    n_int_small: int = 0  # plain integers below 1000
    n_int_large: int = 0  # plain integers of four digits or more

    def add_tokens(self, tokens) -> None:
        """Add the text cells of a data column (distinct values; NA spellings and text are ignored here)."""
        _, uniq = _uniques(tokens)
        for v in uniq:
            if not isinstance(v, str):
                continue
            t = v.strip()
            if t in _NA:
                continue
            dot, comma = bool(_DOT_RE.fullmatch(t)), bool(_COMMA_RE.fullmatch(t))
            if dot and comma:
                m = _INT.fullmatch(t)
                if m:
                    digits = len(m.group(1).lstrip("0"))
                    if digits >= 4:
                        self.n_int_large += 1
                    else:
                        self.n_int_small += 1
                    continue
                for sep in DECIMALS:
                    a = _AMB_RE[sep].fullmatch(t)
                    if a:
                        self.ambiguous[sep] += 1
                        if len(self.ambiguous_examples[sep]) < _MAX_EXAMPLES:
                            self.ambiguous_examples[sep].append(t)
                        self.trailing_zero[sep] |= a.group(1).endswith("0")
            elif dot or comma:
                sep = "." if dot else ","
                self.definitive[sep] += 1
                if len(self.definitive_examples[sep]) < _MAX_EXAMPLES:
                    self.definitive_examples[sep].append(t)
                self.grouped[_OTHER[sep]] += _OTHER[sep] in t

    def add_parsed(self, values: np.ndarray) -> bool:
        """Add a column that was parsed with a decimal point; return True if its text is needed.

        A parsed value proves a decimal point when no thousands-grouped integer could have given it
        (below 1, 1000 or more with a fraction, or more than three decimals); integers and values
        with at most three decimals between 1 and 1000 prove nothing without their text.
        """
        v = np.abs(values[np.isfinite(values)])
        frac = v != np.round(v)
        v = v[frac]
        with np.errstate(invalid="ignore", over="ignore"):
            definitive = (v < 1) | (v >= 1000) | (np.abs(v * 1000 - np.round(v * 1000)) > 1e-6)
        if definitive.any():
            self.definitive["."] += int(definitive.sum())
            if len(self.definitive_examples["."]) < _MAX_EXAMPLES:
                self.definitive_examples["."].append(repr(float(v[definitive][0])))
            return False
        return True

    def add_integers(self, values: np.ndarray) -> None:
        """Add a column of integers (read without any separator)."""
        v = np.abs(np.asarray(values, dtype=float))
        v = v[np.isfinite(v)]
        self.n_int_small += int((v < 1000).sum())
        self.n_int_large += int((v >= 1000).sum())

    def _plausible(self, fmt: NumberFormat) -> bool:
        """Could one program have written every cell in ``fmt``? Decimals are written with as few digits as needed.

        (no trailing zero) or with a fixed number (then no number is a plain integer); a thousands
        separator groups every number of four digits or more.
        """
        d, t = fmt.decimal, _OTHER[fmt.decimal]
        n_int = self.n_int_small + self.n_int_large
        decimals_ok = not self.ambiguous[d] or not self.trailing_zero[d] or n_int == 0
        grouping_ok = not self.ambiguous[t] or self.n_int_large == 0
        return decimals_ok and grouping_ok


def _fix(name: str) -> str:
    return f"{name}: pass decimal='.' or decimal=',' (CLI: --decimal) and, if needed, thousands= (CLI: --thousands)"


def decide(
    ev: NumberEvidence, name: str, decimal: str | None = None, thousands: str | None = None
) -> NumberFormat:
    """Return the number format of a table from its evidence, or the one the user gave.

    Raises
    ------
    InputFormatError
        If the cells mix both formats, or if the format cannot be decided (the message names
        ``decimal=`` and ``thousands=``).
    """
    if thousands == "" and decimal is None:
        # no thousands separator: a cell like 1,500 can only be a decimal; both separators is a mix
        votes = {s: ev.definitive[s] + ev.ambiguous[s] for s in DECIMALS}
        if not (votes["."] and votes[","]):
            decimal = "," if votes[","] else "."
    if decimal is not None or thousands in (",", "."):
        d = decimal if decimal is not None else _OTHER[thousands]  # type: ignore[index]
        t = thousands if thousands is not None else _OTHER[d]
        return NumberFormat(d, t, "given by the user")
    dot, comma = ev.definitive["."], ev.definitive[","]
    if dot and comma:
        raise InputFormatError(
            f"{name} mixes numbers written with a decimal point ({dot} cells, e.g. "
            f"{', '.join(map(repr, ev.definitive_examples['.'][:3]))}) and with a decimal comma ({comma} cells, "
            f"e.g. {', '.join(map(repr, ev.definitive_examples[','][:3]))}); save it with one number format, or "
            + _fix("say which one applies")
        )
    user_t = thousands
    if dot or comma:
        sep = "." if dot else ","
        grouping = _OTHER[sep] if ev.grouped[_OTHER[sep]] or ev.ambiguous[_OTHER[sep]] else ""
        fmt = NumberFormat(sep, grouping)
        reason = (
            f"{dot or comma} cells such as {ev.definitive_examples[sep][0]!r} can only be read with a decimal "
            f"{'point' if sep == '.' else 'comma'}"
        )
    elif not ev.ambiguous["."] and not ev.ambiguous[","]:
        fmt, reason = NumberFormat(".", ""), "no decimal or thousands separator in the data"
    else:
        fits = [f for f in (_DOT, _COMMA) if ev._plausible(f)]
        if len(fits) != 1:
            sep = "," if ev.ambiguous[","] else "."
            ex = ev.ambiguous_examples[sep][0]
            as_dec = float(ex.replace(",", "."))
            as_grp = float(ex.replace(sep, ""))
            raise InputFormatError(
                f"{name}: cannot tell from the data whether {ex!r} is {as_dec:g} (decimal {'comma' if sep == ',' else 'point'}) "
                f"or {as_grp:g} (thousands separator): every number with {sep!r} has exactly three digits after it "
                f"({ev.ambiguous[sep]} cells, e.g. {', '.join(map(repr, ev.ambiguous_examples[sep][:3]))}). Pass "
                f"decimal={sep!r} if it is {as_dec:g}, or thousands={sep!r} if it is {as_grp:g} (CLI: --decimal / "
                "--thousands)."
            )
        fmt = fits[0]
        if not ev.ambiguous[_OTHER[fmt.decimal]]:
            fmt = NumberFormat(fmt.decimal, "")
        amb = ", ".join(
            f"{ev.ambiguous[s]} cells like {ev.ambiguous_examples[s][0]!r} read as "
            f"{'decimals' if s == fmt.decimal else 'thousands-grouped integers'}"
            for s in DECIMALS
            if ev.ambiguous[s]
        )
        reason = f"{amb}: the only reading consistent with how numbers are written elsewhere in the file"
    if user_t is not None:
        fmt = NumberFormat(fmt.decimal, user_t, reason + f"; thousands={user_t!r} given by the user")
    else:
        fmt = NumberFormat(fmt.decimal, fmt.thousands, reason)
    return fmt


def check_format_args(decimal: str | None, thousands: str | None) -> None:
    """Validate ``decimal=`` / ``thousands=`` (naming the argument)."""
    if decimal is not None and decimal not in DECIMALS:
        raise InputFormatError(f"decimal={decimal!r} is not supported; pass decimal='.' or decimal=','.")
    if thousands is not None and thousands not in THOUSANDS:
        raise InputFormatError(
            f"thousands={thousands!r} is not supported; pass one of {', '.join(map(repr, THOUSANDS))} "
            "('' = no thousands separator)."
        )
    if decimal is not None and thousands is not None and decimal == thousands:
        raise InputFormatError(
            f"decimal and thousands cannot both be {decimal!r}; pass two different separators."
        )


def _convert_one(v, grammar: re.Pattern[str], fmt: NumberFormat) -> tuple[float, bool]:
    """(value, is_text) of one cell written in ``fmt``."""
    if not isinstance(v, str):
        try:
            return float(v), False  # a number already (typed sources)
        except (TypeError, ValueError):
            return np.nan, True
    t = v.strip()
    if t in _NA:
        return np.nan, False
    if grammar.fullmatch(t):
        if fmt.thousands:
            t = _strip_thousands(fmt.thousands).sub("", t)
        if fmt.decimal != ".":
            t = t.replace(fmt.decimal, ".")
        x = float(t)  # exact (correctly rounded), unlike pandas' fast parser
        return (np.nan, True) if np.isinf(x) else (x, False)  # 1e400 is not a double we can keep
    if _INF.fullmatch(t):
        return (-np.inf if t.startswith("-") else np.inf), False
    return np.nan, True


def convert(values, fmt: NumberFormat) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of a column written in ``fmt``; returns (float values, mask of text cells).

    NA spellings and empty cells give NaN; numbers already parsed (e.g. from Excel) are kept; any other
    text is flagged in the mask (and NaN in the values).
    """
    codes, uniq = _uniques(values)
    grammar = fmt.grammar()
    pairs = [_convert_one(v, grammar, fmt) for v in uniq]
    vals = np.array([p[0] for p in pairs], dtype=float)
    text = np.array([p[1] for p in pairs], dtype=bool)
    missing = codes < 0
    idx = np.maximum(codes, 0)
    if not len(uniq):
        return np.full(len(codes), np.nan), np.zeros(len(codes), dtype=bool)
    return np.where(missing, np.nan, vals[idx]), np.where(missing, False, text[idx])
