"""Generative fuzzing and properties of gene harmonisation (``rs.pp.harmonize_genes``).

* Fuzz: any mix of identifier spellings (approved symbols, lower case, aliases, previous symbols,
  Ensembl ids with versions, Entrez ids, ambiguous ids, junk, empty, repeats) with any values (NaN
  included), any collapse rule, kept or dropped unmapped ids, DataFrame or AnnData (dense or sparse):
  the result equals an independent pandas reference built from the known gene of every spelling, the
  input is unchanged, the rule is recorded - or one ``ResistScoreError``.
* Properties: adding or removing other samples never changes a sample's collapsed values or its default
  score (bulk data with duplicated probes); renaming genes to aliases, previous symbols, Ensembl ids with
  versions, Entrez ids or lower case never changes the harmonised matrix, hence never a score.
"""

from __future__ import annotations

import functools
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp
from hypothesis import assume, given
from hypothesis import strategies as st

import resistscore as rs
from resistscore._errors import AmbiguousGeneWarning, GeneIdentifierError
from resistscore.pp import COLLAPSE_RULES, gene_table, harmonize_genes, map_genes
from resistscore.pp._harmonize import _MOUSE_SYMBOL

from ._fuzz import count_input, fuzz_settings

SIGNATURES = rs.sig.load(ids=["efflux_abc.abcb1", "apoptosis"])
AMBIGUOUS = ["MRP2", "LRP", "1-Mar", "2-Mar"]


@functools.cache
def _variants() -> dict[str, list[str]]:
    """Approved symbol -> spellings that map back to it alone (lower case, alias, previous, Ensembl.v, Entrez)."""
    t = gene_table()
    t = t[t["locus_group"] == "protein-coding gene"]
    sig_genes = sorted(set(rs.sig.to_long(SIGNATURES)["target"]))
    pool = sig_genes + [s for s in t["symbol"][::97] if s.isalnum()][:150]
    rows = t.set_index("symbol").reindex(pool)
    cand: dict[str, list[str]] = {}
    for g, r in rows.iterrows():
        if pd.isna(r["hgnc_id"]):
            continue
        ids = [g, g.lower()]
        ids += [a for a in str(r["alias_symbols"]).split("|") if a][:2]
        ids += [p for p in str(r["prev_symbols"]).split("|") if p][:2]
        if r["ensembl_gene_id"]:
            ids.append(f"{r['ensembl_gene_id']}.{7 + len(g) % 5}")
        if r["entrez_id"]:
            ids.append(str(r["entrez_id"]))
        # mouse-looking spellings (Abc1) vote for species='mouse' in the automatic species call
        cand[g] = [i for i in dict.fromkeys(ids) if not _MOUSE_SYMBOL.match(i)]
    flat = [(g, i) for g, ids in cand.items() for i in ids]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AmbiguousGeneWarning)
        table = map_genes([i for _, i in flat], species="human").table
    out: dict[str, list[str]] = {}
    for (g, i), sym in zip(flat, table["symbol"]):
        if sym == g:
            out.setdefault(g, []).append(i)
    return out


VARIANTS = _variants()
POOL = sorted(VARIANTS)
SIG_GENES = [g for g in sorted(set(rs.sig.to_long(SIGNATURES)["target"])) if g in VARIANTS]
FILLER = [g for g in POOL if g not in SIG_GENES]


# ------------------------------------------------------------------------------------------------
# fuzz against an independent reference


@st.composite
def identifiers(draw):
    """Column ids and the name each must end under (None: left out), from known spellings."""
    n = draw(st.integers(1, 10))
    ids, truth = [], []
    for _ in range(n):
        kind = draw(
            st.sampled_from(["variant", "variant", "variant", "repeat", "junk", "ambiguous", "empty"])
        )
        if kind == "variant" or (kind == "repeat" and not ids):
            g = draw(st.sampled_from(POOL))
            ids.append(draw(st.sampled_from(VARIANTS[g])))
            truth.append(g)
        elif kind == "repeat":
            k = draw(st.integers(0, len(ids) - 1))
            ids.append(ids[k])
            truth.append(truth[k])
        elif kind == "junk":
            name = "XQ_" + draw(st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=5))
            ids.append(name)
            truth.append(("unmapped", name))
        elif kind == "ambiguous":
            name = draw(st.sampled_from(AMBIGUOUS))
            ids.append(name)
            truth.append(("unmapped", name))
        else:
            ids.append("")
            truth.append(None)
    return ids, truth


def _reference(X: np.ndarray, truth: list, rule: str, drop: bool) -> pd.DataFrame:
    """pandas, from the known gene of every column: group, then collapse by the rule."""
    names = []
    for t in truth:
        if t is None or (isinstance(t, tuple) and drop):
            names.append(None)
        else:
            names.append(t[1] if isinstance(t, tuple) else t)
    keep = [j for j, n in enumerate(names) if n is not None]
    lab = pd.DataFrame(X[:, keep], columns=[names[j] for j in keep])
    order = list(dict.fromkeys(lab.columns))
    if rule == "mean":
        out = lab.T.groupby(level=0, sort=False).mean().T
    elif rule == "sum":
        out = lab.T.groupby(level=0, sort=False).sum(min_count=1).T
    elif rule == "first":
        out = lab.loc[:, ~lab.columns.duplicated()]
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            means = np.nanmean(lab.to_numpy(), axis=0) if lab.shape[0] else np.zeros(lab.shape[1])
        means = np.where(np.isnan(means), -np.inf, means)
        pick: dict[str, int] = {}
        for j, s in enumerate(lab.columns):
            if s not in pick or means[j] > means[pick[s]]:
                pick[s] = j
        out = lab.iloc[:, [pick[s] for s in order]]
    return out[order]


@fuzz_settings(1400)
@given(
    cols=identifiers(),
    seed=st.integers(0, 2**32 - 1),
    n_samples=st.integers(1, 6),
    rule=st.sampled_from(sorted(COLLAPSE_RULES)),
    drop=st.booleans(),
    container=st.sampled_from(["frame", "anndata", "sparse"]),
    nan_share=st.sampled_from([0.0, 0.0, 0.3]),
)
def test_harmonize_matches_an_independent_reference(cols, seed, n_samples, rule, drop, container, nan_share):
    count_input("harmonize")
    ids, truth = cols
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(6, 3, size=(n_samples, len(ids))), 3)
    if container != "sparse":
        X[rng.random(X.shape) < nan_share] = np.nan
    else:
        X[rng.random(X.shape) < 0.4] = 0.0
    samples = [f"s{i}" for i in range(n_samples)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AmbiguousGeneWarning)
        warnings.filterwarnings("ignore", message=".*names are not unique.*")  # anndata on repeated ids
        if container == "frame":
            data = pd.DataFrame(X, index=samples, columns=ids)
            before = data.copy()
        else:
            data = ad.AnnData(
                X=sp.csr_matrix(X) if container == "sparse" else X.copy(),
                obs=pd.DataFrame(index=samples),
                var=pd.DataFrame({"note": [f"n{j}" for j in range(len(ids))]}, index=ids),
            )
            before = data.copy()
        try:
            out, rep = harmonize_genes(data, probe_collapse=rule, drop_unmapped=drop)
        except GeneIdentifierError as err:
            assert all(t is None or isinstance(t, tuple) for t in truth), err  # nothing maps: our error
            return
    expected = _reference(X, truth, rule, drop)
    if container == "frame":
        pd.testing.assert_frame_equal(data, before)  # the input is never changed
        got = out
    else:
        np.testing.assert_array_equal(
            data.X.toarray() if sp.issparse(data.X) else data.X,
            before.X.toarray() if sp.issparse(before.X) else before.X,
        )
        assert list(data.var_names) == list(before.var_names)
        got = pd.DataFrame(
            out.X.toarray() if sp.issparse(out.X) else np.asarray(out.X), columns=list(out.var_names)
        )
        assert out.uns["resistscore"]["gene_mapping"]["collapse_rule"] == rule
        assert list(out.var["hgnc_id"] != "") == [c in VARIANTS for c in out.var_names]
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_allclose(
        got.to_numpy(dtype=float), expected.to_numpy(dtype=float), rtol=1e-12, equal_nan=True
    )
    assert rep.collapse_rule == rule and rep.unmapped_kept is (not drop)
    assert rep.collapse_single_sample is (rule != "max_mean")


# ------------------------------------------------------------------------------------------------
# properties


def _bulk_with_probes(rng: np.random.Generator, n_samples: int, n_dup: int) -> pd.DataFrame:
    """Log-expression of every signature gene and fillers, some genes measured by several spellings (probes)."""
    genes = SIG_GENES + FILLER[:60]
    cols = list(genes)
    for g in rng.choice(genes, size=n_dup, replace=True):
        cols.append(str(rng.choice(VARIANTS[g])))
    X = rng.normal(7, 2, size=(n_samples, len(cols)))
    return pd.DataFrame(X, index=[f"S{i:02d}" for i in range(n_samples)], columns=cols)


@fuzz_settings(80)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_samples=st.integers(2, 12),
    n_dup=st.integers(1, 30),
    subset=st.lists(st.integers(0, 11), min_size=1, max_size=12, unique=True),
)
def test_a_samples_values_never_depend_on_the_other_samples(seed, n_samples, n_dup, subset):
    subset = sorted(i for i in subset if i < n_samples)
    assume(subset)
    count_input("harmonize")
    df = _bulk_with_probes(np.random.default_rng(seed), n_samples, n_dup)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AmbiguousGeneWarning)
        full, _ = harmonize_genes(df)
        part, rep = harmonize_genes(df.iloc[subset])
    assert rep.collapse_rule == "mean" and rep.n_collapsed > 0
    pd.testing.assert_frame_equal(part, full.iloc[subset], check_exact=True)
    s_full = rs.tl.score(full, SIGNATURES, pvalues=False).scores
    s_part = rs.tl.score(part, SIGNATURES, pvalues=False).scores
    pd.testing.assert_frame_equal(s_part, s_full.iloc[subset], check_exact=True)


@fuzz_settings(100)
@given(
    seed=st.integers(0, 2**32 - 1),
    renames=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), min_size=1, max_size=40),
)
def test_renaming_genes_never_changes_the_harmonised_matrix(seed, renames):
    count_input("harmonize")
    rng = np.random.default_rng(seed)
    genes = SIG_GENES + FILLER[:60]
    X = rng.normal(7, 2, size=(6, len(genes)))
    original = pd.DataFrame(X, index=[f"S{i}" for i in range(6)], columns=genes)
    renamed = original.copy()
    cols = list(genes)
    for where, which in renames:
        j = where % len(cols)
        spellings = VARIANTS[genes[j]]
        cols[j] = spellings[which % len(spellings)]
    renamed.columns = cols
    with warnings.catch_warnings():
        warnings.simplefilter("error", AmbiguousGeneWarning)  # every spelling here names one gene
        a, _ = harmonize_genes(original)
        b, rep = harmonize_genes(renamed)
    assert rep.species == "human"
    pd.testing.assert_frame_equal(b, a, check_exact=True)
    pd.testing.assert_frame_equal(
        rs.tl.score(b, SIGNATURES, pvalues=False).scores, rs.tl.score(a, SIGNATURES, pvalues=False).scores
    )
