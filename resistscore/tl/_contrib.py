"""Per-gene contributions: which genes drive a sample's score, in which direction, how far from typical.

The generic part lives here (the sample's values, ranks and z-scores); how a score breaks down into
terms that add up to it is the method's own rule (``MethodInfo.contributions``, in the method's module).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from resistscore._errors import ResistScoreError
from resistscore.tl._chunks import RowSource, row_source
from resistscore.tl._coverage import resolve_sets
from resistscore.tl.methods import GeneSetIndex, GeneTerms, get_method
from resistscore.tl.methods._kernels import as_csr_block, gather

__all__ = ["Context", "explain"]


@dataclass
class Context:
    """What explaining a score needs: the scored data, the signatures and the method's parameters."""

    source: RowSource
    net: pd.DataFrame
    sets: GeneSetIndex
    gene_mean: np.ndarray | None
    gene_var: np.ndarray | None
    params: dict
    layer: str | None = None  # an AnnData's layer that was scored
    use_raw: bool = False  # an AnnData's raw was scored

    @classmethod
    def from_anndata(cls, adata, uns: Mapping, coverage: pd.DataFrame) -> Context:
        """Return the context of a run stored in ``adata`` (its record ``uns``): the layer or raw that was scored."""
        net = pd.DataFrame({c: list(uns["network"][c]) for c in ("source", "target", "weight")})
        layer, use_raw = uns.get("layer") or None, bool(uns.get("use_raw", False))
        source = row_source(adata, layer, use_raw=use_raw)
        info = get_method(uns["method"])
        params = dict(uns["params"])
        if "var_names" in inspect.signature(info.fn).parameters:
            params["var_names"] = source.var_names
        sets = resolve_sets(net, source.var_names, coverage.index[coverage["reported"]].tolist())
        return cls(source, net, sets, None, None, params, layer, use_raw)


def explain(result, sample, signature: str) -> pd.DataFrame:
    """Per-gene contributions to the score of ``sample`` for ``signature`` (see :func:`resistscore.tl.contributions`)."""
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
    row = _row_of(src, sample)
    s = ctx.sets.names.index(signature)
    up, dn = ctx.sets.up_idx[s], ctx.sets.dn_idx[s]
    genes = np.concatenate([up, dn]).astype(np.int64)
    sign = np.concatenate([np.ones(len(up)), -np.ones(len(dn))])
    block = as_csr_block(src.rows(row, row + 1))
    terms = GeneTerms(
        row=block,
        genes=genes,
        sign=sign,
        weight=np.concatenate([ctx.sets.up_w[s], ctx.sets.dn_w[s]]),
        value=gather(block, genes, transform="value")[0],
        rank=gather(block, genes, transform="rank", ties="min")[0],
        set_size=np.where(sign > 0, len(up), len(dn)).astype(float),
        n_genes=src.n_vars,
        params=ctx.params,
    )
    mean, var = (ctx.gene_mean, ctx.gene_var) if ctx.gene_mean is not None else src.gene_stats()[:2]
    mean, sd = mean[genes], np.sqrt(var[genes])
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(sd > 0, (terms.value - mean) / sd, 0.0)
    rule = get_method(result.method).contributions
    contrib = rule(terms) if rule is not None else None
    kind = "additive" if contrib is not None else "signed_z"
    if contrib is None:
        contrib = sign * terms.weight * z
    out = pd.DataFrame(
        {
            "gene": src.var_names[genes].to_numpy(),
            "direction": np.where(sign > 0, "up", "down"),
            "weight": sign * terms.weight,
            "value": terms.value,
            "typical": mean,
            "z": z,
            "rank": terms.rank,
            "contribution": contrib,
            "contribution_kind": kind,
        }
    )
    order = np.argsort(-np.abs(out["contribution"].to_numpy()), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def _row_of(src: RowSource, sample) -> int:
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
    return int(row)
