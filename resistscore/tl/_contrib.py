"""Per-gene contributions: which genes drive a sample's score, in which direction, how far from typical."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from resistscore._errors import ResistScoreError
from resistscore.tl.methods._kernels import as_csr_block, gather

__all__ = ["contributions"]


def contributions(result, sample, signature: str) -> pd.DataFrame:
    """Per-gene contributions to the score of one sample for one signature.

    Parameters
    ----------
    result
        A :class:`~resistscore.tl.ScoreResult` (from :func:`resistscore.tl.score` on a DataFrame,
        matrix or file), or an AnnData scored in place by :func:`resistscore.tl.score`.
    sample
        Sample (row) name.
    signature
        Signature id.

    Returns
    -------
    pandas.DataFrame
        One row per measured gene of the signature, sorted by decreasing ``|contribution|``, with
        columns ``gene``, ``direction`` (``up``/``down``), ``weight`` (signed), ``value`` (expression),
        ``typical`` (mean of the gene over the samples, or over up to 50,000 cells), ``z``
        (``(value - typical) / sd``), ``rank`` (rank of the gene within the sample, 1 = lowest
        expression; ties get the minimum), ``contribution`` and ``contribution_kind``.

        For singscore, UCell (before clipping at 0), AUCell, wmean and ulm the contributions add up
        exactly to the score (``contribution_kind = "additive"``): e.g. for singscore, a gene ``g`` of
        an up-set of ``k`` genes among ``n`` contributes ``((r_g - (k + 1) / 2) / (n - k) - 1 / 2) / k``.
        For the other methods the contribution is the signed, weighted z-score (``"signed_z"``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> df = pd.DataFrame([[1.0, 2, 3, 4, 5], [5.0, 4, 3, 2, 1]], index=["s1", "s2"], columns=list("ABCDE"))
    >>> res = rs.tl.score(df, {"sig": {"E": 1.0, "A": -1.0}}, method="singscore", pvalues=False)
    >>> tbl = res.contributions("s1", "sig")
    >>> tbl[["gene", "direction", "rank", "contribution"]]
      gene direction  rank  contribution
    0    E        up   5.0           0.5
    1    A      down   1.0           0.5
    >>> float(tbl["contribution"].sum()) == float(res.scores.loc["s1", "sig"])
    True
    """
    if not hasattr(result, "_context"):
        from resistscore.tl._score import result_from_anndata

        result = result_from_anndata(result)
    ctx = result._context
    if ctx is None:
        raise ResistScoreError(
            "this result holds no data to explain; score again with rs.tl.score to get contributions."
        )
    src = ctx.source
    if signature not in result.scores.columns:
        raise ResistScoreError(
            f"unknown signature {signature!r}; choose one of {list(result.scores.columns)[:10]}."
        )
    if signature not in ctx.sets.names:
        reason = result.coverage.at[signature, "reason"]
        raise ResistScoreError(f"signature {signature!r} was not scored ({reason}); it has no contributions.")
    try:
        row = src.obs_names.get_loc(sample)
    except KeyError:
        raise ResistScoreError(
            f"unknown sample {sample!r}; choose one of the scored samples (result.scores.index)."
        ) from None
    if not isinstance(row, (int, np.integer)):
        raise ResistScoreError(
            f"sample name {sample!r} is not unique; make the sample names unique before scoring."
        )
    s = ctx.sets.names.index(signature)
    up, dn = ctx.sets.up_idx[s], ctx.sets.dn_idx[s]
    genes = np.concatenate([up, dn]).astype(np.int64)
    sign = np.concatenate([np.ones(len(up)), -np.ones(len(dn))])
    absw = np.concatenate([ctx.sets.up_w[s], ctx.sets.dn_w[s]])
    block = as_csr_block(src.rows(row, row + 1))
    value = gather(block, genes, transform="value")[0]
    rank = gather(block, genes, transform="rank", ties="min")[0]
    if ctx.gene_mean is not None:
        mean, var = ctx.gene_mean[genes], ctx.gene_var[genes]
    else:
        mean, var, _ = src.gene_stats()
        mean, var = mean[genes], var[genes]
    sd = np.sqrt(var)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(sd > 0, (value - mean) / sd, 0.0)
    n = src.n_vars
    method = result.method
    kind = "additive"
    k_up, k_dn = len(up), len(dn)
    ksz = np.where(sign > 0, k_up, k_dn).astype(float)
    if method == "singscore" and ctx.params.get("stable_genes") is None:
        c = ((rank - (ksz + 1) / 2) / (n - ksz) - 0.5) / ksz
        contrib = np.where(sign > 0, c, -c)
    elif method == "ucell":
        m = float(min(ctx.params.get("max_rank", 1500), n))
        r = gather(block, genes, transform="rank_clip", descending=True, ties="average", param=m)[0]
        kk = ksz * (ksz + 1) / 2
        c = 1.0 / ksz - (r - (ksz + 1) / 2) / (ksz * m - kk)
        contrib = np.where(sign > 0, c, -float(ctx.params.get("w_neg", 1.0)) * c)
    elif method == "aucell":
        import math

        t = ctx.params.get("auc_max_rank") or max(2, math.ceil(0.05 * n))
        t = min(int(t), n)
        ties = ctx.params.get("ties", "expected")
        f = gather(block, genes, transform="rank_recovery", descending=True, ties=ties, param=float(t))[0]
        mk = np.minimum(ksz, t - 1)
        contrib = sign * f / (mk * t - mk * (mk + 1) / 2)
    elif method == "wmean":
        contrib = sign * absw * value / absw.sum()
    elif method == "ulm":
        X = block
        sx = float(X.sum())
        sxx = float(X.multiply(X).sum()) if sp.issparse(X) else float((X * X).sum())
        w = sign * absw
        sw, sww = w.sum(), (w * w).sum()
        vx, vw = sxx - sx * sx / n, sww - sw * sw / n
        cxw = float((w * value).sum()) - sx * sw / n
        r = np.clip(cxw / np.sqrt(vx * vw), -1, 1)
        factor = np.sqrt((n - 2) / ((1 - r) * (1 + r))) / np.sqrt(vx * vw)
        contrib = w * (value - sx / n) * factor
    else:
        kind = "signed_z"
        contrib = sign * absw * z
    out = pd.DataFrame(
        {
            "gene": src.var_names[genes].to_numpy(),
            "direction": np.where(sign > 0, "up", "down"),
            "weight": sign * absw,
            "value": value,
            "typical": mean,
            "z": z,
            "rank": rank,
            "contribution": contrib,
            "contribution_kind": kind,
        }
    )
    order = np.argsort(-np.abs(out["contribution"].to_numpy()), kind="stable")
    return out.iloc[order].reset_index(drop=True)
