"""Shared genes between signatures: the pairwise overlap table and the exclusive view of the mechanisms.

The mechanism signatures overlap by design (ABCB1 is an efflux pump, a stem-cell marker, an amplified gene,
a methylated gene and a miRNA target), so their scores correlate by construction. :func:`overlap` measures
that for every pair of signatures; :func:`exclusive` derives a view of the top-level mechanisms in which
every gene is scored in exactly one mechanism (rule: :func:`exclusive_assignment`), for comparing
mechanisms with each other without double counting. ``signatures/README.md`` (Shared genes) says which
view to use when.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from resistscore._errors import ResistScoreWarning, SignatureError, warn
from resistscore.sig._model import Signature, SignatureSet

__all__ = ["EXCLUSIVE_PRECEDENCE", "exclusive", "exclusive_assignment", "overlap"]

#: Tie-break order of the exclusive view: a gene the collection weights equally in several top-level
#: mechanisms is scored in the first of them in this list. Mechanisms that act on the drug or its
#: lesion come first; mechanisms that explain *why* such a gene changes (amplification, methylation,
#: miRNAs) or describe the cell's context come after them. Mechanisms not listed follow in collection order.
EXCLUSIVE_PRECEDENCE: tuple[str, ...] = (
    "efflux_abc",
    "reduced_uptake",
    "drug_inactivation",
    "drug_metabolism",
    "drug_target",
    "dna_repair",
    "survival_signalling",
    "apoptosis",
    "gene_amplification",
    "epigenetic",
    "microenvironment",
    "heterogeneity_extrinsic",
    "cancer_stem_cells",
    "mirna_targets",
)

_EXCLUSIVE_RULE = (
    "each gene shared by several top-level mechanisms is scored only in the mechanism that gives it the "
    "largest weight; ties go to the mechanism that comes first in rs.sig.EXCLUSIVE_PRECEDENCE (mechanisms "
    "acting on the drug or its lesion before those explaining why a gene changes), then collection order"
)

_OVERLAP_COLUMNS = [
    "signature_a",
    "signature_b",
    "mechanism_a",
    "mechanism_b",
    "relation",
    "n_a",
    "n_b",
    "n_shared",
    "jaccard",
    "weight_share_a",
    "weight_share_b",
    "n_opposite",
    "shared_genes",
]


def _as_set(signatures: Any) -> SignatureSet:
    from resistscore.sig._api import load

    if signatures is None:
        return load()
    if isinstance(signatures, SignatureSet):
        return signatures
    return load(signatures, feature_type=None)


def _relation(a: Signature, b: Signature) -> str:
    if a.parent == b.id or b.parent == a.id:
        return "parent-child"
    if a.mechanism == b.mechanism:
        return "same mechanism"
    return "different mechanisms"


def overlap(signatures: Any = None) -> pd.DataFrame:
    """Return the shared genes of every pair of signatures: counts, Jaccard index and share of weight.

    Parameters
    ----------
    signatures
        A :class:`SignatureSet` or anything :func:`load` reads. Default: the shipped gene-level
        mechanism signatures (``rs.sig.load()``); ``rs.sig.load(confounders=True)`` adds the confounder
        signatures. Signatures of different feature types (genes, miRNAs) are compared only with their own kind.

    Returns
    -------
    pandas.DataFrame
        One row per unordered pair (``signature_a`` before ``signature_b`` in collection order), every pair
        included, zero overlaps too. Columns: ``signature_a``, ``signature_b``, ``mechanism_a``,
        ``mechanism_b``, ``relation`` (``parent-child``, ``same mechanism`` or ``different mechanisms``),
        ``n_a``, ``n_b`` (genes), ``n_shared``, ``jaccard`` (shared / union), ``weight_share_a``
        (share of ``signature_a``'s total absolute weight carried by the shared genes), ``weight_share_b``,
        ``n_opposite`` (shared genes with opposite directions) and ``shared_genes`` (comma-separated,
        in ``signature_a``'s order).

    Examples
    --------
    >>> import resistscore as rs
    >>> sigs = rs.sig.load({"efflux": {"ABCB1": 1.0, "ABCG2": 0.5}, "stem": {"ABCG2": 1.0, "CD44": 1.0}})
    >>> rs.sig.overlap(sigs)[
    ...     ["signature_a", "signature_b", "n_shared", "jaccard", "weight_share_a", "weight_share_b"]
    ... ]
      signature_a signature_b  n_shared   jaccard  weight_share_a  weight_share_b
    0      efflux        stem         1  0.333333        0.333333             0.5
    """
    sigs = _as_set(signatures)
    rows = []
    # each signature once as plain Python and numpy objects: the pairs grow with the square of the signatures
    genes = {s.id: s.weights.index.tolist() for s in sigs}
    position = {sid: {g: i for i, g in enumerate(gs)} for sid, gs in genes.items()}
    values = {s.id: s.weights.to_numpy(dtype=float) for s in sigs}
    for a, b in combinations(list(sigs), 2):
        if a.feature_type != b.feature_type:
            continue
        pos_a, pos_b = position[a.id], position[b.id]
        shared = [g for g in genes[a.id] if g in pos_b]  # in signature_a's order
        union = len(pos_a.keys() | pos_b.keys())
        wa = values[a.id][[pos_a[g] for g in shared]]
        wb = values[b.id][[pos_b[g] for g in shared]]
        opposite = int((np.sign(wa) != np.sign(wb)).sum()) if shared else 0
        rows.append(
            {
                "signature_a": a.id,
                "signature_b": b.id,
                "mechanism_a": a.mechanism,
                "mechanism_b": b.mechanism,
                "relation": _relation(a, b),
                "n_a": len(genes[a.id]),
                "n_b": len(genes[b.id]),
                "n_shared": len(shared),
                "jaccard": len(shared) / union if union else 0.0,
                "weight_share_a": _share(values[a.id], wa),
                "weight_share_b": _share(values[b.id], wb),
                "n_opposite": opposite,
                "shared_genes": ", ".join(shared),
            }
        )
    out = pd.DataFrame(rows, columns=_OVERLAP_COLUMNS)
    for col in ("n_a", "n_b", "n_shared", "n_opposite"):
        out[col] = out[col].astype(int)
    for col in ("jaccard", "weight_share_a", "weight_share_b"):
        out[col] = out[col].astype(float)
    return out


def _share(weights: np.ndarray, shared: np.ndarray) -> float:
    """Share of the total absolute ``weights`` of a signature carried by the ``shared`` genes' weights."""
    total = float(np.abs(weights).sum())
    return float(np.abs(shared).sum()) / total if total and shared.size else 0.0


def _candidates(sigs: SignatureSet) -> list[Signature]:
    """Top-level gene signatures that take part in the exclusive assignment (not confounders)."""
    return [s for s in sigs if s.parent is None and s.feature_type == "gene" and s.mechanism != "confounder"]


def _order(cands: list[Signature], precedence: Sequence[str] | None) -> dict[str, int]:
    if isinstance(precedence, str):
        raise SignatureError(
            "precedence must be a list of mechanism ids, not one string; e.g. ['efflux_abc', ...]."
        )
    prec = list(EXCLUSIVE_PRECEDENCE if precedence is None else precedence)
    ids = [s.id for s in cands]
    unknown = [p for p in prec if p not in ids] if precedence is not None else []
    if unknown:
        raise SignatureError(
            f"precedence names {', '.join(map(repr, unknown))}, which are not top-level gene signatures of "
            f"this collection ({', '.join(ids)}). List only those ids."
        )
    ranked = [p for p in prec if p in ids] + [i for i in ids if i not in prec]
    return {sid: r for r, sid in enumerate(ranked)}


def exclusive_assignment(signatures: Any = None, *, precedence: Sequence[str] | None = None) -> pd.DataFrame:
    """Return, for every gene of the top-level mechanisms, the one mechanism that scores it in the exclusive view.

    The rule: a gene in one top-level mechanism stays there. A gene in several is scored only in the
    mechanism that gives it the largest weight (the collection's strongest claim for it); a tie goes to
    the mechanism that comes first in ``precedence`` (default :data:`EXCLUSIVE_PRECEDENCE`: mechanisms
    that act on the drug or its lesion before those that explain why a gene changes, such as
    amplification, methylation or miRNAs), then to collection order. Sub-signatures, miRNA-level
    signatures and confounder signatures do not take part. The assignment is computed over all
    top-level mechanisms of the collection, so a gene's mechanism never depends on which ones you select.

    Parameters
    ----------
    signatures
        A :class:`SignatureSet` or anything :func:`load` reads (default: the shipped collection).
    precedence
        Tie-break order of mechanism ids (others follow in collection order).

    Returns
    -------
    pandas.DataFrame
        One row per gene (in order of first appearance): ``symbol``, ``mechanism`` (where it is scored),
        ``direction``, ``weight``, ``n_mechanisms`` (how many top-level mechanisms list it), ``also_in``
        (the others, ``id:weight``, comma-separated) and ``reason`` (``only mechanism``,
        ``largest weight`` or ``tie: precedence``).

    Examples
    --------
    >>> import resistscore as rs
    >>> sigs = rs.sig.load({"efflux_abc": {"ABCB1": 1.0}, "cancer_stem_cells": {"ABCB1": 0.5, "CD44": 1.0}})
    >>> rs.sig.exclusive_assignment(sigs)[["symbol", "mechanism", "also_in", "reason"]]
      symbol          mechanism                also_in          reason
    0  ABCB1         efflux_abc  cancer_stem_cells:0.5  largest weight
    1   CD44  cancer_stem_cells                         only mechanism
    """
    sigs = _as_set(signatures)
    cands = _candidates(sigs)
    rank = _order(cands, precedence)
    entries: dict[str, list[tuple[str, float, str]]] = {}
    for s in cands:
        for sym, w, d in zip(s.genes["symbol"], s.genes["weight"], s.genes["direction"]):
            entries.setdefault(sym, []).append((s.id, float(w), d))
    rows = []
    for sym, hits in entries.items():
        best = sorted(hits, key=lambda h: (-h[1], rank[h[0]]))
        winner = best[0]
        if len(hits) == 1:
            reason = "only mechanism"
        elif best[1][1] < winner[1]:
            reason = "largest weight"
        else:
            reason = "tie: precedence"
        others = [f"{h[0]}:{h[1]:g}" for h in hits if h[0] != winner[0]]
        rows.append({"symbol": sym, "mechanism": winner[0], "direction": winner[2], "weight": winner[1],
                     "n_mechanisms": len(hits), "also_in": ", ".join(others), "reason": reason})  # fmt: skip
    cols = ["symbol", "mechanism", "direction", "weight", "n_mechanisms", "also_in", "reason"]
    return pd.DataFrame(rows, columns=cols)


def exclusive(signatures: Any = None, *, precedence: Sequence[str] | None = None) -> SignatureSet:
    """Return the exclusive view of the top-level mechanisms: every gene scored in exactly one mechanism.

    Use it to compare mechanisms with each other (which mechanism is highest in a sample, correlations
    between mechanisms), where shared genes would otherwise make mechanisms agree by construction. Use the
    default, overlapping signatures to score each mechanism as the literature defines it. Also available
    as ``rs.sig.load(exclusive=True)``.

    Parameters
    ----------
    signatures
        A :class:`SignatureSet` or anything :func:`load` reads (default: the shipped collection).
    precedence
        Tie-break order of mechanism ids (see :func:`exclusive_assignment`).

    Returns
    -------
    SignatureSet
        The top-level mechanisms (same ids, versions and minimal coverage) with the genes the rule assigns
        to them; sub-signatures are left out; miRNA-level and confounder signatures pass through unchanged.
        A mechanism left without genes is dropped with a warning. ``metadata["view"]`` is ``"exclusive"``
        and ``metadata["exclusive_rule"]`` states the rule.

    Examples
    --------
    >>> import resistscore as rs
    >>> sigs = rs.sig.load({"efflux_abc": {"ABCB1": 1.0}, "cancer_stem_cells": {"ABCB1": 0.5, "CD44": 1.0}})
    >>> view = rs.sig.exclusive(sigs)
    >>> view["efflux_abc"].symbols, view["cancer_stem_cells"].symbols
    (['ABCB1'], ['CD44'])
    """
    sigs = _as_set(signatures)
    assignment = exclusive_assignment(sigs, precedence=precedence)
    home = dict(zip(assignment["symbol"], assignment["mechanism"]))
    cand_ids = {s.id for s in _candidates(sigs)}
    out: list[Signature] = []
    dropped = []
    for s in sigs:
        if s.id not in cand_ids:
            if s.parent is None:  # miRNA-level and confounder signatures pass through; sub-signatures do not
                out.append(s)
            continue
        keep = s.genes["symbol"].map(home).eq(s.id).to_numpy()
        moved = [f"{g} -> {home[g]}" for g in s.genes.loc[~keep, "symbol"]]
        if not keep.any():
            dropped.append(s.id)
            continue
        note = (
            f" Exclusive view: {len(moved)} shared gene(s) scored in another mechanism ({'; '.join(moved)})."
            if moved
            else " Exclusive view: no gene shared with another mechanism."
        )
        out.append(
            s.replace(
                genes=s.genes.loc[keep].reset_index(drop=True),
                name=f"{s.name} [exclusive]".strip(),
                description=(s.description + note).strip(),
            )  # fmt: skip
        )
    if dropped:
        warn(
            f"exclusive view: {', '.join(dropped)} keep(s) no gene of its own (every gene is scored in another "
            "mechanism) and is left out. Score it with the default, overlapping signatures instead.",
            ResistScoreWarning,
        )
    meta = dict(sigs.metadata)
    meta["view"] = "exclusive"
    meta["exclusive_rule"] = _EXCLUSIVE_RULE
    return SignatureSet(out, collection=sigs.collection, version=sigs.version, metadata=meta)
