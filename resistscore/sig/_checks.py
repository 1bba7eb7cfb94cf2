"""``rs.sig.validate``: every rule the signature data must satisfy, reported with file, line, field and fix."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from resistscore._errors import SignatureError
from resistscore._resources import signatures_root
from resistscore.sig._collection import YAML_NAME, ParsedCollection, parse_collection
from resistscore.sig._confounders import parse_confounders
from resistscore.sig._drugs import normalise_drug_name
from resistscore.sig._files import Resource
from resistscore.sig._manifest import verify_manifest
from resistscore.sig._model import Signature, SignatureSet
from resistscore.sig._problems import ValidationReport
from resistscore.sig._tables import TABLES, read_table, split_ids

__all__ = ["GeneReference", "validate"]

_LOWER_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_MIRBASE = re.compile(r"^hsa-(miR|let)-[0-9]+[a-z]?(-[0-9]+)?(-[35]p)?$")


class GeneReference:
    """The HGNC gene table used to check symbols and identifiers.

    Built from ``rs.pp.gene_table()`` (approved genes) and ``rs.pp.gene_table("withdrawn")``, or
    from any DataFrame with a ``symbol`` column (optional: ``hgnc_id``, ``ensembl_gene_id``,
    ``prev_symbols``, ``alias_symbols``).
    """

    def __init__(
        self, approved: pd.DataFrame, withdrawn: pd.DataFrame | None = None, source: str = "gene table"
    ):
        if "symbol" not in approved.columns:
            raise SignatureError(
                "the gene table has no `symbol` column. Pass rs.pp.gene_table() or a DataFrame with the columns "
                "symbol, hgnc_id, ensembl_gene_id."
            )
        self.source = source
        a = approved.fillna("")
        self.symbols: set[str] = set(a["symbol"].astype(str))
        self.hgnc = dict(zip(a["symbol"], a["hgnc_id"])) if "hgnc_id" in a else {}
        self.ensembl = dict(zip(a["symbol"], a["ensembl_gene_id"])) if "ensembl_gene_id" in a else {}
        self.by_hgnc = dict(zip(a["hgnc_id"], a["symbol"])) if "hgnc_id" in a else {}
        self.previous: dict[str, set[str]] = {}
        self.alias: dict[str, set[str]] = {}
        self.upper = {s.upper(): s for s in self.symbols}
        for col, target in (("prev_symbols", self.previous), ("alias_symbols", self.alias)):
            if col in a:
                for sym, cell in zip(a["symbol"], a[col]):
                    for old in str(cell).split("|"):
                        if old:
                            target.setdefault(old, set()).add(sym)
        self.withdrawn: dict[str, str] = {}
        if withdrawn is not None and "withdrawn_symbol" in withdrawn.columns:
            w = withdrawn.fillna("")
            succ = w["successor_symbols"] if "successor_symbols" in w else pd.Series("", index=w.index)
            for sym, s in zip(w["withdrawn_symbol"], succ):
                self.withdrawn.setdefault(sym, str(s))

    @classmethod
    def shipped(cls) -> GeneReference:
        """Return the HGNC tables shipped with resistscore (``rs.pp.gene_table``); built once per process."""
        return _shipped_reference()

    def suggest(self, symbol: str) -> str:
        """Return a fix for a symbol that is not approved."""
        if symbol.upper() in self.upper:
            return f"write {self.upper[symbol.upper()]} (HGNC symbols are case-sensitive)"
        prev = sorted(self.previous.get(symbol, ()))
        alias = sorted(self.alias.get(symbol, set()) - set(prev))
        if len(prev) == 1:
            also = f" (also an alias of {', '.join(alias)})" if alias else ""
            return f"{symbol} is a previous symbol of {prev[0]}{also}: write {prev[0]}"
        if not prev and len(alias) == 1:
            return f"{symbol} is an alias of {alias[0]}: write {alias[0]}"
        if prev or alias:
            return f"{symbol} is a previous symbol or alias of {', '.join(prev + alias)}: choose the intended gene"
        if symbol in self.withdrawn:
            succ = self.withdrawn[symbol]
            return f"{symbol} was withdrawn by HGNC" + (
                f"; its successor is {succ.replace('|', ', ')}" if succ else ""
            )
        return "write the current HGNC approved symbol (see https://www.genenames.org)"


@functools.lru_cache(maxsize=1)
def _shipped_reference() -> GeneReference:
    from resistscore.pp import gene_table

    return GeneReference(
        gene_table("hgnc"), gene_table("withdrawn"), source="HGNC table shipped with resistscore"
    )


def validate(
    source: Any = None,
    *,
    gene_table: pd.DataFrame | GeneReference | bool | None = None,
    strict: bool | None = None,
    raise_on_error: bool = False,
) -> ValidationReport:
    """Check signature files (or a signature set) against every rule of the format; report all problems.

    The checks: the schema of ``signatures.yaml`` and of every TSV; unique ids, parents that exist,
    ids nested under their parents, sub-signatures whose genes are in the parent with the same
    direction; no gene twice in a signature; directions ``up``/``down`` and weights in (0, 1];
    filled evidence and references; every symbol a current HGNC approved symbol with a matching HGNC
    and Ensembl id; every drug a signature names in ``drugs/drugs.tsv``, with synonyms that resolve to
    one drug; drug genes, Table 2 targets and miRBase ids valid; every entity of the review inventory
    scored by existing signatures or given a reason; BCR-ABL1 codes valid; the confounder signatures
    (``confounders/``) named and sourced; the manifest up to date.

    Parameters
    ----------
    source
        ``None`` (default): the shipped signatures. Or a folder with ``signatures.yaml`` (or the YAML
        file), or a :class:`SignatureSet` (only the gene-level checks apply).
    gene_table
        The HGNC table to check symbols against: ``None`` (default) uses ``rs.pp.gene_table()``;
        a DataFrame with ``symbol`` (and ``hgnc_id``, ``ensembl_gene_id``) columns; ``False`` skips
        the HGNC checks.
    strict
        Require full provenance and lower snake case ids (default: True for the shipped signatures,
        False for users' own, where empty provenance fields are warnings).
    raise_on_error
        Raise :class:`~resistscore.SignatureError` listing the errors instead of returning a report
        that has errors.

    Returns
    -------
    ValidationReport
        ``report.ok``, ``report.table`` (one row per problem: severity, file, line, field, problem,
        fix) and ``report.checks`` (the checks run).

    Examples
    --------
    >>> import resistscore as rs
    >>> sigs = rs.sig.load({"efflux": ["ABCB1", "MDR1"]})
    >>> report = rs.sig.validate(sigs)
    >>> report.ok
    False
    >>> print(report.errors[0].fix)
    MDR1 is a previous symbol of ABCB1 (also an alias of TBC1D9): write ABCB1
    """
    ref = _gene_reference(gene_table)
    if isinstance(source, Signature):
        source = SignatureSet([source])
    if isinstance(source, SignatureSet):
        report = ValidationReport("<SignatureSet>")
        report.checks.append("genes: unique, directions, weights (enforced by Signature)")
        _check_set(source, report, ref, strict=bool(strict))
        return report.raise_if_errors() if raise_on_error else report
    shipped = source is None
    if shipped:
        root: Resource = signatures_root()
        display, yaml_name = "signatures", YAML_NAME
    elif isinstance(source, (str, os.PathLike)):
        p = Path(source)
        if p.is_file() and p.suffix.lower() in (".yaml", ".yml"):
            root, yaml_name = p.parent, p.name
        elif p.is_dir():
            root, yaml_name = p, YAML_NAME
        else:
            raise SignatureError(f"{p} is not a folder with signatures.yaml nor a YAML file. Check the path.")
        display = str(root)
    else:
        raise SignatureError(
            f"validate needs a path, None (the shipped signatures) or a SignatureSet; got {type(source).__name__}."
        )
    strict = shipped if strict is None else strict
    report = ValidationReport(display)
    report.checks.append("manifest: sha256 of every file, no unlisted file")
    verify_manifest(root, report, display_root=display, required=shipped, complete=True)
    report.checks.append("signatures.yaml and gene TSVs: schema, ids, hierarchy, duplicates")
    pc = parse_collection(root, report, yaml_name=yaml_name, display_root=display, lenient=not strict)
    sigs = pc.to_set()
    _check_style(pc, report, strict)
    _check_genes(pc, report, ref)
    tables = {}
    for name in TABLES:
        got = read_table(root, name, report, display)
        if got is not None:
            tables[name] = got
            report.checks.append(f"{TABLES[name][0]}: schema")
        elif shipped and name in ("drugs", "entities"):
            report.error(f"{display}/{TABLES[name][0]}", None, None, "the file is missing.",
                         "create it (its columns are in signatures/schema/)")  # fmt: skip
    _check_directions(pc, sigs, report)
    lookup = _check_drugs(pc, sigs, tables, report, ref, display)
    _check_inventory(sigs, tables, lookup, report, ref, display)
    _check_table1(sigs, tables, report, ref, display)
    _check_table2(tables, lookup, report, ref, display)
    _check_bcr(tables, report, display)
    conf = parse_confounders(root, report, display)
    if conf is not None:
        _check_genes(conf, report, ref)
    if raise_on_error:
        report.raise_if_errors()
    return report


def _gene_reference(gene_table: Any) -> GeneReference | None:
    if gene_table is False:
        return None
    if gene_table is None or gene_table is True:
        return GeneReference.shipped()
    if isinstance(gene_table, GeneReference):
        return gene_table
    if isinstance(gene_table, pd.DataFrame):
        return GeneReference(gene_table)
    raise SignatureError(
        f"gene_table must be None, False or a DataFrame with a `symbol` column; got {type(gene_table).__name__}."
    )


def _check_style(pc: ParsedCollection, report: ValidationReport, strict: bool) -> None:
    add = report.error if strict else report.warning
    for sid, s in pc.signatures.items():
        if not _LOWER_ID.match(sid):
            add(pc.yaml_display, pc.entry_line(sid, "id"), f"signatures[{sid}].id",
                f"id {sid!r} is not lower snake case.", "use lower-case letters, digits and _ with dots for the hierarchy")  # fmt: skip
        if strict and not s.drugs and s.feature_type == "gene":
            report.warning(pc.yaml_display, pc.entry_line(sid, "drugs"), f"signatures[{sid}].drugs",
                           "the signature lists no drug.", "list the drugs whose resistance it affects")  # fmt: skip


def _symbol_problem(
    report: ValidationReport, file: str, line: int | None, sym: str, hgnc: str, ens: str, ref: GeneReference
) -> None:
    if sym not in ref.symbols:
        report.error(
            file,
            line,
            "symbol",
            f"{sym} is not a current HGNC approved symbol ({ref.source}).",
            ref.suggest(sym),
        )
        return
    want_h = ref.hgnc.get(sym, "")
    if hgnc and want_h and hgnc != want_h:
        other = ref.by_hgnc.get(hgnc)
        extra = f" ({hgnc} is {other})" if other else ""
        report.error(
            file, line, "hgnc_id", f"{sym} has HGNC id {want_h}, not {hgnc}{extra}.", f"write {want_h}"
        )
    want_e = ref.ensembl.get(sym, "")
    if ens and want_e and ens != want_e:
        report.error(file, line, "ensembl_gene_id", f"{sym} has Ensembl id {want_e} in the HGNC table, not {ens}.",
                     f"write {want_e}")  # fmt: skip
    elif ens and not want_e:
        report.warning(file, line, "ensembl_gene_id",
                       f"the HGNC table has no Ensembl id for {sym}, so {ens} cannot be checked.",
                       "check the id on ensembl.org and say so in `note`")  # fmt: skip


def _check_genes(pc: ParsedCollection, report: ValidationReport, ref: GeneReference | None) -> None:
    if ref is None:
        report.checks.append("HGNC symbols: skipped (gene_table=False)")
        return
    report.checks.append(f"HGNC symbols and ids against the {ref.source}")
    for sid, s in pc.signatures.items():
        file, lines = pc.gene_lines[sid]
        g = s.genes
        for ln, sym, h, e, note in zip(lines, g["symbol"], g["hgnc_id"], g["ensembl_gene_id"], g["note"]):
            if s.feature_type == "mirna":
                if not _MIRBASE.match(sym):
                    report.error(file, ln, "symbol", f"{sym!r} is not a human mature miRBase id.",
                                 "write the mature miRBase id, e.g. hsa-miR-21-5p or hsa-let-7a-5p")  # fmt: skip
                continue
            _symbol_problem(report, file, ln, sym, h, e, ref)
            if (not h or not e) and not note.strip():
                report.warning(file, ln, "hgnc_id" if not h else "ensembl_gene_id",
                               f"{sym} has no {'HGNC' if not h else 'Ensembl'} id and no note saying why.",
                               "fill in the id, or explain in `note` why it is left empty")  # fmt: skip


def _check_set(sigs: SignatureSet, report: ValidationReport, ref: GeneReference | None, strict: bool) -> None:
    for s in sigs:
        file = s.source or s.id
        if strict and not _LOWER_ID.match(s.id):
            report.error(file, None, "id", f"id {s.id!r} is not lower snake case.", "rename it")
        if s.parent is not None and s.parent in sigs:
            parent = sigs[s.parent]
            pdir = dict(zip(parent.genes["symbol"], parent.genes["direction"]))
            for sym, d in zip(s.genes["symbol"], s.genes["direction"]):
                if pdir.get(sym) != d:
                    report.error(file, None, "symbol", f"{sym} ({d}) is not in the parent {parent.id!r} with that direction.",
                                 f"add it to {parent.id!r} with direction {d}, or remove it")  # fmt: skip
        if ref is None or s.feature_type != "gene":
            continue
        for sym, h, e in zip(s.genes["symbol"], s.genes["hgnc_id"], s.genes["ensembl_gene_id"]):
            _symbol_problem(report, f"{file} (signature {s.id})", None, sym, h, e, ref)


def _check_drugs(
    pc: ParsedCollection,
    sigs: SignatureSet,
    tables: dict[str, tuple[pd.DataFrame, list[int]]],
    report: ValidationReport,
    ref: GeneReference | None,
    display: str,
) -> dict[str, str]:
    """Return the name -> canonical drug lookup (empty without drugs.tsv)."""
    if "drugs" not in tables:
        return {}
    report.checks.append("drugs: unique names and synonyms, mechanism ids exist, signature drugs known")
    table, lines = tables["drugs"]
    file = f"{display}/{TABLES['drugs'][0]}"
    lookup: dict[str, str] = {}
    where: dict[str, int] = {}
    for ln, drug, syn in zip(lines, table["drug"], table["synonyms"]):
        if drug in where:
            report.error(
                file, ln, "drug", f"drug {drug} is listed twice (also line {where[drug]}).", "merge the rows"
            )
            continue
        where[drug] = ln
        for name in [drug, *[x for x in str(syn).split("|") if x.strip()]]:
            key = normalise_drug_name(name)
            if not key:
                continue
            if key in lookup and lookup[key] != drug:
                report.error(file, ln, "synonyms", f"{name!r} also names {lookup[key]} (line {where[lookup[key]]}).",
                             "give each synonym to one drug only")  # fmt: skip
            lookup.setdefault(key, drug)
    if "mechanism_ids" in table:
        for ln, drug, mids in zip(lines, table["drug"], table["mechanism_ids"]):
            for mid in split_ids(mids):
                if mid not in sigs:
                    report.error(file, ln, "mechanism_ids", f"{drug}: {mid!r} is not a signature id.",
                                 "use ids from signatures.yaml (rs.sig.list())")  # fmt: skip
    for s in sigs:
        for d in s.drugs:
            if d not in where:
                canonical = lookup.get(normalise_drug_name(d))
                fix = (
                    f"write the canonical name {canonical}"
                    if canonical
                    else "add the drug to drugs/drugs.tsv"
                )
                report.error(pc.yaml_display, pc.entry_line(s.id, "drugs"), f"signatures[{s.id}].drugs",
                             f"drug {d!r} is not a canonical drug of drugs/drugs.tsv.", fix)  # fmt: skip
    if "drug_genes" in tables:
        report.checks.append("drugs/drug_genes.tsv: drugs known, symbols approved, no gene twice per drug, "
                             "directions agree with the drug's mechanism signatures")  # fmt: skip
        mechs = (
            {d: split_ids(m) for d, m in zip(table["drug"], table["mechanism_ids"])}
            if "mechanism_ids" in table
            else {}
        )
        dg, dlines = tables["drug_genes"]
        dfile = f"{display}/{TABLES['drug_genes'][0]}"
        seen: dict[tuple[str, str], int] = {}
        dirs = dg["direction"] if "direction" in dg else pd.Series("", index=dg.index)
        for ln, drug, sym, direction in zip(dlines, dg["drug"], dg["symbol"], dirs):
            if drug not in where:
                report.error(dfile, ln, "drug", f"drug {drug!r} is not in drugs/drugs.tsv.",
                             "use a canonical drug name (column `drug` of drugs.tsv)")  # fmt: skip
            if (drug, sym) in seen:
                report.error(dfile, ln, "symbol", f"{sym} is listed twice for {drug} (also line {seen[drug, sym]}).",
                             "list each gene once per drug")  # fmt: skip
            seen.setdefault((drug, sym), ln)
            if ref is not None:
                _symbol_problem(report, dfile, ln, sym, "", "", ref)
            for mid in mechs.get(drug, []):
                s = sigs.get(mid)
                if s is not None and sym in s:
                    other = s.genes.loc[s.genes["symbol"] == sym, "direction"].iat[0]
                    if direction in ("up", "down") and other != direction:
                        report.warning(dfile, ln, "direction",
                                       f"{sym} is {direction} for {drug} but {other} in its mechanism signature {mid!r}.",
                                       "check which direction the evidence supports and make them agree")  # fmt: skip
    return lookup


def _check_directions(pc: ParsedCollection, sigs: SignatureSet, report: ValidationReport) -> None:
    """Warn when a gene is up in one signature and down in another (legitimate only with a stated reason)."""
    report.checks.append("directions: a gene has one direction across signatures (warning)")
    first: dict[str, tuple[str, str]] = {}
    for s in sigs:
        if s.feature_type != "gene":
            continue
        file, lines = pc.gene_lines.get(s.id, (s.id, [None] * len(s)))
        for ln, sym, d in zip(lines, s.genes["symbol"], s.genes["direction"]):
            if sym not in first:
                first[sym] = (d, s.id)
            elif first[sym][0] != d:
                report.warning(file, ln, "direction",
                               f"{sym} is {d} here but {first[sym][0]} in {first[sym][1]!r}.",
                               "check the evidence; if both are right, explain the difference in `note`")  # fmt: skip


def _check_inventory(
    sigs: SignatureSet,
    tables: dict[str, tuple[pd.DataFrame, list[int]]],
    lookup: dict[str, str],
    report: ValidationReport,
    ref: GeneReference | None,
    display: str,
) -> None:
    if "entities" not in tables:
        return
    report.checks.append("review inventory: each entity scored by existing signatures or given a reason")
    table, lines = tables["entities"]
    file = f"{display}/{TABLES['entities'][0]}"
    drug_ids = {f"drug.{d}" for d in set(lookup.values())}
    seen: dict[tuple[str, str], int] = {}
    for ln, row in zip(lines, table.to_dict("records")):
        ent, kind, status = row["entity"], row["kind"], row["status"]
        ids = split_ids(row["signature_ids"])
        key = (ent, kind)
        if key in seen:
            report.warning(file, ln, "entity", f"{ent} ({kind}) is listed twice (also line {seen[key]}).",
                           "merge the rows (list every section in review_section)")  # fmt: skip
        seen.setdefault(key, ln)
        for sid in ids:
            if sid not in sigs and sid not in drug_ids:
                report.error(file, ln, "signature_ids", f"{ent}: {sid!r} is not a signature id.",
                             "use ids from signatures.yaml (rs.sig.list()) or drug.<canonical drug>")  # fmt: skip
        if status == "scored":
            if not ids:
                report.error(file, ln, "signature_ids", f"{ent} is `scored` but names no signature.",
                             "list the signature ids that score it, or set status not_scored with a reason")  # fmt: skip
            if kind == "gene" and ref is not None and ent in ref.symbols:
                in_any = any(sid in sigs and ent in sigs[sid] for sid in ids)
                if ids and not in_any:
                    report.error(file, ln, "signature_ids", f"gene {ent} is in none of the signatures listed.",
                                 "add the gene to one of them or list the signature that holds it")  # fmt: skip
            if kind == "drug" and lookup and normalise_drug_name(ent) not in lookup:
                report.error(file, ln, "entity", f"drug {ent!r} is `scored` but not in drugs/drugs.tsv.",
                             "add it to drugs.tsv (or as a synonym of its canonical name)")  # fmt: skip
        else:
            if not str(row["reason"]).strip():
                what = (
                    "is not scored and no reason is given"
                    if status == "not_scored"
                    else "gives no correction"
                )
                report.error(file, ln, "reason", f"{ent} {what}.",
                             "say why it is not scored, or what the correction is (see CORRECTIONS.md)")  # fmt: skip


def _check_table2(
    tables: dict[str, tuple[pd.DataFrame, list[int]]],
    lookup: dict[str, str],
    report: ValidationReport,
    ref: GeneReference | None,
    display: str,
) -> None:
    if "table2" not in tables:
        return
    report.checks.append("Table 2: miRBase ids, HGNC targets, drugs known")
    table, lines = tables["table2"]
    file = f"{display}/{TABLES['table2'][0]}"
    for ln, row in zip(lines, table.to_dict("records")):
        for mid in split_ids(row.get("mirbase_id", "")):
            if not _MIRBASE.match(mid):
                report.error(file, ln, "mirbase_id", f"{mid!r} is not a human mature miRBase id.",
                             "write e.g. hsa-miR-21-5p")  # fmt: skip
        if ref is not None:
            for sym in split_ids(row.get("mir_gene_symbols", "")):
                if sym not in ref.symbols:
                    report.error(file, ln, "mir_gene_symbols", f"{sym} is not a current HGNC approved symbol.",
                                 ref.suggest(sym))  # fmt: skip
            for sym in split_ids(row.get("target_symbols", "")):
                if sym not in ref.symbols:
                    report.error(file, ln, "target_symbols", f"target {sym} is not a current HGNC approved symbol.",
                                 ref.suggest(sym))  # fmt: skip
        if lookup:
            for d in _iter_drugs(row.get("drugs", "")):
                if normalise_drug_name(d) not in lookup:
                    report.error(file, ln, "drugs", f"drug {d!r} is not in drugs/drugs.tsv.",
                                 "add it to drugs.tsv or write its canonical name")  # fmt: skip


def _check_table1(
    sigs: SignatureSet,
    tables: dict[str, tuple[pd.DataFrame, list[int]]],
    report: ValidationReport,
    ref: GeneReference | None,
    display: str,
) -> None:
    if "table1" not in tables:
        return
    report.checks.append("Table 1: HGNC genes, signature ids exist")
    table, lines = tables["table1"]
    file = f"{display}/{TABLES['table1'][0]}"
    for ln, row in zip(lines, table.to_dict("records")):
        if ref is not None:
            for sym in split_ids(row.get("genes", "")):
                if sym not in ref.symbols:
                    report.error(
                        file, ln, "genes", f"{sym} is not a current HGNC approved symbol.", ref.suggest(sym)
                    )
        for sid in split_ids(row.get("signature_ids", "")):
            if sid not in sigs:
                report.error(file, ln, "signature_ids", f"{sid!r} is not a signature id.",
                             "use ids from signatures.yaml (rs.sig.list())")  # fmt: skip


def _iter_drugs(cell: str) -> Iterable[str]:
    return [d for d in split_ids(cell) if d.strip()]


def _check_bcr(
    tables: dict[str, tuple[pd.DataFrame, list[int]]], report: ValidationReport, display: str
) -> None:
    if "bcr_abl1" not in tables:
        return
    report.checks.append("BCR-ABL1: one row per mutation, codes S/I/R/NA")
    from resistscore.sig._queries import _expand

    table, lines = tables["bcr_abl1"]
    file = f"{display}/{TABLES['bcr_abl1'][0]}"
    seen: dict[str, int] = {}
    for ln, mut in zip(lines, table["mutation"]):
        for name in _expand(mut):
            if name in seen:
                report.error(file, ln, "mutation", f"{name} is listed twice (also line {seen[name]}).",
                             "give each mutation one row")  # fmt: skip
            seen.setdefault(name, ln)
