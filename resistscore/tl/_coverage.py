"""Coverage of signatures by the genes of a data set, and their resolution into column indices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from resistscore._errors import LowCoverageWarning, warn
from resistscore.tl.methods._base import GeneSetIndex

__all__ = ["coverage_table", "resolve_sets"]


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
        A signature is reported when at least one of its genes and ``min_coverage`` of its weight are
        measured, and it does not hold every gene of the data (then there is nothing to compare it with).

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
    w = net["weight"].to_numpy(dtype=np.float64)
    absw = np.abs(w)
    codes, order = pd.factorize(net["source"], sort=False)
    k = len(order)
    n_genes = np.bincount(codes, minlength=k)
    n_up = np.bincount(codes, weights=(w > 0), minlength=k).astype(int)
    n_found = np.bincount(codes, weights=found, minlength=k).astype(int)
    tot = np.bincount(codes, weights=absw, minlength=k)
    cov = np.bincount(codes, weights=absw * found, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight_covered = np.round(cov / tot, 12)
    min_cov = min_coverage.reindex(pd.Index(order)).fillna(0.5).to_numpy(dtype=float)
    everything = n_found >= len(var_names)
    ok = (n_found > 0) & (weight_covered >= min_cov) & ~everything
    reasons = []
    for nf, rep, wc, mc in zip(n_found, ok, weight_covered, min_cov):
        if nf == 0:
            reasons.append("no gene of the signature is measured")
        elif nf >= len(var_names):
            reasons.append("the signature holds every measured gene: no other gene to compare it with")
        elif not rep:
            reasons.append(f"only {wc:.0%} of the signature's weight is measured (< min_coverage {mc:.0%})")
        else:
            reasons.append("")
    missing = [[] for _ in range(k)]
    for c, t in zip(codes[~found], net["target"].to_numpy()[~found]):
        missing[c].append(str(t))
    return pd.DataFrame(
        {
            "n_genes": n_genes.astype(int),
            "n_up": n_up,
            "n_down": n_genes.astype(int) - n_up,
            "n_found": n_found,
            "weight_covered": weight_covered,
            "min_coverage": min_cov,
            "reported": ok.astype(bool),
            "reason": reasons,
            "missing": [";".join(m) for m in missing],
        },
        index=pd.Index(np.asarray(order, dtype=object), name="signature"),
    )


def examples(reasons: pd.Series, n: int = 5) -> str:
    """Return ``"a (why), b (why) and 3 more"``: the first ``n`` items of ``reasons`` (index: item, value: reason)."""
    shown = ", ".join(f"{k} ({r})" for k, r in reasons.head(n).items())
    return shown + (f" and {len(reasons) - n} more" if len(reasons) > n else "")


def warn_low_coverage(cov: pd.DataFrame) -> None:
    """Emit one :class:`LowCoverageWarning` listing the signatures not reported."""
    bad = cov.loc[~cov["reported"], "reason"]
    if len(bad):
        warn(
            f"{len(bad)} signature(s) are not scored (NaN): {examples(bad)}. When too few of their genes are measured, "
            "check gene identifiers (rs.pp.harmonize_genes), or lower `min_coverage` knowingly; see result.coverage.",
            LowCoverageWarning,
        )


def resolve_sets(net: pd.DataFrame, var_names: pd.Index, names: list[str]) -> GeneSetIndex:
    """Resolve the signatures ``names`` of ``net`` against ``var_names`` (genes not found are dropped)."""
    col = pd.Index(var_names).get_indexer(net["target"])
    keep = (col >= 0) & net["source"].isin(names).to_numpy()
    src = net["source"].to_numpy()[keep]
    idx_all = col[keep].astype(np.int64)
    w_all = net["weight"].to_numpy(dtype=np.float64)[keep]
    by_name: dict = {}
    for i, name in enumerate(src):
        by_name.setdefault(name, []).append(i)
    up_idx, up_w, dn_idx, dn_w = [], [], [], []
    empty = np.zeros(0, dtype=np.int64)
    for name in names:
        rows = np.asarray(by_name.get(name, empty), dtype=np.int64)
        idx, w = idx_all[rows], w_all[rows]
        up, dn = w > 0, w < 0
        up_idx.append(idx[up])
        up_w.append(w[up])
        dn_idx.append(idx[dn])
        dn_w.append(-w[dn])
    return GeneSetIndex(tuple(names), tuple(up_idx), tuple(up_w), tuple(dn_idx), tuple(dn_w), len(var_names))
