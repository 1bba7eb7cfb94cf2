"""Coverage of signatures by the genes of a data set, and their resolution into column indices."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from resistscore._errors import LowCoverageWarning
from resistscore.tl.methods._registry import GeneSetIndex

__all__ = ["coverage_table", "resolve_sets"]

COVERAGE_COLUMNS = [
    "n_genes",
    "n_up",
    "n_down",
    "n_found",
    "weight_covered",
    "min_coverage",
    "reported",
    "reason",
    "missing",
]


def coverage_table(net: pd.DataFrame, var_names: pd.Index, min_coverage: pd.Series) -> pd.DataFrame:
    """One row per signature: genes found and missing, share of absolute weight measured, reported or not.

    Parameters
    ----------
    net
        Long table ``source, target, weight`` (signed weights).
    var_names
        Gene names of the data.
    min_coverage
        Minimal share of the total absolute weight that must be measured, by signature.

    Returns
    -------
    pandas.DataFrame
        Indexed by signature (in the order of first appearance in ``net``), columns
        ``n_genes, n_up, n_down, n_found, weight_covered, min_coverage, reported, reason, missing``.

    Examples
    --------
    >>> import pandas as pd
    >>> net = pd.DataFrame(
    ...     {"source": ["a", "a", "b"], "target": ["G1", "G2", "G3"], "weight": [1.0, -3.0, 1.0]}
    ... )
    >>> cov = coverage_table(net, pd.Index(["G1", "G3"]), pd.Series({"a": 0.5, "b": 0.5}))
    >>> cov[["n_found", "weight_covered", "reported"]]
               n_found  weight_covered  reported
    signature
    a                1            0.25     False
    b                1            1.00      True
    """
    found = net["target"].isin(var_names).to_numpy()
    absw = net["weight"].abs().to_numpy()
    src = net["source"].to_numpy()
    order = pd.unique(src)
    df = pd.DataFrame({"source": src, "found": found, "absw": absw, "up": net["weight"].to_numpy() > 0})
    g = df.groupby("source", sort=False)
    out = pd.DataFrame(index=pd.Index(order, name="signature"))
    out["n_genes"] = g.size().reindex(order).astype(int)
    out["n_up"] = g["up"].sum().reindex(order).astype(int)
    out["n_down"] = out["n_genes"] - out["n_up"]
    out["n_found"] = g["found"].sum().reindex(order).astype(int)
    tot = g["absw"].sum().reindex(order)
    cov = df.assign(fw=df["absw"] * df["found"]).groupby("source", sort=False)["fw"].sum().reindex(order)
    out["weight_covered"] = (cov / tot).astype(float).round(12)
    out["min_coverage"] = min_coverage.reindex(order).fillna(0.5).astype(float).to_numpy()
    ok = (out["n_found"] > 0) & (out["weight_covered"] >= out["min_coverage"])
    out["reported"] = ok.astype(bool)
    reasons = []
    for _sig, row in out.iterrows():
        if row["n_found"] == 0:
            reasons.append("no gene of the signature is measured")
        elif not row["reported"]:
            reasons.append(
                f"only {row['weight_covered']:.0%} of the signature's weight is measured "
                f"(< min_coverage {row['min_coverage']:.0%})"
            )
        else:
            reasons.append("")
    out["reason"] = reasons
    missing = (
        df.loc[~df["found"]].assign(t=net["target"].to_numpy()[~found]).groupby("source", sort=False)["t"]
    )
    out["missing"] = missing.agg(lambda s: ";".join(map(str, s))).reindex(order).fillna("").to_numpy()
    return out


def warn_low_coverage(cov: pd.DataFrame) -> None:
    """Emit one :class:`LowCoverageWarning` listing the signatures not reported."""
    bad = cov.index[~cov["reported"]]
    if len(bad):
        shown = ", ".join(f"{s} ({cov.at[s, 'reason']})" for s in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        warnings.warn(
            f"{len(bad)} signature(s) are not scored (NaN) because too few of their genes are measured: {shown}{more}. "
            "Check gene identifiers (rs.pp.harmonize_genes), or lower `min_coverage` knowingly; see result.coverage.",
            LowCoverageWarning,
            stacklevel=3,
        )


def resolve_sets(net: pd.DataFrame, var_names: pd.Index, names: list[str]) -> GeneSetIndex:
    """Resolve the signatures ``names`` of ``net`` against ``var_names`` (genes not found are dropped)."""
    pos = pd.Series(np.arange(len(var_names)), index=var_names)
    sub = net[net["target"].isin(var_names) & net["source"].isin(names)]
    groups = {name: part for name, part in sub.groupby("source", sort=False)}  # noqa: C416
    up_idx, up_w, dn_idx, dn_w = [], [], [], []
    for name in names:
        part = groups.get(name)
        if part is None:
            part = sub.iloc[:0]
        idx = pos.reindex(part["target"]).to_numpy(dtype=np.int64)
        w = part["weight"].to_numpy(dtype=np.float64)
        up, dn = w > 0, w < 0
        up_idx.append(idx[up])
        up_w.append(w[up])
        dn_idx.append(idx[dn])
        dn_w.append(-w[dn])
    return GeneSetIndex(tuple(names), tuple(up_idx), tuple(up_w), tuple(dn_idx), tuple(dn_w), len(var_names))
