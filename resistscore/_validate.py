"""Argument validators whose errors name the argument, the value given and what is allowed."""

from __future__ import annotations

from collections.abc import Collection
from numbers import Integral, Real
from typing import Any

import pandas as pd

from resistscore._errors import ResistScoreError

__all__ = ["check_choice", "check_int", "check_probability", "check_real", "check_score_table"]


def check_choice(name: str, value: Any, choices: Collection[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise naming the argument."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ResistScoreError(f"`{name}` must be one of {allowed}; got {value!r}.")
    return value


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as int if it is an integer within bounds, else raise naming the argument."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ResistScoreError(f"`{name}` must be an integer; got {value!r} ({type(value).__name__}).")
    if minimum is not None and value < minimum:
        raise ResistScoreError(f"`{name}` must be >= {minimum}; got {value}.")
    if maximum is not None and value > maximum:
        raise ResistScoreError(f"`{name}` must be <= {maximum}; got {value}.")
    return int(value)


def check_real(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    inclusive: bool = True,
) -> float:
    """Return ``value`` as float if it is a finite real within bounds, else raise naming the argument."""
    if isinstance(value, bool) or not isinstance(value, Real) or value != value:
        raise ResistScoreError(f"`{name}` must be a real number; got {value!r}.")
    lo_bad = minimum is not None and (value < minimum if inclusive else value <= minimum)
    hi_bad = maximum is not None and (value > maximum if inclusive else value >= maximum)
    if lo_bad or hi_bad:
        op = "[]" if inclusive else "()"
        raise ResistScoreError(f"`{name}` must lie in {op[0]}{minimum}, {maximum}{op[1]}; got {value}.")
    return float(value)


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` if it lies in (0, 1), else raise naming the argument."""
    return check_real(name, value, minimum=0.0, maximum=1.0, inclusive=False)


def check_score_table(df: pd.DataFrame, name: str = "scores") -> pd.DataFrame:
    """Return a samples x signatures score table, checked (not empty, numeric, unique sample names), as floats.

    Examples
    --------
    >>> import pandas as pd
    >>> check_score_table(pd.DataFrame({"efflux_abc": [1, 2]}, index=["a", "b"])).dtypes.iloc[0]
    dtype('float64')
    """
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise ResistScoreError(f"`{name}` is empty ({df.shape[0]} samples x {df.shape[1]} signatures).")
    non_numeric = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if non_numeric:
        raise ResistScoreError(
            f"`{name}` has non-numeric columns {non_numeric[:5]}; pass only the score columns "
            "(samples x signatures) and give sample annotations separately as `metadata`."
        )
    if df.index.has_duplicates:
        dup = df.index[df.index.duplicated()].unique()[:5].tolist()
        raise ResistScoreError(f"`{name}` has duplicated sample names {dup}; make the index unique.")
    return df.astype(float)
