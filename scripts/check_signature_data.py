#!/usr/bin/env python
"""Curator's self-check of the signature data in ``signatures/`` (fast, no network).

Checks the file-format contract described in ``signatures/README.md``: headers, allowed values,
unique ids, no duplicate gene in a file, child signatures a subset of their parent with the same
direction, every drug known to ``drugs/drugs.tsv``, every gene symbol a current approved HGNC
symbol with the identifiers of the shipped HGNC table, the review inventory, Tables 1 and 2 and
the BCR-ABL1 table. The formal tests live in ``tests/sig``; this script is the curator's quick
loop. Exit status 1 and one line per problem when anything is wrong.

Usage::

    python scripts/check_signature_data.py
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import yaml

from resistscore.pp import gene_table
from resistscore.sig import GENE_COLUMNS

ROOT = Path(__file__).resolve().parent.parent / "signatures"
GENE_HEADER = list(GENE_COLUMNS)
SOURCES = {"review", "msigdb", "reactome", "go", "kegg", "literature"}
ID_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
MIRBASE = re.compile(r"^hsa-(miR|let)-[0-9a-z]+(-[35]p)?$")


def read_tsv(path: Path) -> tuple[list[str], list[dict]]:
    """Read a TSV as (header, rows as dicts)."""
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    header, body = rows[0], rows[1:]
    return header, [dict(zip(header, r)) for r in body if len(r) == len(header)] + [
        {"__bad__": r} for r in body if len(r) != len(header)
    ]


def main() -> int:
    problems: list[str] = []
    p = problems.append
    table = gene_table()
    approved = {r.symbol: (r.hgnc_id, r.ensembl_gene_id) for r in table.itertuples()}

    doc = yaml.safe_load((ROOT / "signatures.yaml").read_text())
    for key in ("schema_version", "collection", "version", "review", "signatures"):
        if key not in doc:
            p(f"signatures.yaml: missing top-level key {key}")
    drugs_header, drugs = read_tsv(ROOT / "drugs" / "drugs.tsv")
    want = ["drug", "synonyms", "drug_class", "mechanism_ids", "review_sections", "note", "references"]
    if drugs_header != want:
        p(f"drugs.tsv header {drugs_header} != {want}")
    drug_names = {d["drug"] for d in drugs}
    names_and_syn: dict[str, str] = {}
    for d in drugs:
        for n in [d["drug"], *filter(None, d["synonyms"].split("|"))]:
            if n != n.lower():
                p(f"drugs.tsv: {n!r} is not lower case")
            if n in names_and_syn and names_and_syn[n] != d["drug"]:
                p(f"drugs.tsv: name {n!r} used by {names_and_syn[n]} and {d['drug']}")
            names_and_syn[n] = d["drug"]

    sigs = {s["id"]: s for s in doc["signatures"]}
    if len(sigs) != len(doc["signatures"]):
        p("signatures.yaml: duplicate signature ids")
    genes_of: dict[str, dict[str, dict]] = {}
    for s in doc["signatures"]:
        sid = s["id"]
        for key in (
            "id",
            "version",
            "name",
            "parent",
            "mechanism",
            "description",
            "review_section",
            "drugs",
            "references",
            "min_coverage",
            "genes",
        ):
            if key not in s:
                p(f"{sid}: missing key {key}")
        if not ID_RE.match(sid):
            p(f"{sid}: id is not lower snake case with dots")
        if not SEMVER.match(str(s["version"])):
            p(f"{sid}: version {s['version']} is not semantic")
        if s["parent"] is not None and s["parent"] not in sigs:
            p(f"{sid}: parent {s['parent']} unknown")
        if s["parent"] is not None and not sid.startswith(s["parent"] + "."):
            p(f"{sid}: id does not extend its parent's id")
        if s["mechanism"] not in sigs or sigs[s["mechanism"]]["parent"] is not None:
            p(f"{sid}: mechanism {s['mechanism']} is not a top-level signature id")
        if not (0 < float(s["min_coverage"]) <= 1):
            p(f"{sid}: min_coverage out of (0, 1]")
        if not s["references"] or not all(str(r).strip() for r in s["references"]):
            p(f"{sid}: empty references")
        if not s["drugs"]:
            p(f"{sid}: no drugs")
        for d in s["drugs"]:
            if d not in drug_names:
                p(f"{sid}: drug {d} not in drugs.tsv")
        feature = s.get("feature_type", "gene")
        path = ROOT / s["genes"]
        if not path.exists():
            p(f"{sid}: genes file {s['genes']} missing")
            continue
        header, rows = read_tsv(path)
        if header != GENE_HEADER:
            p(f"{s['genes']}: header {header}")
        seen: dict[str, dict] = {}
        for r in rows:
            if "__bad__" in r:
                p(f"{s['genes']}: malformed row {r['__bad__']}")
                continue
            sym = r["symbol"]
            if sym in seen:
                p(f"{s['genes']}: {sym} twice")
            seen[sym] = r
            if r["direction"] not in ("up", "down"):
                p(f"{s['genes']}: {sym} direction {r['direction']}")
            try:
                w = float(r["weight"])
                if not (0 < w <= 1):
                    raise ValueError
            except ValueError:
                p(f"{s['genes']}: {sym} weight {r['weight']}")
            if r["evidence_source"] not in SOURCES:
                p(f"{s['genes']}: {sym} evidence_source {r['evidence_source']}")
            if not r["evidence"].strip():
                p(f"{s['genes']}: {sym} empty evidence")
            if r["confidence"] not in ("high", "medium", "low"):
                p(f"{s['genes']}: {sym} confidence {r['confidence']}")
            if feature == "gene":
                if sym not in approved:
                    p(f"{s['genes']}: {sym} is not an approved HGNC symbol")
                elif (r["hgnc_id"], r["ensembl_gene_id"]) != approved[sym]:
                    p(
                        f"{s['genes']}: {sym} ids differ from the HGNC table (run scripts/fill_signature_ids.py)"
                    )
            else:
                if not MIRBASE.match(sym):
                    p(f"{s['genes']}: {sym} is not a miRBase human mature name")
                if not r["hgnc_id"] and "no single HGNC id" not in r["note"]:
                    p(f"{s['genes']}: {sym} has no HGNC id and no note saying why")
        genes_of[sid] = seen
    for sid, s in sigs.items():
        par = s["parent"]
        if par in sigs and set(s["drugs"]) - set(sigs[par]["drugs"]):
            p(f"{sid}: drugs {sorted(set(s['drugs']) - set(sigs[par]['drugs']))} not listed by parent {par}")
        if par and sid in genes_of and par in genes_of:
            for sym, r in genes_of[sid].items():
                pr = genes_of[par].get(sym)
                if pr is None:
                    p(f"{sid}: {sym} missing from parent {par}")
                elif pr["direction"] != r["direction"]:
                    p(f"{sid}: {sym} direction differs from parent {par}")
    for d in drugs:
        for m in filter(None, d["mechanism_ids"].split(",")):
            if m not in sigs:
                p(f"drugs.tsv: {d['drug']} mechanism {m} unknown")
            elif d["drug"] not in sigs[m]["drugs"]:
                p(f"drugs.tsv: {d['drug']} lists {m} but that signature does not list the drug")
        if not d["references"].strip() and not d["note"].strip():
            p(f"drugs.tsv: {d['drug']} has neither note nor references")

    header, dg = read_tsv(ROOT / "drugs" / "drug_genes.tsv")
    if header != ["drug", "symbol", "direction", "weight", "evidence", "note"]:
        p(f"drug_genes.tsv header {header}")
    pairs = set()
    for r in dg:
        if r["drug"] not in drug_names:
            p(f"drug_genes.tsv: drug {r['drug']} unknown")
        if r["symbol"] not in approved:
            p(f"drug_genes.tsv: {r['symbol']} not approved")
        if (r["drug"], r["symbol"]) in pairs:
            p(f"drug_genes.tsv: {r['drug']} {r['symbol']} twice")
        pairs.add((r["drug"], r["symbol"]))
        if r["direction"] not in ("up", "down") or not (0 < float(r["weight"]) <= 1) or not r["evidence"]:
            p(f"drug_genes.tsv: bad row {r}")
    # a gene's direction is the same in every signature and in the drug map
    direction: dict[str, set[str]] = {}
    for sid, rows in genes_of.items():
        if sigs[sid].get("feature_type", "gene") == "gene":
            for sym, r in rows.items():
                direction.setdefault(sym, set()).add(r["direction"])
    for sym, ds in direction.items():
        if len(ds) > 1:
            p(f"{sym}: direction differs between signatures {ds}")
    for r in dg:
        if r["symbol"] in direction and {r["direction"]} != direction[r["symbol"]]:
            p(f"drug_genes.tsv: {r['drug']} {r['symbol']} direction differs from the signatures")

    review = ROOT / "review"
    header, ents = read_tsv(review / "entities.tsv")
    if header != ["entity", "kind", "review_section", "status", "signature_ids", "reason"]:
        p(f"entities.tsv header {header}")
    kinds = {"gene", "protein", "protein_family", "pathway", "mirna", "drug", "process", "other"}
    for e in ents:
        if "__bad__" in e:
            p(f"entities.tsv: malformed row {e['__bad__']}")
            continue
        if e["kind"] not in kinds:
            p(f"entities.tsv: {e['entity']} kind {e['kind']}")
        if e["status"] not in ("scored", "not_scored", "corrected"):
            p(f"entities.tsv: {e['entity']} status {e['status']}")
        ids = [x for x in e["signature_ids"].split(",") if x]
        for x in ids:
            if x not in sigs:
                p(f"entities.tsv: {e['entity']} signature {x} unknown")
        if e["status"] == "scored" and not ids:
            p(f"entities.tsv: {e['entity']} scored but no signature id")
        if e["status"] != "scored" and not e["reason"].strip():
            p(f"entities.tsv: {e['entity']} {e['status']} without reason")
        if e["kind"] == "drug" and e["entity"].lower() not in names_and_syn:
            p(f"entities.tsv: drug {e['entity']} not a drug name or synonym in drugs.tsv")

    header, t2 = read_tsv(review / "table2_mirna.tsv")
    for col in (
        "mirna_review_name",
        "mirbase_id",
        "target_symbols",
        "tumour",
        "drugs",
        "direction_in_resistance",
        "evidence",
    ):
        if col not in header:
            p(f"table2_mirna.tsv: column {col} missing")
    mirna_sig = {
        sym: r
        for sid, rows in genes_of.items()
        if sigs[sid].get("feature_type") == "mirna"
        for sym, r in rows.items()
    }
    for r in t2:
        if r["direction_in_resistance"] not in ("up", "down", "context", "unclear"):
            p(f"table2: {r['mirbase_id']} direction {r['direction_in_resistance']}")
        for t in filter(None, r["target_symbols"].split(",")):
            if t not in approved:
                p(f"table2: target {t} not approved")
        for d in filter(None, r["drugs"].split(",")):
            if d not in drug_names:
                p(f"table2: drug {d} unknown")
        if r["direction_in_resistance"] in ("up", "down"):
            m = mirna_sig.get(r["mirbase_id"])
            if m is None or m["direction"] != r["direction_in_resistance"]:
                p(
                    f"table2: {r['mirbase_id']} not in the miRNA signature with direction {r['direction_in_resistance']}"
                )
        elif r["mirbase_id"] in mirna_sig:
            p(f"table2: {r['mirbase_id']} has no clear direction but is scored")

    header, t1 = read_tsv(review / "table1_disease_pathways.tsv")
    for r in t1:
        for g in filter(None, r.get("genes", "").split(",")):
            if g not in approved:
                p(f"table1: gene {g} not approved")
        for x in filter(None, r.get("signature_ids", "").split(",")):
            if x not in sigs:
                p(f"table1: signature {x} unknown")

    header, bcr = read_tsv(ROOT / "bcr_abl1" / "kinase_domain_mutations.tsv")
    tkis = ["imatinib", "nilotinib", "dasatinib", "bosutinib", "ponatinib", "asciminib"]
    if header != ["mutation", "region", *tkis, "note", "references"]:
        p(f"kinase_domain_mutations.tsv header {header}")
    for r in bcr:
        for t in tkis:
            if r[t] not in ("S", "I", "R", "NA"):
                p(f"bcr_abl1: {r['mutation']} {t}={r[t]}")
        if not r["references"].strip():
            p(f"bcr_abl1: {r['mutation']} without references")

    if not (ROOT / "CORRECTIONS.md").exists():
        p("CORRECTIONS.md missing")
    for msg in problems:
        print(msg)
    n_genes = sum(len(v) for v in genes_of.values())
    print(
        f"{len(sigs)} signatures, {n_genes} gene rows, {len(drugs)} drugs, {len(dg)} drug-gene rows, {len(ents)} entities: {len(problems)} problem(s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
