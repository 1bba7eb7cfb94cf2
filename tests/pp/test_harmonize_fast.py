"""The fast name-only harmonisation (``GeneCollapse.from_names``, issue 12 item 5) equals the matrix route.

``GeneCollapse.from_names`` maps names without building a matrix, ``map_genes`` resolves plain approved
symbols without the per-identifier resolver, and the HGNC lookups are read from 6 columns with pyarrow and
built on first use. Each is compared here with the route it replaced, on real gene names: the shipped HGNC
table (approved, alias, previous, withdrawn symbols, other cases, Ensembl and Entrez ids), the NCI-60
array's symbol column (``nci60_dir``) and the benchmark's 20,000 names when present.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import resistscore._gene_tables as gt
from resistscore._errors import AmbiguousGeneWarning
from resistscore.pp import GeneCollapse, gene_table, harmonize_genes, map_genes
from resistscore.pp._harmonize import _classify, _Hit, _joined_by_gene, _resolve_one

BENCH_GENES = Path("/tmp/resistscore-bench/genes.txt")
COLUMNS = ["input_id", "id_type", "symbol", "hgnc_id", "step", "candidates", "note"]


def _real_names(n: int = 6000, seed: int = 0) -> list[str]:
    """Approved symbols and, mixed in, what real files hold instead: aliases, old symbols, other cases, ids."""
    rng = np.random.default_rng(seed)
    g = gene_table()
    w = gene_table("withdrawn")
    pick = lambda values, k: list(rng.choice(np.asarray(values, dtype=object), size=k, replace=False))  # noqa: E731
    split = lambda col: sorted({x for v in g[col] for x in v.split("|") if x})  # noqa: E731
    names = pick(g["symbol"], n)
    names += pick(split("alias_symbols"), n // 10) + pick(split("prev_symbols"), n // 10)
    names += [s.lower() for s in pick(g["symbol"], n // 20)] + pick(w["withdrawn_symbol"], n // 20)
    names += [e + ".7" for e in pick([e for e in g["ensembl_gene_id"] if e], n // 40)]
    names += pick([e for e in g["entrez_id"] if e], n // 40)
    names += ["1-Mar", "7-Sep", "Sep-07", "2024-09-07", "ABCB1", "MDR1", "", "NOT_A_GENE", "1007_s_at"]
    names += names[:50]  # repeated identifiers collapse into one gene
    return [str(x) for x in rng.permutation(np.asarray(names, dtype=object))]


def _nci60_symbols(nci60_dir) -> list[str]:
    d = pd.read_csv(nci60_dir / "expression_u133a_gcrma.csv.gz", usecols=["symbol"], dtype=str)
    return d["symbol"].fillna("").tolist()


def _old_from_names(ids, probe_collapse="mean", means=None):
    """The route ``from_names`` took before: ``harmonize_genes`` on an identity matrix named by ``ids``."""
    X = sp.identity(len(ids), format="csr", dtype=np.float64)
    if probe_collapse == "max_mean":  # one sample: the column means are `means` (NaN where NaN)
        X = np.asarray(means, dtype=np.float64)[None, :]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not unique.*", category=UserWarning)
        eye = ad.AnnData(
            X,
            obs=pd.DataFrame(index=pd.RangeIndex(X.shape[0]).astype(str)),
            var=pd.DataFrame(index=pd.Index(ids)),
        )
        out, report = harmonize_genes(eye, probe_collapse=probe_collapse)
    if probe_collapse != "max_mean":
        return sp.csr_matrix(sp.csr_matrix(out.X) != 0, dtype=np.float64), out.var_names, report
    # the identifier kept for each gene, from the report: its symbol, or its own name when unmapped
    t = report.table
    kept = np.flatnonzero(t["kept"].to_numpy())
    genes = out.var_names.get_indexer(np.where(t["symbol"] != "", t["symbol"], t["input_id"])[kept])
    M = sp.csr_matrix((np.ones(len(kept)), (kept, genes)), shape=(len(ids), len(out.var_names)))
    return M, out.var_names, report


def _assert_same_collapse(ids, probe_collapse="mean", means=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AmbiguousGeneWarning)
        new = GeneCollapse.from_names(ids, probe_collapse, means=means)
        M, var_names, report = _old_from_names(ids, probe_collapse, means)
    pd.testing.assert_frame_equal(new.report.table, report.table)
    assert new.report.to_dict() == report.to_dict()
    assert new.report.params == report.params
    assert list(new.var_names) == list(var_names)
    assert new.M.shape == M.shape and new.M.dtype == M.dtype and (new.M != M).nnz == 0


def _slow_rows(ids) -> pd.DataFrame:
    """Every identifier through the per-identifier resolver (what ``map_genes`` did for each of them)."""
    idx = gt.hgnc_index()
    rows = []
    for x in ids:
        kind = _classify(x)
        kind = "symbol" if kind == "probe" else kind
        hit = _resolve_one(x, kind, idx, None) if x else _Hit(None, "unmapped", note="empty identifier")
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
    return pd.DataFrame(rows, columns=COLUMNS)


def test_lookup_columns_read_with_pyarrow_equal_the_gene_table():
    for which, names in [
        ("hgnc", gt._HGNC_COLUMNS),
        ("withdrawn", ("withdrawn_symbol", "successor_symbols")),
        ("mouse", ("mgi_id", "mouse_symbol", "mouse_synonyms", "human_symbol", "mouse_ensembl_gene_id")),
    ]:
        fast = gt._columns(which, names)
        table = gene_table(which)
        for c in names:
            assert fast[c] == table[c].tolist(), (which, c)


def test_lazy_index_equals_the_lookups_built_from_the_whole_table():
    g, w = gene_table(), gene_table("withdrawn")

    def keyed(lists, owners, upper=False):
        out: dict[str, set[str]] = {}
        for lst, owner in zip(lists, owners):
            for x in filter(None, lst.split("|")):
                out.setdefault(x.upper() if upper else x, set()).add(owner)
        return out

    idx = gt.hgnc_index()
    assert idx.hgnc_id == dict(zip(g["symbol"], g["hgnc_id"]))
    assert idx.upper == {s.upper(): s for s in g["symbol"]}
    assert idx.alias == keyed(g["alias_symbols"], g["symbol"])
    assert idx.alias_upper == keyed(g["alias_symbols"], g["symbol"], upper=True)
    assert idx.prev == keyed(g["prev_symbols"], g["symbol"])
    assert idx.prev_upper == keyed(g["prev_symbols"], g["symbol"], upper=True)
    wd: dict[str, set[str]] = {}
    for sym, succ in zip(w["withdrawn_symbol"], w["successor_symbols"]):
        for s in filter(None, succ.split("|")):
            wd.setdefault(sym, set()).add(s)
    assert idx.withdrawn == wd
    assert idx.ensembl == {e: s for e, s in zip(g["ensembl_gene_id"], g["symbol"]) if e}
    assert idx.entrez == {e: s for e, s in zip(g["entrez_id"], g["symbol"]) if e}


def test_map_genes_equals_the_per_identifier_resolver_on_real_names():
    ids = _real_names()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AmbiguousGeneWarning)
        table = map_genes(ids, species="human").table
    pd.testing.assert_frame_equal(table[COLUMNS], _slow_rows(ids))
    # every approved symbol (the fast path's domain), including those that are also someone's alias
    symbols = gene_table()["symbol"].tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AmbiguousGeneWarning)
        table = map_genes(symbols, species="human").table
    pd.testing.assert_frame_equal(table[COLUMNS], _slow_rows(symbols))


@pytest.mark.parametrize("rule", ["mean", "sum", "first", "max_mean"])
def test_from_names_equals_harmonize_genes_on_an_identity_matrix(rule):
    ids = _real_names(2000, seed=1)
    means = np.random.default_rng(2).normal(size=len(ids)) if rule == "max_mean" else None
    if means is not None:
        means[::17] = np.nan
    _assert_same_collapse(ids, rule, means)


def test_from_names_equals_the_matrix_route_on_nci60_symbols(nci60_dir):
    _assert_same_collapse(_nci60_symbols(nci60_dir))


@pytest.mark.skipif(not BENCH_GENES.is_file(), reason=f"benchmark gene list {BENCH_GENES} not present")
def test_from_names_equals_the_matrix_route_on_the_benchmark_genes():
    _assert_same_collapse(BENCH_GENES.read_text().split())


def test_joined_input_ids_equal_a_pandas_groupby():
    rng = np.random.default_rng(3)
    groups = rng.integers(-1, 40, size=300)
    groups[:40] = np.arange(40)
    ids = [f"id{i}" for i in range(300)]
    member = groups >= 0
    expected = pd.Series(ids)[member].groupby(groups[member]).agg("|".join).sort_index().tolist()
    assert _joined_by_gene(ids, groups, 40) == expected


def test_from_names_builds_no_matrix_and_reads_no_whole_table():
    # names are mapped without an AnnData and the lookups without the 11-column DataFrame; the index of
    # approved symbols does not build the case-insensitive lookups (a fresh process: nothing cached)
    code = (
        "import anndata, sys\n"
        "import resistscore as rs, resistscore._gene_tables as gt\n"
        "def refuse(*a, **k):\n    raise AssertionError('built an AnnData')\n"
        "anndata.AnnData.__init__ = refuse\n"
        "c = rs.pp.GeneCollapse.from_names(['ABCB1', 'ABCG2', 'TP53', 'MDR1'])\n"
        "assert list(c.var_names) == ['ABCB1', 'ABCG2', 'TP53'], list(c.var_names)\n"
        "print(gt._load.cache_info().currsize, sorted(k for k in vars(gt.hgnc_index()) if not k.startswith('_')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split(" ", 1)
    assert out[0] == "0"  # gene_table()'s DataFrame was never read
    assert "alias_upper" not in out[1] and "prev_upper" not in out[1]
