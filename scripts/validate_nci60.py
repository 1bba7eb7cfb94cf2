#!/usr/bin/env python
"""NCI-60 validation of the drug-specific signatures (issue 14, item 9): signature vs best gene vs random sets.

For every drug of the drug map that the NCI DTP screen measured, the drug-specific signature
(``signatures/drugs/drug_genes.tsv``: genes, directions and weights) is scored on the NCI-60 lines with
singscore (resistscore's bulk default, no parameter chosen from these data) and associated with drug
sensitivity (``-log10 GI50``, higher = more sensitive) by Spearman's rho (``rs.tl.associate``, which ties
GI50 values censored at the tested limits). A resistance signature should correlate *negatively*.

Beside it, on the same lines and with the same method:

* the **best single gene** of the signature's own measured genes (each gene's expression, sign-flipped for
  ``down`` genes; the most negative rho). It is chosen *after* looking at the outcome, so its rho is
  optimistic: a post hoc maximum, not a prediction;
* a **null of random gene sets**: ``--n-random`` (default 1,000) sets drawn from the measured genes with the
  signature's number of genes, directions and weights, scored and associated in the same way. The
  percentile is the share of random sets whose rho is above (weaker than) the signature's; ``random_p``
  is the one-sided empirical p-value ``(1 + #random <= signature) / (1 + n)``.

Each analysis runs without adjustment and adjusted for proliferation (partial Spearman given the
``confounder.proliferation`` singscore, ``adjust=`` of ``rs.tl.associate``), for two collections: the
last 1.x collection (read from git history, ``git show <commit>:signatures/drugs/drug_genes.tsv``) and the
collection shipped now. Nothing is tuned on GI50: the signatures are as curated, the random seed is fixed
(``--seed``), and every drug of the map that NCI-60 screened is reported.

Usage::

    python scripts/validate_nci60.py [--data ../shared/data/nci60] [--out docs/validation_nci60.tsv]
                                     [--n-random 1000] [--drugs doxorubicin,cisplatin] [--seed 0]

Needs the NCI-60 files (``../shared/data/nci60``, see its README) and, for the 1.x collection, the git
history of the repository (or ``--before-table`` a copy of the old ``drug_genes.tsv``).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import resistscore as rs
from resistscore._atomic import atomic_write
from resistscore.sig._tables import shipped_table

ROOT = Path(__file__).resolve().parent.parent
TABLE = "signatures/drugs/drug_genes.tsv"
#: DTP names that the drug map's synonyms do not resolve (checked by hand: the same compound)
DTP_ALIASES = {"Dexamethasone Decadron": "dexamethasone"}
COLUMNS = [
    "collection",
    "drug",
    "nci60_drug",
    "adjusted_for",
    "n_lines",
    "n_genes",
    "n_measured",
    "signature_rho",
    "signature_p",
    "best_gene",
    "best_gene_rho",
    "random_median_rho",
    "random_percentile",
    "random_p",
    "n_random",
    "note",
]


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout


def last_1x_commit() -> tuple[str, str]:
    """The newest commit whose ``signatures/signatures.yaml`` has a 1.x collection version: ``(commit, version)``."""
    for commit in _git("log", "--format=%H", "--", "signatures/signatures.yaml").split():
        version = str(yaml.safe_load(_git("show", f"{commit}:signatures/signatures.yaml"))["version"])
        if version.startswith("1."):
            return commit, version
    raise SystemExit("no 1.x collection in the git history; pass --before-table")


def signatures_from_table(table: pd.DataFrame, drugs: list[str]) -> rs.sig.SignatureSet:
    """Drug signatures ``drug.<name>`` from a ``drug_genes.tsv`` table (signed weights: down genes negative)."""
    sets = {}
    for drug in drugs:
        rows = table[table["drug"] == drug]
        sign = np.where(rows["direction"] == "down", -1.0, 1.0)
        sets[f"drug.{drug}"] = dict(zip(rows["symbol"], sign * rows["weight"].astype(float)))
    return rs.sig.from_dict(sets)


def _structure(sig: rs.sig.Signature, measured: set[str]) -> tuple:
    """Number of genes, directions and weights of the measured part of a signature (what a random set keeps)."""
    g = sig.genes[sig.genes["symbol"].isin(measured)]
    return tuple(sorted(zip(g["direction"], g["weight"].astype(float))))


def random_scores(expr: pd.DataFrame, key: tuple, n: int, seed: int) -> pd.DataFrame:
    """Singscores of ``n`` random sets with the directions and weights of ``key`` (genes from the measured ones)."""
    rng = np.random.default_rng([seed, zlib.crc32(repr(key).encode())])
    genes = np.asarray(expr.columns)
    sets = {}
    for i in range(n):
        pick = rng.choice(genes, size=len(key), replace=False)
        sets[f"random:{i}"] = {g: (w if d == "up" else -w) for g, (d, w) in zip(pick, key)}
    res = rs.tl.score(expr, rs.sig.from_dict(sets), method="singscore", pvalues=False, progress=False)
    return res.scores


def _associate(scores: pd.DataFrame, response: pd.DataFrame, adjust) -> pd.Series:
    t = rs.tl.associate(scores, response, adjust=adjust).table
    return t.set_index("signature")[["effect", "pvalue", "n", "note"]]


def validate(
    data_dir: Path,
    *,
    n_random: int,
    seed: int,
    drugs: list[str] | None,
    before: pd.DataFrame,
    before_version: str,
) -> pd.DataFrame:
    data = rs.ds.nci60(data_dir)
    expr = data.expression.to_df()
    gi = data.gi50[data.gi50["cell_line"].isin(expr.index)]
    gi50 = gi.pivot_table(index="cell_line", columns="drug", values="neg_log10_gi50", aggfunc="mean")
    resolved = {}
    for name in gi50.columns:
        try:
            resolved[rs.sig.resolve_drug(DTP_ALIASES.get(name, name))] = name
        except rs.ResistScoreError:
            continue
    after = shipped_table("drug_genes")  # the shipped table, checked against the manifest
    conf = rs.tl.score(
        expr,
        rs.sig.confounders("confounder.proliferation"),
        method="singscore",
        pvalues=False,
        progress=False,
    ).scores
    measured = set(expr.columns)
    cache: dict[tuple, pd.DataFrame] = {}
    rows = []
    versions = [(before_version, before), (rs.sig.load().version, after)]
    for version, table in versions:
        wanted = [d for d in dict.fromkeys(table["drug"]) if d in resolved and (drugs is None or d in drugs)]
        sigs = signatures_from_table(table, wanted)
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", rs.LowCoverageWarning
            )  # reported as NaN rows (n_measured says why)
            sig_scores = rs.tl.score(expr, sigs, method="singscore", pvalues=False, progress=False).scores
        for drug in wanted:
            sig = sigs[f"drug.{drug}"]
            resp = gi50[[resolved[drug]]]
            key = _structure(sig, measured)
            if key not in cache:
                cache[key] = random_scores(expr, key, n_random, seed)
            rand = cache[key]
            g = sig.genes[sig.genes["symbol"].isin(measured)]
            signed = pd.DataFrame(
                {
                    f"gene:{s}": expr[s] * (-1.0 if d == "down" else 1.0)
                    for s, d in zip(g["symbol"], g["direction"])
                },
                index=expr.index,
            )
            block = pd.concat([sig_scores[[sig.id]], signed, rand], axis=1)
            for adjust, label in ((None, ""), (conf, "confounder.proliferation")):
                a = _associate(block, resp, adjust)
                s_rho = a.loc[sig.id, "effect"]
                genes = a.loc[signed.columns, "effect"].dropna()
                r = a.loc[rand.columns, "effect"].dropna().to_numpy()
                ok = np.isfinite(s_rho) and len(r)
                rows.append(
                    {
                        "collection": version,
                        "drug": drug,
                        "nci60_drug": resolved[drug],
                        "adjusted_for": label,
                        "n_lines": int(a.loc[sig.id, "n"]),
                        "n_genes": len(sig.genes),
                        "n_measured": len(g),
                        "signature_rho": s_rho,
                        "signature_p": a.loc[sig.id, "pvalue"],
                        "best_gene": genes.idxmin().removeprefix("gene:") if len(genes) else "",
                        "best_gene_rho": genes.min() if len(genes) else np.nan,
                        "random_median_rho": float(np.median(r)) if len(r) else np.nan,
                        "random_percentile": 100.0 * float(np.mean(r > s_rho)) if ok else np.nan,
                        "random_p": (1 + int(np.sum(r <= s_rho))) / (1 + len(r)) if ok else np.nan,
                        "n_random": len(r),
                        "note": a.loc[sig.id, "note"],
                    }
                )
    return pd.DataFrame(rows, columns=COLUMNS)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per collection and adjustment: how many drugs, in the expected direction, beyond the random sets."""
    rows = []
    for (version, adjusted), g in table.groupby(["collection", table["adjusted_for"].fillna("")], sort=False):
        g = g.dropna(subset=["signature_rho"])
        rows.append(
            {
                "collection": version,
                "adjusted for": adjusted.removeprefix("confounder.") or "-",
                "drugs": len(g),
                "rho < 0 (expected)": int((g["signature_rho"] < 0).sum()),
                "rho < 0, p < 0.05": int(((g["signature_rho"] < 0) & (g["signature_p"] < 0.05)).sum()),
                ">= 95th percentile of random sets": int((g["random_percentile"] >= 95).sum()),
                "median percentile": round(float(g["random_percentile"].median()), 1),
                "median rho": round(float(g["signature_rho"].median()), 3),
                "best gene stronger": int((g["best_gene_rho"] < g["signature_rho"]).sum()),
                "median best-gene rho": round(float(g["best_gene_rho"].median()), 3),
            }
        )
    return pd.DataFrame(rows)


def _markdown(df: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * df.shape[1]]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = Path(os.environ.get("RESISTSCORE_SHARED_DATA", ROOT.parent / "shared" / "data"))
    ap.add_argument(
        "--data",
        default=str(shared / "nci60"),
        help="the NCI-60 folder (default: $RESISTSCORE_SHARED_DATA/nci60)",
    )
    ap.add_argument("--out", default=str(ROOT / "docs" / "validation_nci60.tsv"))
    ap.add_argument("--n-random", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--drugs", default=None, help="comma-separated canonical drug names (default: every screened drug)"
    )
    ap.add_argument(
        "--before-table", default=None, help="drug_genes.tsv of the 1.x collection (default: from git)"
    )
    ap.add_argument("--before-version", default=None)
    args = ap.parse_args(argv)
    data = Path(args.data)
    if not data.is_dir():
        print(f"NCI-60 data not found at {data}; pass --data DIR", file=sys.stderr)
        return 2
    if args.before_table:
        before = pd.read_csv(args.before_table, sep="\t", keep_default_na=False)
        version = args.before_version or "1.x"
        print(f"1.x collection: {args.before_table} (version {version})")
    else:
        commit, version = last_1x_commit()
        before = pd.read_csv(io.StringIO(_git("show", f"{commit}:{TABLE}")), sep="\t", keep_default_na=False)
        print(f"1.x collection: {version} at commit {commit[:12]} ({TABLE})")
    drugs = [d.strip() for d in args.drugs.split(",")] if args.drugs else None
    table = validate(
        data, n_random=args.n_random, seed=args.seed, drugs=drugs, before=before, before_version=version
    )
    with atomic_write(args.out) as fh:
        table.to_csv(fh, sep="\t", index=False, float_format="%.4g")
    print(f"wrote {len(table)} rows to {args.out}\n")
    print(_markdown(summary(table)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
