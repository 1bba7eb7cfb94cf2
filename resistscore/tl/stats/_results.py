"""Result objects of the statistics functions: a tidy table with fixed columns plus parameters."""

from __future__ import annotations

import html
import os
from typing import Any

import pandas as pd

from resistscore import io
from resistscore.tl._null import bh_fdr

__all__ = [
    "COMPARE_COLUMNS",
    "AssociationResult",
    "RocResult",
    "StatsResult",
    "SurvivalResult",
    "bh_fdr",
    "group_levels",
]

#: Fixed columns of :func:`compare_groups` tables.
COMPARE_COLUMNS = [
    "signature",
    "test",
    "group1",
    "group2",
    "n1",
    "n2",
    "mean1",
    "mean2",
    "estimate",
    "estimate_type",
    "estimate_ci_low",
    "estimate_ci_high",
    "statistic",
    "df",
    "effect",
    "effect_type",
    "ci_low",
    "ci_high",
    "pvalue",
    "fdr",
    "adjusted_for",
    "note",
]


def group_levels(values: pd.Series) -> list[str]:
    """Return the groups present in ``values``: in category order for a categorical, else sorted as text."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().astype(str))
        return [str(c) for c in values.cat.categories if str(c) in present]
    return sorted(values.dropna().astype(str).unique())


class StatsResult:
    """Result of a resistscore statistical analysis.

    Attributes
    ----------
    table
        Tidy :class:`pandas.DataFrame`, one row per signature (and contrast / term / response),
        with the fixed columns documented by the function that made it.
    params
        Parameters and design of the analysis (test, unit of replication, sample key, ...).
    kind
        Name of the function that produced the result (``"compare_groups"``, ``"associate"``, ...).
    """

    def __init__(self, kind: str, table: pd.DataFrame, params: dict[str, Any]):
        self.kind = kind
        self.table = table.reset_index(drop=True)
        self.params = dict(params)

    def __len__(self) -> int:
        return len(self.table)

    def significant(self, alpha: float = 0.05, column: str = "fdr") -> pd.DataFrame:
        """Rows whose ``column`` (default the BH FDR) is below ``alpha``."""
        return self.table[self.table[column] < alpha]

    def to_csv(self, path: str | os.PathLike[str], sep: str | None = None) -> None:
        """Write :attr:`table` atomically as text (tab-separated for ``.tsv``/``.txt``, comma otherwise).

        Text that a spreadsheet would run as a formula is neutralised; ``.gz`` compresses. An Excel name (``.xlsx``) is refused: use :meth:`to_excel`.
        """
        io.write_table(self.table, path, index=False, sep=sep)

    def to_excel(self, path: str | os.PathLike[str]) -> None:
        """Write :attr:`table` atomically as an Excel workbook (``.xlsx``; one sheet named after :attr:`kind`).

        Text that a spreadsheet would run as a formula is neutralised.
        """
        io.write_workbook({self.kind: self.table}, path, index=False)

    def _header(self) -> str:
        shown = {k: v for k, v in self.params.items() if not isinstance(v, (list, dict, tuple)) or len(v) < 6}
        return (
            f"{type(self).__name__}({self.kind}; " + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"
        )

    def __repr__(self) -> str:
        with pd.option_context("display.max_rows", 20, "display.width", 160):
            return f"{self._header()}\n{self.table!r}"

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self._header())}</b></p>" + self.table.to_html(
            index=False, max_rows=50, float_format=lambda v: f"{v:.4g}", na_rep="NA"
        )


class SurvivalResult(StatsResult):
    """Result of :func:`resistscore.tl.survival`; also holds Kaplan-Meier curves.

    Attributes
    ----------
    km
        Tidy Kaplan-Meier table: ``signature``, ``group`` (``"high"``/``"low"``), ``time``,
        ``n_at_risk``, ``n_events``, ``survival``, ``ci_low``, ``ci_high`` (one row per distinct time,
        starting at time 0 with survival 1).
    """

    def __init__(self, kind: str, table: pd.DataFrame, params: dict[str, Any], km: pd.DataFrame):
        super().__init__(kind, table, params)
        self.km = km.reset_index(drop=True)


class RocResult(StatsResult):
    """Result of :func:`resistscore.tl.roc`; also holds the ROC curves.

    Attributes
    ----------
    curves
        Tidy ROC table: ``signature``, ``threshold``, ``fpr``, ``tpr`` (from (0, 0) to (1, 1)).
    """

    def __init__(self, kind: str, table: pd.DataFrame, params: dict[str, Any], curves: pd.DataFrame):
        super().__init__(kind, table, params)
        self.curves = curves.reset_index(drop=True)


class AssociationResult(StatsResult):
    """Result of :func:`resistscore.tl.associate`; also flags censored responses per observation.

    Attributes
    ----------
    censoring
        Tidy table, one row per analysed sample and response: ``sample``, ``response``, ``value`` (as
        analysed: a value beyond a limit is set to it), ``censored`` (``"left"``: the true value is at
        most ``value``; ``"right"``: at least; ``""``: measured) and ``bound`` (the limit, or NaN), ready
        for a figure that marks censored points.
    """

    def __init__(self, kind: str, table: pd.DataFrame, params: dict[str, Any], censoring: pd.DataFrame):
        super().__init__(kind, table, params)
        self.censoring = censoring.reset_index(drop=True)
