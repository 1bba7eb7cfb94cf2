"""``rs.sig.diff``: the changes between two signature collections and the version bump each requires."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from resistscore.sig._model import Signature, SignatureSet, parse_version

__all__ = ["SignatureDiff", "diff"]

_RANK = {"none": 0, "patch": 1, "minor": 2, "major": 3}
_PROVENANCE = ("hgnc_id", "ensembl_gene_id", "evidence_source", "evidence", "confidence", "note")


def _bump_between(old: str, new: str) -> str:
    """Return the bump actually made from version ``old`` to ``new`` (``"none"`` if not increased)."""
    o, n = parse_version(old), parse_version(new)
    if n <= o:
        return "none"
    if n[0] > o[0]:
        return "major"
    if n[1] > o[1]:
        return "minor"
    return "patch"


class SignatureDiff:
    """Changes between two collections (see :func:`diff`).

    Attributes
    ----------
    table
        One row per change: ``signature_id``, ``change``, ``detail``, ``bump`` (``patch``, ``minor`` or
        ``major``).
    versions
        One row per signature present in both: ``signature_id``, ``old_version``, ``new_version``,
        ``required`` (bump), ``made`` (bump), ``ok``.
    bump
        The bump the collection version requires (``"none"`` if nothing changed).
    """

    def __init__(
        self, table: pd.DataFrame, versions: pd.DataFrame, bump: str, old_version: str, new_version: str
    ):
        self.table = table
        self.versions = versions
        self.bump = bump
        self.old_version = old_version
        self.new_version = new_version

    @property
    def ok(self) -> bool:
        """True when every signature version and the collection version were bumped enough."""
        made = _bump_between(self.old_version, self.new_version)
        return bool(self.versions["ok"].all()) and _RANK[made] >= _RANK[self.bump]

    def __repr__(self) -> str:
        head = (
            f"SignatureDiff {self.old_version} -> {self.new_version}: {len(self.table)} change(s), "
            f"requires a {self.bump} bump; versions {'ok' if self.ok else 'NOT bumped enough'}"
        )
        if self.table.empty:
            return head
        with pd.option_context("display.width", 160, "display.max_colwidth", 60):
            return head + "\n" + self.table.to_string(index=False)

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(repr(self).splitlines()[0])}</p>" + self.table.to_html(index=False)


def _compare(a: Signature, b: Signature, out: list[dict[str, Any]]) -> None:
    def add(change: str, detail: str, bump: str) -> None:
        out.append({"signature_id": b.id, "change": change, "detail": detail, "bump": bump})

    ga, gb = a.genes.set_index("symbol"), b.genes.set_index("symbol")
    removed = [g for g in ga.index if g not in gb.index]
    added = [g for g in gb.index if g not in ga.index]
    common = [g for g in gb.index if g in ga.index]
    if removed:
        add("genes removed", ", ".join(removed), "major")
    flipped = [g for g in common if ga.at[g, "direction"] != gb.at[g, "direction"]]
    if flipped:
        add("direction flipped", ", ".join(flipped), "major")
    for field in ("parent", "mechanism", "feature_type"):
        if getattr(a, field) != getattr(b, field):
            add(f"{field} changed", f"{getattr(a, field)} -> {getattr(b, field)}", "major")
    if added:
        add("genes added", ", ".join(added), "minor")
    reweighted = [f"{g} {ga.at[g, 'weight']:g}->{gb.at[g, 'weight']:g}" for g in common
                  if ga.at[g, "weight"] != gb.at[g, "weight"]]  # fmt: skip
    if reweighted:
        add("weights changed", ", ".join(reweighted), "minor")
    if a.min_coverage != b.min_coverage:
        add("min_coverage changed", f"{a.min_coverage:g} -> {b.min_coverage:g}", "minor")
    if set(a.drugs) != set(b.drugs):
        plus, minus = sorted(set(b.drugs) - set(a.drugs)), sorted(set(a.drugs) - set(b.drugs))
        detail = "; ".join(
            x for x in (f"+{', '.join(plus)}" if plus else "", f"-{', '.join(minus)}" if minus else "") if x
        )
        add("drugs changed", detail, "minor")
    for field in ("name", "description", "review_section", "references"):
        if getattr(a, field) != getattr(b, field):
            add(f"{field} edited", "", "patch")
    edited = [g for g in common if any(ga.at[g, c] != gb.at[g, c] for c in _PROVENANCE)]
    if edited:
        add("gene provenance edited", ", ".join(edited), "patch")


def diff(old: Any, new: Any) -> SignatureDiff:
    """List the changes between two signature collections and the version bump each requires.

    The rules are those of ``signatures/VERSIONING.md``: text and provenance edits need a patch
    bump; added genes, changed weights, coverage or drugs a minor bump; removed genes, flipped
    directions, renamed ids or a changed hierarchy a major bump.

    Parameters
    ----------
    old, new
        Anything :func:`load` reads (a folder, a :class:`SignatureSet`, ...); all feature types are compared.

    Returns
    -------
    SignatureDiff
        ``.table`` of changes, ``.versions`` (per-signature required vs made bump), ``.bump`` and ``.ok``.

    Examples
    --------
    >>> import resistscore as rs
    >>> old = rs.sig.load({"apoptosis": {"BCL2": 1.0, "BAX": -1.0}})
    >>> new = rs.sig.load({"apoptosis": {"BCL2": 1.0, "MCL1": 0.5}})
    >>> d = rs.sig.diff(old, new)
    >>> d.table[["change", "detail", "bump"]]
            change detail   bump
    0  genes removed    BAX  major
    1    genes added   MCL1  minor
    >>> d.bump
    'major'
    """
    from resistscore.sig._api import load

    a: SignatureSet = load(old, feature_type=None)
    b: SignatureSet = load(new, feature_type=None)
    rows: list[dict[str, Any]] = []
    for s in a:
        if s.id not in b:
            rows.append({"signature_id": s.id, "change": "signature removed", "detail": "", "bump": "major"})
    for s in b:
        if s.id not in a:
            rows.append({"signature_id": s.id, "change": "signature added", "detail": "", "bump": "minor"})
        else:
            _compare(a[s.id], s, rows)
    table = pd.DataFrame(rows, columns=["signature_id", "change", "detail", "bump"])
    vrows = []
    for s in b:
        if s.id not in a:
            continue
        need = max(
            (r["bump"] for r in rows if r["signature_id"] == s.id), key=_RANK.__getitem__, default="none"
        )
        made = _bump_between(a[s.id].version, s.version)
        vrows.append({"signature_id": s.id, "old_version": a[s.id].version, "new_version": s.version,
                      "required": need, "made": made, "ok": _RANK[made] >= _RANK[need]})  # fmt: skip
    versions = pd.DataFrame(
        vrows, columns=["signature_id", "old_version", "new_version", "required", "made", "ok"]
    )
    bump = max(table["bump"], key=_RANK.__getitem__, default="none")
    return SignatureDiff(table, versions, bump, a.version, b.version)
