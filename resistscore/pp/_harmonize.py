"""Map gene identifiers to current HGNC symbols, offline, with a report of every step.

Resolution rules (applied to each distinct identifier, first match wins):

1. ``user``: an explicit ``mapping={input_id: symbol}`` given by the caller.
2. ``ensembl``: ``ENSG...`` ids (a version suffix such as ``.15`` is dropped) via HGNC's Ensembl column.
3. ``entrez``: all-digit ids via HGNC's NCBI Gene column.
4. ``exact``: the id is a current approved HGNC symbol.
5. ``case``: the id equals an approved symbol up to letter case (``abcb1`` -> ``ABCB1``, ``ar`` -> ``AR``).
   An approved symbol (ignoring case) takes precedence over every previous symbol and alias, as HGNC's
   own search does: ``pgp`` is PGP even though PGP is also an alias of PGPEP1 (noted in the report).
6. ``excel_date``: spreadsheet-mangled symbols (``1-Mar``, ``7-Sep``, ``Sep-07``, ``1-Dec``, or a date
   cell read back as ``2024-09-07``) are turned
   back into their old symbols (``MARCH1``/``MARC1``, ``SEPT7``, ``DEC1``), which are then resolved by
   rules 4, 7 and 8. ``1-Mar`` and ``2-Mar`` come from both MARCH1/2 and MARC1/2, so they are ambiguous.
7. ``previous``: the id is a previous symbol of exactly one approved gene, or a withdrawn symbol that
   HGNC points to exactly one approved gene (``MDR1`` -> ``ABCB1``, ``ABCB2`` -> ``TAP1``). Previous
   symbols were once approved symbols, so they take precedence over informal aliases; when the id is
   also an alias of other genes, those are listed in the report's ``candidates``/``note`` columns.
8. ``alias``: the id is an alias symbol of exactly one approved gene (``BCRP`` -> ``ABCG2``).
   Previous and alias matching are each exact first, then case-insensitive. The precedence is
   approved symbol (ignoring case) > previous symbol > alias; only a tie within one level is ambiguous.
9. ``ambiguous``: several approved genes claim the id at the same level: left unmapped, with an
   :class:`~resistscore.AmbiguousGeneWarning`, unless the caller resolves it with ``mapping=``.
10. ``unmapped``: nothing matched.

Identifiers that stay unmapped (ambiguous, unknown, withdrawn without successor) are kept in the
harmonised matrix under their own name by default (``drop_unmapped=False``): they are measured genes,
so they stay in every within-sample ranking and only match no signature. Harmonising therefore changes
a rank-based score only through the genes it maps into signatures.

Several identifiers mapped to the same gene (probe sets, or an alias beside its current symbol) are
collapsed by ``probe_collapse``; the default ``"mean"`` averages them within each sample (limma's
``avereps``), so a sample's values never depend on which other samples are in the file. The
cohort-level ``"max_mean"`` (WGCNA ``collapseRows`` "MaxMean": the identifier with the highest mean
over all samples) is available by name; the rule used is recorded in the report and ``adata.uns``.

Mouse data (``species="mouse"``) are first resolved to MGI genes (symbol, synonym or ``ENSMUSG`` id)
and then to their human orthologs listed by HGNC (step ``ortholog``); a mouse gene with several human
orthologs is ambiguous. Probe sets (step ``probe``) are mapped through an annotation column
(probe -> symbol or Entrez id) and then resolved as above.
"""

from __future__ import annotations

import copy as copy_module
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from resistscore import get
from resistscore._errors import AmbiguousGeneWarning, GeneIdentifierError, InputFormatError
from resistscore._errors import warn as warn_user  # `warn` is an argument of harmonize_genes
from resistscore._gene_tables import DIGITS as _DIGITS
from resistscore._gene_tables import ENSG as _ENSG
from resistscore._gene_tables import ENSMUSG as _ENSMUSG
from resistscore._gene_tables import MOUSE_SYMBOL as _MOUSE_SYMBOL
from resistscore._gene_tables import PROBE as _PROBE
from resistscore._gene_tables import HgncIndex as _Index
from resistscore._gene_tables import MouseIndex as _MouseIndex
from resistscore._gene_tables import hgnc_index as _index
from resistscore._gene_tables import mouse_index as _mouse_index
from resistscore._validate import check_choice

__all__ = [
    "COHORT_LEVEL_RULES",
    "COLLAPSE_RULES",
    "DEFAULT_COLLAPSE",
    "GeneMappingReport",
    "harmonize_genes",
    "map_genes",
]

ID_TYPES = ("auto", "symbol", "ensembl", "entrez", "probe")
SPECIES = ("auto", "human", "mouse")
COLLAPSE_RULES = {
    "mean": "average, within each sample, the input identifiers mapped to the same gene (limma avereps; single-sample)",
    "max_mean": "keep the input identifier with the highest mean expression over all samples of the file (WGCNA collapseRows MaxMean; cohort-level: a sample's values depend on the other samples)",
    "sum": "sum, within each sample, the input identifiers mapped to the same gene (for raw counts; single-sample)",
    "first": "keep the first input identifier in file order (single-sample)",
}
#: collapse rules whose result for a sample depends on the other samples of the file
COHORT_LEVEL_RULES = frozenset({"max_mean"})
DEFAULT_COLLAPSE = "mean"
STEPS = (
    "user",
    "exact",
    "case",
    "alias",
    "previous",
    "excel_date",
    "ensembl",
    "entrez",
    "probe",
    "ortholog",
    "ambiguous",
    "unmapped",
)

_MONTHS = {
    "jan": ("JAN",),
    "feb": ("FEB",),
    "mar": ("MARCH", "MARC"),
    "apr": ("APR",),
    "may": ("MAY",),
    "jun": ("JUN",),
    "jul": ("JUL",),
    "aug": ("AUG",),
    "sep": ("SEPT", "SEP"),
    "oct": ("OCT",),
    "nov": ("NOV",),
    "dec": ("DEC",),
}
_DATE_D_MON = re.compile(r"^(\d{1,2})[-/ ]([A-Za-z]{3})[A-Za-z]*$")
_DATE_MON_D = re.compile(r"^([A-Za-z]{3})[A-Za-z]*[-/ ](\d{1,2})$")
# an Excel date cell read back as a date: 2024-03-01 or 2024-03-01 00:00:00 (the year is Excel's guess)
_DATE_ISO = re.compile(r"^\d{4}-(\d{2})-(\d{2})(?:[ T]00:00:00)?$")
_MONTH_ABBR = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


# --------------------------------------------------------------------------------------------------
# resolution of one identifier


@dataclass
class _Hit:
    symbol: str | None
    step: str
    candidates: tuple[str, ...] = ()
    note: str = ""


def _classify(x: str) -> str:
    if _ENSG.match(x) or _ENSMUSG.match(x):
        return "ensembl"
    if _DIGITS.match(x):
        return "entrez"
    if _PROBE.match(x):
        return "probe"
    return "symbol"


def _plain_symbol(x: str) -> bool:
    """Return True if :func:`_classify` surely gives ``"symbol"`` (cheaper than its regular expressions).

    Ensembl ids start with ``ENS``, Entrez ids and most probe ids with a digit, the other probe ids
    contain ``_`` or start with ``AFFX-``.
    """
    return "_" not in x and not x[:1].isdigit() and x[:3].upper() != "ENS" and x[:5].upper() != "AFFX-"


def _resolve_symbol(x: str, idx: _Index, *, allow_excel: bool = True) -> _Hit:
    """Approved symbol (exact, then ignoring case) > previous symbol > alias; a tie within a level is ambiguous."""
    if x in idx.hgnc_id:
        other = sorted(idx.alias.get(x, frozenset()) | idx.prev.get(x, frozenset()) - {x})
        note = f"also an alias/previous symbol of {', '.join(other)}" if other else ""
        return _Hit(x, "exact", (x,), note)
    up = x.upper()
    if up in idx.upper:
        sym = idx.upper[up]
        others = sorted((idx.alias_upper.get(up, frozenset()) | idx.prev_upper.get(up, frozenset())) - {sym})
        note = f"case corrected from {x!r}"
        if others:
            note += (
                f"; also an alias/previous symbol of {', '.join(others)} (approved symbols take precedence)"
            )
        return _Hit(sym, "case", (sym,), note)
    if allow_excel:
        m = _DATE_D_MON.match(x) or _DATE_MON_D.match(x)
        if m:
            return _resolve_excel(x, m.groups(), idx)
        m = _DATE_ISO.match(x)
        if m and 1 <= int(m.group(1)) <= 12:
            return _resolve_excel(x, (m.group(2), _MONTH_ABBR[int(m.group(1)) - 1]), idx)
    prev, prev_note = idx.prev.get(x, frozenset()) | idx.withdrawn.get(x, frozenset()), ""
    if not prev:
        prev, prev_note = idx.prev_upper.get(up, frozenset()), "matched ignoring case"
    alias, alias_note = idx.alias.get(x, frozenset()), ""
    if not alias:
        alias, alias_note = idx.alias_upper.get(up, frozenset()), "matched ignoring case"
    if len(prev) == 1:
        (sym,) = prev
        others = sorted(alias - prev)
        extra = f"also an alias of {', '.join(others)} (previous symbols take precedence)" if others else ""
        return _Hit(sym, "previous", tuple(sorted(prev | alias)), "; ".join(filter(None, [prev_note, extra])))
    if len(prev) > 1:
        return _Hit(None, "ambiguous", tuple(sorted(prev)), "previous symbol of several genes")
    if len(alias) == 1:
        (sym,) = alias
        return _Hit(sym, "alias", (sym,), alias_note)
    if len(alias) > 1:
        return _Hit(None, "ambiguous", tuple(sorted(alias)), "alias of several genes")
    if _PROBE.match(x):
        return _Hit(None, "unmapped", note="looks like a probe-set id; pass annotation= to map probes")
    if _MOUSE_SYMBOL.match(x):
        return _Hit(None, "unmapped", note="looks like a mouse symbol; pass species='mouse'")
    return _Hit(None, "unmapped")


def _resolve_excel(x: str, groups: tuple[str, str], idx: _Index) -> _Hit:
    a, b = groups
    day, mon = (a, b) if a.isdigit() else (b, a)
    prefixes = _MONTHS.get(mon.lower())
    if prefixes is None:
        return _Hit(None, "unmapped", note="looks like a date but not a month name")
    n = str(int(day))
    targets: dict[str, str] = {}
    for p in prefixes:
        old = f"{p}{n}"
        hit = _resolve_symbol(old, idx, allow_excel=False)
        if hit.symbol is not None and hit.step in ("exact", "previous"):
            targets.setdefault(hit.symbol, old)
    if not targets:
        for p in prefixes:
            hit = _resolve_symbol(f"{p}{n}", idx, allow_excel=False)
            if hit.symbol is not None:
                targets.setdefault(hit.symbol, f"{p}{n}")
    if len(targets) == 1:
        ((sym, old),) = targets.items()
        return _Hit(sym, "excel_date", (sym,), f"spreadsheet date {x!r} read as {old}")
    if len(targets) > 1:
        desc = ", ".join(f"{old}->{s}" for s, old in targets.items())
        return _Hit(None, "ambiguous", tuple(sorted(targets)), f"spreadsheet date {x!r} could be {desc}")
    return _Hit(None, "unmapped", note=f"spreadsheet date {x!r} matches no gene")


def _resolve_human(x: str, kind: str, idx: _Index) -> _Hit:
    if kind == "ensembl":
        base = x.split(".")[0].upper()
        if base.endswith("_PAR_Y"):
            base = base[: -len("_PAR_Y")]
        sym = idx.ensembl.get(base)
        if sym is None:
            return _Hit(None, "unmapped", note="Ensembl id not in the HGNC table")
        note = "version suffix dropped" if "." in x else ""
        return _Hit(sym, "ensembl", (sym,), note)
    if kind == "entrez":
        key = x[:-2] if x.endswith(".0") else x
        sym = idx.entrez.get(key)
        if sym is None:
            return _Hit(None, "unmapped", note="Entrez id not in the HGNC table")
        return _Hit(sym, "entrez", (sym,))
    return _resolve_symbol(x, idx)


def _resolve_mouse(x: str, kind: str, midx: _MouseIndex) -> _Hit:
    if kind == "ensembl":
        mgis = {midx.ensembl[x.split(".")[0].upper()]} if x.split(".")[0].upper() in midx.ensembl else set()
    elif x in midx.symbol:
        mgis = {midx.symbol[x]}
    else:
        mgis = set(midx.synonym.get(x, frozenset())) or set(midx.upper.get(x.upper(), frozenset()))
    if not mgis:
        return _Hit(None, "unmapped", note="no human ortholog in the shipped HGNC/MGI table")
    if len(mgis) > 1:
        names = sorted(midx.mgi_symbol[m] for m in mgis)
        return _Hit(None, "ambiguous", tuple(names), "mouse synonym of several mouse genes")
    (mgi,) = mgis
    humans = midx.human[mgi]
    msym = midx.mgi_symbol[mgi]
    if len(humans) == 1:
        (h,) = humans
        return _Hit(h, "ortholog", (h,), f"mouse {msym} ({mgi})")
    return _Hit(None, "ambiguous", tuple(sorted(humans)), f"mouse {msym} has several human orthologs")


# --------------------------------------------------------------------------------------------------
# report


class _AttrsDict(dict):
    """A dict kept in ``DataFrame.attrs`` that pandas does not deep-copy on every operation.

    pandas deep-copies ``attrs`` into the result of every operation (``df["ABCB1"]``, ``df.iloc``); a
    mapping table of 20,000 identifiers made each of them take tens of milliseconds. The report is
    read-only by convention, so copies share it.
    """

    def __deepcopy__(self, memo):
        return self


@dataclass
class GeneMappingReport:
    """What :func:`harmonize_genes` / :func:`map_genes` did to every input identifier.

    Attributes
    ----------
    table
        Tidy DataFrame, one row per input identifier (in input order): ``input_id``, ``id_type``,
        ``symbol`` (the HGNC symbol, or empty), ``hgnc_id``, ``step`` (one of ``user``, ``exact``,
        ``case``, ``alias``, ``previous``, ``excel_date``, ``ensembl``, ``entrez``, ``probe``,
        ``ortholog``, ``ambiguous``, ``unmapped``), ``candidates`` (``|``-separated), ``note`` and ``kept``
        (whether this identifier's values are in the output after duplicates were collapsed).
    species
        ``"human"`` or ``"mouse"``.
    collapse_rule
        Name of the rule used for identifiers mapped to the same gene (see :data:`COLLAPSE_RULES`;
        ``"none"`` for :func:`map_genes`, which collapses nothing).
    n_collapsed
        Number of output genes that several input identifiers were collapsed into.
    unmapped_kept
        Whether identifiers that could not be mapped were kept under their own name.
    """

    table: pd.DataFrame
    species: str = "human"
    collapse_rule: str = DEFAULT_COLLAPSE
    source: str = "resistscore/_data/genes (HGNC snapshot, see PROVENANCE.md)"
    params: dict[str, Any] = field(default_factory=dict)
    n_collapsed: int = 0
    unmapped_kept: bool = True

    @property
    def collapse_single_sample(self) -> bool:
        """True if a sample's collapsed values depend on that sample alone (every rule but ``max_mean``)."""
        return self.collapse_rule not in COHORT_LEVEL_RULES

    @property
    def collapse_description(self) -> str:
        """One sentence on the collapse rule (for the CLI output and the report)."""
        return COLLAPSE_RULES.get(self.collapse_rule, "no identifiers were collapsed")

    @property
    def n_input(self) -> int:
        """Number of input identifiers."""
        return len(self.table)

    @property
    def n_mapped(self) -> int:
        """Number of input identifiers mapped to an HGNC symbol."""
        return sum(1 for s in self.table["symbol"].tolist() if s != "")

    @property
    def n_genes(self) -> int:
        """Number of distinct HGNC symbols in the output."""
        return len({s for s in self.table["symbol"].tolist() if s != ""})

    @property
    def ambiguous(self) -> pd.DataFrame:
        """Rows left unmapped because several genes claim them (resolve them with ``mapping=``)."""
        return self.table[self.table["step"] == "ambiguous"]

    @property
    def unmapped(self) -> pd.DataFrame:
        """Rows that matched nothing."""
        return self.table[self.table["step"] == "unmapped"]

    def summary(self) -> pd.Series:
        """Return the number of input identifiers per mapping step."""
        counts = self.table["step"].value_counts()
        return counts.reindex([s for s in STEPS if s in counts.index]).rename("n")

    def mapping(self) -> dict[str, str]:
        """``{input_id: symbol}`` for the mapped identifiers."""
        t = self.table[self.table["symbol"] != ""]
        return dict(zip(t["input_id"], t["symbol"]))

    def to_dict(self) -> dict[str, Any]:
        """Return a plain-dict form (lists and strings only) that can be stored in ``adata.uns``."""
        return {
            "table": {c: [str(v) for v in self.table[c].tolist()] for c in self.table.columns},
            "species": self.species,
            "collapse_rule": self.collapse_rule,
            "collapse_rule_description": COLLAPSE_RULES.get(self.collapse_rule, ""),
            "collapse_single_sample": self.collapse_single_sample,
            "n_collapsed": self.n_collapsed,
            "unmapped_kept": self.unmapped_kept,
            "source": self.source,
            "n_input": self.n_input,
            "n_mapped": self.n_mapped,
            "n_genes": self.n_genes,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GeneMappingReport:
        """Rebuild a report stored with :meth:`to_dict`."""
        table = pd.DataFrame({k: list(v) for k, v in d["table"].items()})
        if "kept" in table:
            table["kept"] = table["kept"].map(lambda v: str(v) == "True")
        return cls(
            table=table,
            species=d["species"],
            collapse_rule=d["collapse_rule"],
            source=d["source"],
            n_collapsed=int(d.get("n_collapsed", 0)),
            unmapped_kept=bool(d.get("unmapped_kept", False)),
        )

    def __repr__(self) -> str:
        steps = ", ".join(f"{k}={v}" for k, v in self.summary().items())
        return (
            f"GeneMappingReport({self.n_input} identifiers -> {self.n_genes} HGNC genes; species={self.species}; "
            f"steps: {steps}; duplicates: {self.collapse_rule}"
            f"{'' if self.collapse_single_sample else ' (cohort-level)'}; unmapped: "
            f"{'kept under their own name' if self.unmapped_kept else 'dropped'})"
        )

    def _repr_html_(self) -> str:
        head = f"<p><b>{self!r}</b></p>"
        return head + self.summary().to_frame().to_html()


# --------------------------------------------------------------------------------------------------
# public functions


def _detect_species(ids: list[str]) -> str:
    """Majority vote: ``ENSMUSG`` ids and ``Abcb1a``-style symbols vote mouse; ``ENSG`` and upper-case vote human."""
    sample = [x for x in ids if x][:5000]
    mouse = human = 0
    for x in sample:
        if _plain_symbol(x):  # the common case, without _classify's four regular expressions (twice)
            if _MOUSE_SYMBOL.match(x):
                mouse += 1
            elif x.replace("orf", "").upper() == x.replace("orf", ""):
                human += 1
            continue
        if _ENSMUSG.match(x) or (_classify(x) == "symbol" and _MOUSE_SYMBOL.match(x)):
            mouse += 1
        elif _ENSG.match(x) or (
            _classify(x) == "symbol" and x.replace("orf", "").upper() == x.replace("orf", "")
        ):
            human += 1
    return "mouse" if mouse > human else "human"


def map_genes(
    ids: Iterable[Any],
    *,
    id_type: str = "auto",
    species: str = "auto",
    annotation: Mapping[str, Any] | pd.Series | None = None,
    mapping: Mapping[str, str] | None = None,
    warn: bool = True,
) -> GeneMappingReport:
    """Map gene identifiers to current HGNC symbols (offline) and report every step.

    Parameters
    ----------
    ids
        Gene identifiers: HGNC symbols (current, previous, aliases, any case, spreadsheet-mangled),
        Ensembl gene ids (with or without version), Entrez ids, probe-set ids (with ``annotation``) or
        mouse symbols / Ensembl ids.
    id_type
        ``"auto"`` (classify each identifier by its form), ``"symbol"``, ``"ensembl"``, ``"entrez"`` or
        ``"probe"``.
    species
        ``"auto"`` (mouse if most symbols look like ``Abcb1a`` or ids are ``ENSMUSG``), ``"human"`` or
        ``"mouse"`` (mapped to human orthologs).
    annotation
        For probe sets: ``{probe_id: gene}`` (symbol, Entrez or Ensembl id), e.g. the symbol column of a
        microarray table, or several sources ``{"entrez": {...}, "symbol": {...}}`` tried in order for each
        probe (the first that gives exactly one HGNC gene wins). Probes without annotation are unmapped.
        Annotations listing several genes (``"A /// B"``) map only if they all resolve to the same gene.
    mapping
        Explicit ``{input_id: HGNC symbol}`` decisions; they take precedence over every rule and are
        how an ambiguous identifier is resolved. Target symbols must be approved HGNC symbols.
    warn
        Emit an :class:`~resistscore.AmbiguousGeneWarning` listing ambiguous identifiers.

    Returns
    -------
    GeneMappingReport
        One row per input identifier (see the class).

    Raises
    ------
    GeneIdentifierError
        If ``mapping`` targets a symbol that is not an approved HGNC symbol, or probe ids are given
        without ``annotation``.

    Examples
    --------
    >>> import resistscore as rs
    >>> rep = rs.pp.map_genes(["MDR1", "BCRP", "MRP1", "abcb1", "ENSG00000085563.15", "5243", "7-Sep"])
    >>> rep.table[["input_id", "symbol", "step"]]
                 input_id   symbol        step
    0                MDR1    ABCB1    previous
    1                BCRP    ABCG2       alias
    2                MRP1    ABCC1    previous
    3               abcb1    ABCB1        case
    4  ENSG00000085563.15    ABCB1     ensembl
    5                5243    ABCB1      entrez
    6               7-Sep  SEPTIN7  excel_date
    """
    check_choice("id_type", id_type, ID_TYPES)
    check_choice("species", species, SPECIES)
    raw = list(ids)
    strs = ["" if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v).strip() for v in raw]
    idx = _index()
    if mapping:
        bad = {k: v for k, v in mapping.items() if v not in idx.hgnc_id}
        if bad:
            raise GeneIdentifierError(
                f"`mapping` targets that are not approved HGNC symbols: {bad}. Use current symbols, "
                "e.g. look them up with rs.pp.map_genes([...])."
            )
    anns: list[tuple[str, dict[str, str]]] | None = None
    if annotation is not None:
        sources = (
            list(annotation.items()) if _is_multi_annotation(annotation) else [("annotation", annotation)]
        )
        anns = [
            (str(name), {str(k): ("" if pd.isna(v) else str(v).strip()) for k, v in src.items()})
            for name, src in sources
        ]
    ann = anns[0][1] if anns else None
    if species == "auto":
        species = _detect_species([ann.get(x, "") for x in strs] if ann is not None else strs)
    midx = _mouse_index() if species == "mouse" else None

    cache: dict[tuple[str, str], _Hit] = {}
    rows: list[tuple[str, str, str, str, str, str, str]] = []
    # the common case, an approved symbol that is no other gene's alias or previous symbol, is resolved
    # here as _resolve_symbol resolves it (step "exact", no note), without building a _Hit
    hgnc = idx.hgnc_id if midx is None and id_type in ("auto", "symbol") else {}
    alias, prev, nothing = (idx.alias, idx.prev, frozenset()) if hgnc else ({}, {}, frozenset())
    for x in strs:
        if (
            x in hgnc
            and x not in alias
            and not (prev.get(x, nothing) - {x})
            and not (mapping and x in mapping)
            and (id_type == "symbol" or _plain_symbol(x))
        ):
            rows.append((x, "symbol", x, hgnc[x], "exact", x, ""))
            continue
        kind = id_type if id_type != "auto" else _classify(x)
        if kind == "probe" and ann is None and id_type == "auto":
            # a symbol that happens to look like a probe id is resolved as a symbol
            kind = "symbol"
        key = (x, kind)
        if key in cache:
            hit = cache[key]
        elif not x:
            hit = _Hit(None, "unmapped", note="empty identifier")
        elif mapping and x in mapping:
            hit = _Hit(mapping[x], "user", (mapping[x],), "explicit mapping given by the user")
        elif kind == "probe":
            if ann is None:
                hit = _Hit(None, "unmapped", note="probe id without annotation")
            else:
                hit = _resolve_probe(x, anns, idx, midx, mapping)
        else:
            hit = _resolve_one(x, kind, idx, midx)
        cache[key] = hit
        rows.append(
            (
                x,
                kind,
                hit.symbol or "",
                idx.hgnc_id.get(hit.symbol, "") if hit.symbol else "",
                hit.step,
                "|".join(hit.candidates),
                hit.note,
            )
        )
    if strs and all(r[6] == "probe id without annotation" for r in rows):
        raise GeneIdentifierError(
            "the identifiers look like microarray probe-set ids; pass `annotation=` (a probe -> gene "
            "symbol mapping, e.g. the symbol column of the file) to map them to genes."
        )
    table = pd.DataFrame(
        rows, columns=["input_id", "id_type", "symbol", "hgnc_id", "step", "candidates", "note"]
    )
    table["kept"] = table["symbol"] != ""
    steps_seen = {r[4] for r in rows}
    report = GeneMappingReport(
        table=table,
        species=species,
        collapse_rule="none",
        params={"id_type": id_type, "species": species},
        unmapped_kept=False,
    )
    amb = report.ambiguous.drop_duplicates("input_id") if warn and "ambiguous" in steps_seen else ()
    if len(amb):
        items = [
            f"{i} -> {c.replace('|', '/')}" + (f" ({n})" if n else "")
            for i, c, n in zip(amb["input_id"], amb["candidates"], amb["note"])
        ]
        shown = "; ".join(items[:10]) + (f"; ... ({len(items)} in all)" if len(items) > 10 else "")
        warn_user(
            f"{len(amb)} gene identifier(s) match several HGNC genes and were left unmapped: {shown}. "
            "Pass mapping={id: symbol} to resolve them (see report.ambiguous).",
            AmbiguousGeneWarning,
        )
    return report


def _is_multi_annotation(annotation) -> bool:
    """``{source name: {probe: gene}}`` (several sources tried in order) vs a single ``{probe: gene}``."""
    if isinstance(annotation, pd.Series):
        return False
    return bool(annotation) and all(isinstance(v, Mapping | pd.Series) for v in annotation.values())


def _resolve_annotated(target: str, idx: _Index, midx: _MouseIndex | None, mapping) -> _Hit:
    targets = [t.strip() for t in re.split(r"\s*(?:///|//|\||;)\s*", target) if t.strip()]
    if mapping and target in mapping:
        return _Hit(mapping[target], "user", (mapping[target],))
    if len(targets) > 1:
        subs = {
            h.symbol for t in targets if (h := _resolve_one(t, _classify(t), idx, midx)).symbol is not None
        }
        if len(subs) == 1:
            return _Hit(next(iter(subs)), "multi-annotation", tuple(subs))
        return _Hit(None, "ambiguous" if subs else "unmapped", tuple(sorted(subs)))
    return _resolve_one(targets[0], _classify(targets[0]), idx, midx)


def _resolve_probe(x: str, anns, idx: _Index, midx: _MouseIndex | None, mapping) -> _Hit:
    """Try each annotation source in order; the first that gives one HGNC gene wins."""
    first_problem: _Hit | None = None
    for name, ann in anns:
        target = ann.get(x, "")
        if not target:
            continue
        sub = _resolve_annotated(target, idx, midx, mapping)
        label = f"{name}={target!r}" if len(anns) > 1 else f"annotated {target!r}"
        if sub.symbol is not None:
            return _Hit(sub.symbol, "probe", (sub.symbol,), f"{label} ({sub.step})")
        if first_problem is None or (first_problem.step == "unmapped" and sub.step == "ambiguous"):
            if sub.step == "ambiguous":
                first_problem = _Hit(None, "ambiguous", sub.candidates, f"{label}: several genes")
            else:
                first_problem = _Hit(None, "unmapped", note=f"{label}: no HGNC gene")
    return first_problem or _Hit(None, "unmapped", note="probe has no gene annotation")


def _resolve_one(x: str, kind: str, idx: _Index, midx: _MouseIndex | None) -> _Hit:
    if midx is not None:
        return _resolve_mouse(x, kind, midx)
    if kind == "ensembl" and _ENSMUSG.match(x):
        return _Hit(None, "unmapped", note="mouse Ensembl id in human data; pass species='mouse'")
    return _resolve_human(x, kind, idx)


def _collapse_matrix(groups: np.ndarray, n_in: int, how: str, X) -> tuple[Any, np.ndarray]:
    """Return the selection (``max_mean``/``first``): chosen input per gene; else an (n_in, n_genes) indicator."""
    n_groups = int(groups.max()) + 1 if len(groups) and groups.max() >= 0 else 0
    valid = groups >= 0
    if how in ("max_mean", "first"):
        if how == "max_mean":
            means = _column_means(X)
            score = np.where(np.isnan(means), -np.inf, means)
        else:
            score = -np.arange(n_in, dtype=float)
        chosen = np.full(n_groups, -1)
        best = np.full(n_groups, -np.inf)
        for j in range(n_in):
            g = groups[j]
            if g < 0:
                continue
            if chosen[g] < 0 or score[j] > best[g]:
                chosen[g] = j
                best[g] = score[j]
        kept = np.zeros(n_in, dtype=bool)
        kept[chosen] = True
        return chosen, kept
    cols = np.flatnonzero(valid)
    M = sp.csr_matrix((np.ones(len(cols)), (cols, groups[cols])), shape=(n_in, n_groups))
    return M, valid.copy()


class _MeansOnly:
    """The column means of a matrix that is not in memory (computed elsewhere, e.g. in a chunked pass)."""

    def __init__(self, means):
        self.means = np.asarray(means, dtype=np.float64)


def _column_means(X) -> np.ndarray:
    if isinstance(X, _MeansOnly):
        return X.means
    if sp.issparse(X):
        return np.asarray(X.mean(axis=0)).ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.asarray(X, dtype=float), axis=0)


def _unpack(data, id_column, annotation):
    """(ids, annotation, X) of an AnnData or a samples x genes DataFrame, with our errors for bad input."""
    import anndata as ad

    if isinstance(data, ad.AnnData):
        if data.isbacked:
            raise InputFormatError(
                "harmonize_genes needs the expression matrix in memory to collapse duplicated genes; "
                "load it with adata.to_memory() (or read without backed=True)."
            )
        if data.X is None:
            layers = list(data.layers.keys())
            raise InputFormatError(
                "adata.X is None: harmonize_genes needs the expression matrix in X"
                + (f"; set it from a layer, e.g. adata.X = adata.layers[{layers[0]!r}]." if layers else ".")
            )
        if id_column is not None and id_column not in data.var.columns:
            raise InputFormatError(
                f"id_column {id_column!r} is not a column of adata.var (columns: {list(data.var.columns)[:10]}); "
                "pass one of them, or id_column=None to use adata.var_names."
            )
        ids = list(map(str, data.var[id_column])) if id_column else list(map(str, data.var_names))
        ann = None
        if annotation is not None:
            if isinstance(annotation, str | list | tuple):
                cols = [annotation] if isinstance(annotation, str) else list(annotation)
                for col in cols:
                    if col not in data.var:
                        raise InputFormatError(
                            f"annotation column {col!r} is not in adata.var (columns: {list(data.var.columns)}); "
                            "pass the name of the var column holding gene symbols."
                        )
                ann = {col: dict(zip(ids, data.var[col])) for col in cols}
            else:
                ann = annotation
        return ids, ann, data.X
    if isinstance(data, pd.DataFrame):
        if id_column is not None:
            raise InputFormatError(
                "`id_column` applies to AnnData only; for a DataFrame the columns are the ids."
            )
        if isinstance(data.columns, pd.MultiIndex):
            raise InputFormatError(
                "the DataFrame has MultiIndex columns; pass one level of gene identifiers as columns "
                "(e.g. df.columns = df.columns.get_level_values(0))."
            )
        ids = list(map(str, data.columns))
        ann = None
        if annotation is not None:
            if isinstance(annotation, str):
                raise InputFormatError(
                    "for a DataFrame, `annotation` must be a mapping or Series {column: gene symbol}, not a name."
                )
            ann = annotation
        X = data.to_numpy()
        if X.dtype == object or not np.issubdtype(X.dtype, np.number):
            try:
                X = data.to_numpy(dtype=float)
            except (TypeError, ValueError) as err:
                raise InputFormatError(
                    "the expression table has non-numeric values; remove annotation columns or pass them "
                    "as `annotation=`."
                ) from err
        return ids, ann, X
    raise InputFormatError(
        f"harmonize_genes takes an AnnData or a samples x genes DataFrame, not {type(data).__name__}; "
        "read files with rs.io.read first."
    )


def _output_genes(table: pd.DataFrame, ids: list[str], drop_unmapped: bool):
    """Return the output genes and each input's gene (``-1``: left out), in order of first appearance.

    Mapped identifiers go to their symbol; with ``drop_unmapped=False`` the others keep their own name,
    except one spelled like a mapped gene's symbol (it would merge into that gene), which is left out with
    a note in ``table`` (modified in place). Returns ``(uniq, groups, first_pos)``: the output names, the
    output index of every input (or -1), and the first input position of each output.
    """
    mapped = (table["symbol"] != "").to_numpy()
    symbols = table["symbol"].to_numpy(dtype=object)
    names = np.where(mapped, symbols, "").astype(object)
    if not drop_unmapped:
        own = table["input_id"].to_numpy(dtype=object)
        # an unmapped id spelled like a mapped gene's symbol (a probe named ABCB1) would merge into that gene
        clash = ~mapped & (own != "") & pd.Index(own).isin(set(symbols[mapped]))
        names = np.where(mapped, names, np.where(clash, "", own))
        if clash.any():
            table.loc[clash, "note"] = [
                "; ".join(filter(None, [n, "left out: spelled like the symbol of a mapped gene"]))
                for n in table.loc[clash, "note"]
            ]
    uniq, inverse = np.unique(names.astype(str), return_inverse=True)
    groups = inverse.astype(int)
    if "" in set(uniq):
        empty = int(np.flatnonzero(uniq == "")[0])
        groups = np.where(groups == empty, -1, groups)
        groups = np.where(groups > empty, groups - 1, groups)
        uniq = uniq[uniq != ""]
    # output order: first appearance in the input
    first_pos = np.full(len(uniq), len(ids))
    member = groups >= 0
    np.minimum.at(first_pos, groups[member], np.flatnonzero(member))
    order = np.argsort(first_pos, kind="stable")
    remap = np.empty(len(order), dtype=int)
    remap[order] = np.arange(len(order))
    groups = np.where(groups >= 0, remap[np.maximum(groups, 0)], -1)
    uniq = uniq[order]
    first_pos = first_pos[order]

    return uniq, groups, first_pos


def _plan(ids, ann, X, *, id_type, species, mapping, probe_collapse, drop_unmapped):
    """Map ``ids``, choose the output genes and collapse: what :func:`harmonize_genes` does before the matrix.

    Returns ``(report, uniq, groups, first_pos, chosen_or_M)`` (see :func:`_output_genes` and
    :func:`_collapse_matrix`); ``X`` is read only by ``"max_mean"`` (its column means).
    """
    report = map_genes(
        ids,
        id_type="probe" if ann is not None and id_type == "auto" else id_type,
        species=species,
        annotation=ann,
        mapping=mapping,
    )
    table = report.table.copy()
    if report.n_mapped == 0:
        examples = ", ".join(repr(i) for i in ids[:5])
        raise GeneIdentifierError(
            f"none of the {len(ids)} gene identifiers (e.g. {examples}) maps to an HGNC gene (species="
            f"{report.species!r}). Check that the genes are on the expected axis (pass orientation= to "
            "rs.io.read or transpose), pass species='mouse' for mouse data, or annotation= for probe sets."
        )
    uniq, groups, first_pos = _output_genes(table, ids, drop_unmapped)
    chosen_or_M, kept = _collapse_matrix(groups, len(ids), probe_collapse, X)
    table["kept"] = kept
    sizes = np.bincount(groups[groups >= 0], minlength=len(uniq))
    report = GeneMappingReport(
        table=table,
        species=report.species,
        collapse_rule=probe_collapse,
        params={
            "id_type": id_type,
            "species": species,
            "probe_collapse": probe_collapse,
            "drop_unmapped": drop_unmapped,
            "user_mapping": dict(mapping or {}),
        },
        n_collapsed=int((sizes > 1).sum()),
        unmapped_kept=not drop_unmapped,
    )
    return report, uniq, groups, first_pos, chosen_or_M


def harmonize_genes(
    data,
    *,
    id_type: str = "auto",
    species: str = "auto",
    probe_collapse: str = DEFAULT_COLLAPSE,
    annotation: str | Mapping[str, Any] | pd.Series | None = None,
    id_column: str | None = None,
    mapping: Mapping[str, str] | None = None,
    drop_unmapped: bool = False,
    copy: bool = False,
):
    """Rename genes to current HGNC symbols, collapse duplicates, and report every step.

    Parameters
    ----------
    data
        :class:`~anndata.AnnData` (``var_names`` are the identifiers) or a samples x genes
        :class:`~pandas.DataFrame` (columns are the identifiers). Never modified.
    id_type, species, mapping
        See :func:`map_genes`.
    probe_collapse
        Rule for several input identifiers mapped to the same gene (probe sets, or e.g. an alias and
        its current symbol both present), see :data:`COLLAPSE_RULES`: ``"mean"`` (default; their mean
        within each sample, NaN ignored, as limma's ``avereps``: a sample's values never depend on the
        other samples of the file), ``"max_mean"`` (cohort-level: the identifier with the highest mean
        over all samples, WGCNA ``collapseRows`` "MaxMean"), ``"sum"`` (raw counts) or ``"first"``. The
        rule is recorded in the report and in ``adata.uns``.
    annotation
        Probe -> gene annotation: for AnnData the name of a ``var`` column (e.g. ``"symbol"``) or a list of
        names tried in order (e.g. ``["entrez", "symbol"]``); for a DataFrame a mapping or Series indexed by
        column name (or ``{source: mapping}`` for several sources).
    id_column
        For AnnData: take identifiers from this ``var`` column instead of ``var_names``.
    drop_unmapped
        False (default): identifiers that could not be mapped (ambiguous, unknown, withdrawn) stay in
        the output under their own name - they are measured genes, so they keep their place in every
        within-sample ranking and only match no signature (``kept=True`` with an empty symbol in the
        report). True drops them, which changes every rank-based score (the ranking universe shrinks).
    copy
        Kept for symmetry with scanpy's API. The input is never modified and the result is always a
        new object whose arrays are not shared with the input, whatever ``copy`` is.

    Returns
    -------
    tuple
        ``(result, report)``: the AnnData/DataFrame with HGNC symbols as gene names (``var["hgnc_id"]``
        and ``var["input_ids"]`` record the origin for AnnData) and the :class:`GeneMappingReport`,
        also stored in ``result.uns["resistscore"]["gene_mapping"]`` (AnnData) or
        ``result.attrs["resistscore_gene_mapping"]`` (DataFrame), with the collapse rule.

    Raises
    ------
    InputFormatError
        If ``data`` is not an in-memory AnnData with ``X`` or a numeric DataFrame, or ``id_column`` /
        ``annotation`` names a missing column.
    GeneIdentifierError
        If no identifier maps to an HGNC gene (wrong axis, species or identifier type).

    Examples
    --------
    >>> import pandas as pd
    >>> import resistscore as rs
    >>> df = pd.DataFrame(
    ...     [[1.0, 5.0, 2.0, 7.0], [3.0, 6.0, 4.0, 8.0]],
    ...     index=["s1", "s2"],
    ...     columns=["MDR1", "ABCB1", "BCRP", "NOT_A_GENE"],
    ... )
    >>> out, report = rs.pp.harmonize_genes(df)
    >>> out
        ABCB1  ABCG2  NOT_A_GENE
    s1    3.0    2.0         7.0
    s2    4.5    4.0         8.0
    >>> report.table[["input_id", "symbol", "step", "kept"]]
         input_id symbol      step  kept
    0        MDR1  ABCB1  previous  True
    1       ABCB1  ABCB1     exact  True
    2        BCRP  ABCG2     alias  True
    3  NOT_A_GENE         unmapped  True
    >>> report.collapse_rule, report.collapse_single_sample
    ('mean', True)
    """
    import anndata as ad

    check_choice("probe_collapse", probe_collapse, tuple(COLLAPSE_RULES))
    check_choice("drop_unmapped", drop_unmapped, (True, False))
    ids, ann, X = _unpack(data, id_column, annotation)

    report, uniq, groups, first_pos, chosen_or_M = _plan(
        ids,
        ann,
        X,
        id_type=id_type,
        species=species,
        mapping=mapping,
        probe_collapse=probe_collapse,
        drop_unmapped=drop_unmapped,
    )
    hgnc = _index().hgnc_id
    selection = probe_collapse in ("max_mean", "first")
    if isinstance(data, pd.DataFrame):
        if selection:
            out = data.iloc[:, chosen_or_M].copy()
        else:
            vals = _aggregate(X, chosen_or_M, probe_collapse)
            out = pd.DataFrame(vals, index=data.index.copy())
        out.columns = pd.Index([str(u) for u in uniq], name=None)
        out.attrs = {}
        get.store_record(out, get.GENE_MAPPING, _AttrsDict(report.to_dict()))
        return out, report

    if selection:
        out = data[:, chosen_or_M].copy()
        out.var["input_ids"] = [ids[j] for j in chosen_or_M]
    else:
        input_ids = _joined_by_gene(ids, groups, len(uniq))
        var = data.var.iloc[first_pos].copy()
        out = ad.AnnData(
            X=_aggregate(X, chosen_or_M, probe_collapse),
            obs=data.obs.copy(),
            var=var.set_axis(pd.Index([str(u) for u in uniq]), axis=0),
            obsm={k: v.copy() for k, v in data.obsm.items()},
            obsp={k: v.copy() for k, v in data.obsp.items()},
            uns=copy_module.deepcopy(dict(data.uns)),
        )
        for layer, L in data.layers.items():
            out.layers[layer] = _aggregate(L, chosen_or_M, probe_collapse)
        out.var["input_ids"] = list(input_ids)
    out.var_names = pd.Index([str(u) for u in uniq])
    out.var["hgnc_id"] = [hgnc.get(s, "") for s in uniq]
    out.uns = dict(out.uns)
    get.store_record(out, get.GENE_MAPPING, report.to_dict())
    return out, report


def _joined_by_gene(ids: list[str], groups: np.ndarray, n_genes: int) -> list[str]:
    """Return the input identifiers of each output gene, ``"|"``-joined in file order (``groups``: their gene)."""
    member = np.flatnonzero(groups >= 0)
    order = np.argsort(groups[member], kind="stable")  # by gene, file order within a gene
    pos = member[order]
    sizes = np.bincount(groups[pos], minlength=n_genes)
    starts = np.cumsum(sizes) - sizes
    arr = np.asarray(ids, dtype=object)
    out = arr[pos[starts]]  # every output gene has at least one input
    for g in np.flatnonzero(sizes > 1):
        out[g] = "|".join(arr[pos[starts[g] : starts[g] + sizes[g]]])
    return out.tolist()


def _aggregate(X, M, how: str):
    """Sum or mean of the input columns of each gene (``M``: input x gene indicator); NaN = missing."""
    counts = np.asarray(M.sum(axis=0)).ravel()
    if sp.issparse(X):
        res = sp.csr_matrix(X @ M)
        if how == "mean":
            res = sp.csr_matrix(res @ sp.diags(1.0 / counts))
        return res
    Xd = np.asarray(X, dtype=float)
    nan = np.isnan(Xd)
    res = np.asarray(np.where(nan, 0.0, Xd) @ M)
    present = np.asarray((~nan).astype(float) @ M)
    with np.errstate(invalid="ignore", divide="ignore"):
        if how == "mean":
            res = res / present
    res[present == 0] = np.nan
    return res


class GeneCollapse:
    """Harmonise blocks of rows as :func:`harmonize_genes` does in memory, one block at a time.

    The input columns of each gene are summed or averaged (``M``: input x gene indicator) exactly as
    :func:`harmonize_genes` aggregates them, so that a file harmonised block by block gives the numbers
    of the file loaded and harmonised whole. Picklable (sent to Dask workers).

    Parameters
    ----------
    M
        Sparse input-identifier x gene indicator matrix.
    rule
        The collapse rule of the mapping (a single-sample rule: ``"mean"``, ``"sum"``, ``"first"``,
        ``"none"``).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> c = GeneCollapse.from_names(["ABCB1", "MDR1", "ABCG2"])  # MDR1 is an alias of ABCB1
    >>> list(c.var_names), c(np.array([[2.0, 4.0, 1.0]])).tolist()
    (['ABCB1', 'ABCG2'], [[3.0, 1.0]])
    """

    def __init__(self, M, rule: str, var_names=None):
        self.M, self.rule = M, rule
        self.var_names = None if var_names is None else pd.Index(var_names)
        self._take, self._identity = _single_identifier_columns(M)

    @classmethod
    def from_names(cls, ids, probe_collapse: str = DEFAULT_COLLAPSE, means=None) -> GeneCollapse:
        """Map identifiers to genes on their names alone (no expression values are read).

        The identifiers are mapped, and the output genes and collapse rule chosen, by the code of
        :func:`harmonize_genes` (the same report, the same genes in the same order); the result is the
        input x gene collapse matrix that :func:`harmonize_genes` would apply to a matrix with these
        columns. No matrix is built: 20,000 names take a fraction of a second.

        Parameters
        ----------
        ids
            The input identifiers (the file's ``var_names``).
        probe_collapse
            The rule for identifiers mapped to the same gene (:data:`COLLAPSE_RULES`). The cohort-level
            ``"max_mean"`` keeps, for each gene, the identifier with the highest ``means`` (first in file
            order on ties, NaN lowest), as :func:`harmonize_genes` does with the whole matrix.
        means
            With ``"max_mean"``: the mean of every input identifier over all samples of the file (as
            :func:`harmonize_genes` computes it: zeros included for sparse data, NaN ignored for dense
            data), e.g. from one chunked pass over the file (:func:`resistscore.tl.harmonized_rows`).

        Raises
        ------
        GeneIdentifierError
            If no identifier maps to an HGNC gene, or ``"max_mean"`` is asked without ``means``.
        """
        check_choice("probe_collapse", probe_collapse, tuple(COLLAPSE_RULES))
        ids = pd.Index(pd.Index(ids).astype(str))
        if probe_collapse in COHORT_LEVEL_RULES and (means is None or len(means) != len(ids)):
            raise GeneIdentifierError(
                f"probe_collapse={probe_collapse!r} needs the mean of every identifier over all samples; pass "
                "means= (one value per identifier), or use rs.tl.harmonized_rows(path, probe_collapse="
                f"{probe_collapse!r}), which computes them in one chunked pass over the file."
            )
        names = list(ids)
        X = _MeansOnly(means) if probe_collapse in COHORT_LEVEL_RULES else None
        report, uniq, groups, _, chosen_or_M = _plan(
            names,
            None,
            X,
            id_type="auto",
            species="auto",
            mapping=None,
            probe_collapse=probe_collapse,
            drop_unmapped=False,
        )
        if probe_collapse in ("max_mean", "first"):  # the chosen input of each gene
            M = sp.csr_matrix(
                (np.ones(len(chosen_or_M)), (chosen_or_M, np.arange(len(chosen_or_M)))),
                shape=(len(names), len(uniq)),
                dtype=np.float64,
            )
        else:
            M = sp.csr_matrix(chosen_or_M, dtype=np.float64)
        rule = "first" if probe_collapse in COHORT_LEVEL_RULES else report.collapse_rule
        collapse = cls(M, rule, pd.Index(uniq.tolist()))  # Python strings (9 ms less than str() of each)
        collapse.report = report
        return collapse

    def __call__(self, block):
        """Return the harmonised block (rows x genes).

        When every gene comes from exactly one identifier (e.g. a file already named by HGNC symbols),
        the sum or mean of one value is the value itself: the block is returned as it is (identity) or
        with its columns selected, in its own type (a float32 file stays float32, nothing is copied for
        the identity), instead of a sparse product that would give the same numbers in float64.
        """
        if self._identity:
            return block
        if self._take is not None:
            return block[:, self._take]
        return _aggregate(block, self.M, "sum" if self.rule in ("sum", "first", "none") else "mean")


def _single_identifier_columns(M) -> tuple[np.ndarray | None, bool]:
    """``(take, identity)``: the input column of each gene if each has exactly one (weight 1), in file order."""
    C = sp.csc_matrix(M)
    if C.shape[1] == 0 or np.any(np.diff(C.indptr) != 1) or np.any(C.data != 1):
        return None, False
    take = C.indices.astype(np.int64)
    if np.any(np.diff(take) <= 0):  # not in file order: the general product keeps the genes' order
        return None, False
    return take, bool(C.shape[0] == C.shape[1] and np.array_equal(take, np.arange(C.shape[0])))
