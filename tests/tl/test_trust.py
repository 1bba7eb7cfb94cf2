"""Regression tests of issue 10 (scoring and statistics): each fails on the code before the fix."""

from __future__ import annotations

import os
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import resistscore as rs
from resistscore.tl import _chunks
from resistscore.tl.stats._results import bh_fdr

GENES = [f"G{i}" for i in range(300)]
SIGS = {"up": GENES[:10], "signed": {**dict.fromkeys(GENES[20:28], 1.0), **dict.fromkeys(GENES[40:46], -1.0)}}
METHODS = ["singscore", "ucell", "aucell", "ssgsea", "gsva", "module_score", "wmean", "ulm"]


def _bulk(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.normal(6.0, 1.0, (n, len(GENES))), index=[f"s{i}" for i in range(n)], columns=GENES
    )


def _cells(n=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.poisson(rng.gamma(0.3, 1.0, len(GENES)), size=(n, len(GENES))).astype(np.float32)
    X[:, 0] += 1  # every cell has some expression
    return X


# ---- item 5: a sample (or cell) without information gets NaN with a reason, never an extreme score ------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", ["zero", "nan", "constant"])
def test_unscorable_sample_gets_nan_reason_and_warning(method, bad):
    df = _bulk()
    df.loc["s3"] = {"zero": 0.0, "nan": np.nan, "constant": 7.5}[bad]
    with pytest.warns(rs.UnscorableSampleWarning, match="s3"):
        res = rs.tl.score(df, SIGS, method, n_controls=30)
    assert res.scores.loc["s3"].isna().all()
    assert res.pvalues.loc["s3"].isna().all() and res.fdr.loc["s3"].isna().all()
    assert res.scores.drop(index="s3").notna().all().all()
    assert list(res.unscored.index) == ["s3"]
    assert {"zero": "zero", "nan": "NaN", "constant": "same value"}[bad] in res.unscored.loc["s3", "reason"]
    assert (res.tidy().query("sample == 's3'")["note"].str.startswith("sample not scored")).all()
    # the others are scored as if the sample were not there (single-sample methods: exactly)
    if method in ("singscore", "ucell", "aucell", "wmean", "ulm"):
        alone = rs.tl.score(df.drop(index="s3"), SIGS, method, pvalues=False)
        pd.testing.assert_frame_equal(res.scores.drop(index="s3"), alone.scores)
    # and left out of the FDR family: the FDR is BH over the other samples' p-values only (per signature)
    others = res.pvalues.drop(index="s3").to_numpy()
    per_signature = np.column_stack([bh_fdr(others[:, j]) for j in range(others.shape[1])])
    np.testing.assert_allclose(res.fdr.drop(index="s3").to_numpy(), per_signature, rtol=1e-12)


def test_unscorable_cells_sparse_backed_and_pooled_null(tmp_path):
    X = _cells()
    X[[5, 17]] = 0.0
    adata = ad.AnnData(sp.csr_matrix(X), obs=pd.DataFrame(index=[f"c{i}" for i in range(len(X))]))
    adata.var_names = GENES
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    with pytest.warns(rs.UnscorableSampleWarning, match="2 of 80 cells"):
        res = rs.tl.score(str(path), SIGS, n_controls=20, chunk_size=7, harmonize=False)
    assert res.method == "ucell" and res.null == "pooled"
    assert list(res.unscored.index) == ["c5", "c17"]
    assert res.scores.loc[["c5", "c17"]].isna().all().all() and res.fdr.loc[["c5", "c17"]].isna().all().all()
    assert res.scores.drop(index=["c5", "c17"]).notna().all().all()
    with pytest.warns(rs.UnscorableSampleWarning):
        rs.tl.score(adata, SIGS, n_controls=20)
    assert adata.uns["resistscore"]["unscored"] == {
        "sample": ["c5", "c17"],
        "reason": [res.unscored.loc["c5", "reason"]] * 2,
    }
    assert rs.tl.contributions(adata, "c1", "up").shape[0] == 10  # the stored result still explains itself


def test_partial_nan_and_inf_are_still_errors():
    df = _bulk()
    df.iloc[2, 5] = np.nan
    with pytest.raises(rs.InputFormatError, match="impute or drop"):
        rs.tl.score(df, SIGS, pvalues=False)
    df.iloc[2, 5] = np.inf
    with pytest.raises(rs.InputFormatError, match="NaN or infinite"):
        rs.tl.score(df, SIGS, pvalues=False)


# ---- item 10: errors of ours, naming the fix -------------------------------------------------------------
def test_multiindex_rows_or_columns_are_refused_with_the_fix():
    df = _bulk()
    cols = df.copy()
    cols.columns = pd.MultiIndex.from_arrays([df.columns, [f"ENSG{i}" for i in range(len(GENES))]],
                                             names=["symbol", "ensembl"])  # fmt: skip
    with pytest.raises(rs.InputFormatError, match=r"get_level_values\('symbol'\)"):
        rs.tl.score(cols, SIGS)
    rows = df.copy()
    rows.index = pd.MultiIndex.from_arrays([df.index, ["x"] * len(df)])
    with pytest.raises(rs.InputFormatError, match="MultiIndex of samples"):
        rs.tl.score(rows, SIGS)


def test_latin1_gmt_is_a_signature_error(tmp_path):
    p = tmp_path / "x.gmt"
    p.write_bytes("caf\xe9\tdesc\tG1\tG2\n".encode("latin-1"))
    with pytest.raises(rs.SignatureError, match="UTF-8"):
        rs.tl.score(_bulk(), p)


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_survival_with_infinite_times_is_a_statistics_error(bad):
    rng = np.random.default_rng(0)
    sc = pd.DataFrame({"sig": rng.normal(size=20)}, index=[f"p{i}" for i in range(20)])
    meta = pd.DataFrame({"t": rng.exponential(10, 20), "e": rng.random(20) < 0.7}, index=sc.index)
    meta.loc["p3", "t"] = bad
    with pytest.raises(rs.StatisticsError, match="'t' holds infinite values"):
        rs.tl.survival(sc, meta, time="t", event="e")


def test_statistics_refuse_infinite_metadata_and_scores():
    rng = np.random.default_rng(1)
    sc = pd.DataFrame({"sig": rng.normal(size=20)}, index=[f"p{i}" for i in range(20)])
    meta = pd.DataFrame({"ic50": rng.normal(size=20), "tissue": ["a", "b"] * 10}, index=sc.index)
    meta.loc["p1", "ic50"] = np.inf
    with pytest.raises(rs.StatisticsError, match="infinite"):
        rs.tl.associate(sc, "ic50", metadata=meta)
    sc.loc["p2", "sig"] = np.inf
    with pytest.raises(rs.StatisticsError, match="infinite"):
        rs.tl.compare_groups(sc, meta, group="tissue")


def test_event_words_are_accepted():
    rng = np.random.default_rng(2)
    sc = pd.DataFrame({"sig": rng.normal(size=30)}, index=[f"p{i}" for i in range(30)])
    ev = rng.random(30) < 0.7
    meta = pd.DataFrame({"t": rng.exponential(10, 30), "e": np.where(ev, "True", "False")}, index=sc.index)
    words = rs.tl.survival(sc, meta, time="t", event="e").table
    boolean = rs.tl.survival(sc, meta.assign(e=ev), time="t", event="e").table
    pd.testing.assert_frame_equal(words, boolean)


# ---- item 11: one GMT reader, one dict parser, signature ids ---------------------------------------------
def test_score_reads_gmt_with_the_one_reader(tmp_path):
    df = _bulk()
    dup = tmp_path / "dup.gmt"
    dup.write_text("A\td\tG1\tG2\nA\td\tG3\tG4\n")
    with pytest.raises(rs.SignatureError, match="used twice"):
        rs.tl.score(df, dup)
    pair = tmp_path / "pair.gmt"
    pair.write_text("EFFLUX_UP\td\tG1\tG2\tG3\nEFFLUX_DN\td\tG7\tG8\n")
    res = rs.tl.score(df, pair, pvalues=False)
    assert res.signatures == ["EFFLUX"]
    assert res.coverage.loc["EFFLUX", ["n_up", "n_down"]].tolist() == [3, 2]
    same = rs.tl.score(df, {"EFFLUX": ["G1", "G2", "G3", "G7-", "G8-"]}, pvalues=False)
    np.testing.assert_array_equal(res.scores.to_numpy(), same.scores.to_numpy())
    np.testing.assert_array_equal(rs.sig.load(pair)["EFFLUX"].down, ["G7", "G8"])


def test_signature_ids_as_list_or_comma_separated_string():
    adata = rs.ds.toy()
    a = rs.tl.score(adata.to_df(), "efflux_abc,apoptosis", pvalues=False)
    b = rs.tl.score(adata.to_df(), ["efflux_abc", "apoptosis"], pvalues=False)
    assert a.signatures == b.signatures == ["efflux_abc", "apoptosis"]
    pd.testing.assert_frame_equal(a.scores, b.scores)
    with pytest.raises(rs.SignatureError, match="unknown signature id 'efflux_abx'"):
        rs.tl.score(adata.to_df(), "efflux_abx")
    with pytest.raises(rs.SignatureError, match="names no signature"):
        rs.sig.load("")
    with pytest.raises(rs.SignatureError, match="not found"):
        rs.tl.score(adata.to_df(), "missing.gmt")


# ---- item 17: tidy() has the coverage column the README promises ----------------------------------------
def test_tidy_has_coverage_and_a_note_for_every_nan():
    df = _bulk()
    df.loc["s0"] = 0.0
    sigs = {**SIGS, "low": ["G1", "X1", "X2", "X3"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        tidy = rs.tl.score(df, sigs, n_controls=10).tidy()
    assert {"coverage", "note"} <= set(tidy.columns)
    assert tidy.loc[tidy["signature"] == "low", "coverage"].eq(0.25).all()
    assert (tidy["score"].isna() == (tidy["note"] != "")).all()  # NaN only with a recorded reason


# ---- item 18: the default number of threads on every OS -------------------------------------------------
def test_default_threads_without_sched_getaffinity(monkeypatch):
    default_n_jobs = rs.get.default_n_jobs

    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert default_n_jobs() == 3
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert default_n_jobs() == 1
    res = rs.tl.score(_bulk(), SIGS, n_controls=10)  # n_jobs=None: the default
    assert res.scores.notna().all().all()
    rs.tl.score(_bulk(), SIGS, "gsva", pvalues=False)


# ---- item 20: no method gives a signature a constant score by construction -------------------------------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("data", ["bulk", "cells"])
def test_up_only_down_only_and_mixed_signatures_vary_between_samples(method, data):
    X = _bulk(20).to_numpy() if data == "bulk" else _cells(60)
    sigs = {
        "up": GENES[:8],
        "down": [f"{g}-" for g in GENES[:8]],
        "mixed": GENES[:4] + [f"{g}-" for g in GENES[4:8]],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ScaleWarning)
        res = rs.tl.score(X, sigs, method, genes=GENES, pvalues=False)
    assert (res.scores.nunique() > 1).all(), res.scores.nunique()


def test_ucell_down_only_signature_is_one_minus_u_of_its_genes():
    X = sp.csr_matrix(_cells(60))
    up = rs.tl.score(X, {"s": GENES[:8]}, "ucell", genes=GENES, pvalues=False).scores["s"]
    down = rs.tl.score(X, {"s": [f"{g}-" for g in GENES[:8]]}, "ucell", genes=GENES, pvalues=False).scores[
        "s"
    ]
    np.testing.assert_allclose(down, 1.0 - up, rtol=0, atol=1e-12)
    half = rs.tl.score(X, {"s": [f"{g}-" for g in GENES[:8]]}, "ucell", genes=GENES, pvalues=False, w_neg=0.5)
    np.testing.assert_allclose(half.scores["s"], 1.0 - 0.5 * up, rtol=0, atol=1e-12)
    assert down.nunique() > 1 and down.between(0, 1).all()


def test_toy_single_cell_down_only_signatures_are_not_constant():
    adata = rs.ds.toy("sc")
    rs.tl.score(adata, ["reduced_uptake", "apoptosis.pro_apoptotic"], pvalues=False)
    res = rs.get.result(adata)
    assert res.method == "ucell"
    assert (res.scores.nunique() > 10).all()


# ---- item 21: decoupler's mor column -------------------------------------------------------------------
def test_decoupler_mor_column_sets_the_direction():
    v1 = pd.DataFrame({"source": ["apoptosis"] * 3, "target": ["BCL2", "MCL1", "BAX"], "mor": [1, 1, -1]})
    sig = rs.sig.load(v1)["apoptosis"]
    assert sig.down == ["BAX"] and sig.up == ["BCL2", "MCL1"]
    net = rs.tl.as_network(v1)[0]
    assert net.set_index("target")["weight"].to_dict() == {"BCL2": 1.0, "MCL1": 1.0, "BAX": -1.0}
    # decoupleR: .mor x .likelihood (unsigned magnitudes)
    both = v1.assign(weight=[0.5, 2.0, 0.25])
    assert rs.tl.as_network(both)[0]["weight"].tolist() == [0.5, 2.0, -0.25]
    # decoupler 2 DoRothEA: weight = mor / level (already signed, agreeing with mor)
    signed = v1.assign(weight=[1.0, 0.5, -0.5])
    assert rs.tl.as_network(signed)[0]["weight"].tolist() == [1.0, 0.5, -0.5]
    with pytest.raises(rs.SignatureError, match="signs disagree"):
        rs.tl.as_network(v1.assign(weight=[1.0, -1.0, -1.0]))
    cov = rs.tl.score(
        _bulk().rename(columns={"G1": "BCL2", "G2": "MCL1", "G3": "BAX"}), v1, pvalues=False
    ).coverage
    assert cov.loc["apoptosis", "n_down"] == 1


# ---- item 22: the cells-as-replicates guard holds for every input type ---------------------------------
def _obs(n=700, seed=0, donor=True):
    rng = np.random.default_rng(seed)
    obs = pd.DataFrame(
        {"louvain": rng.choice(["a", "b", "c"], n), "n_genes": rng.integers(500, 2000, n)},
        index=[f"c{i}" for i in range(n)],
    )
    if donor:
        obs["donor"] = rng.choice([f"d{i}" for i in range(5)], n)
    scores = pd.DataFrame({"efflux": rng.normal(size=n)}, index=obs.index)
    scores.loc[obs["louvain"] == "a", "efflux"] += 1.0
    return scores, obs


def test_dataframe_of_cell_scores_with_cell_metadata_is_not_tested_as_samples():
    scores, obs = _obs(donor=False)
    with pytest.raises(rs.StatisticsError, match=r"look like cells.*louvain.*sample_key=.*paired_by="):
        rs.tl.compare_groups(scores, obs, group="louvain")
    with pytest.warns(rs.CellsAsReplicatesWarning):
        res = rs.tl.compare_groups(scores, obs, group="louvain", unit="cell")
    assert res.params["unit"] == "cell"


def test_the_suggested_paired_by_works_when_followed():
    scores, obs = _obs()
    with pytest.raises(rs.StatisticsError, match=r"varies within samples of 'donor'.*paired_by='donor'"):
        rs.tl.compare_groups(scores, obs, group="louvain")
    res = rs.tl.compare_groups(scores, obs, group="louvain", groups=["a", "b"], paired_by="donor")
    row = res.table.iloc[0]
    assert row["test"] == "paired_t" and (row["n1"], row["n2"]) == (5, 5)
    assert res.params["unit"] == "sample x louvain" and res.params["sample_key"] == "donor"
    # the test is on the donor x cluster means
    means = scores["efflux"].groupby([obs["donor"], obs["louvain"]]).mean().unstack()
    from scipy import stats

    assert row["pvalue"] == pytest.approx(stats.ttest_rel(means["b"], means["a"]).pvalue, rel=1e-12)
    mixed = rs.tl.compare_groups(scores, obs, group="louvain", sample_key="donor", model="mixed")
    assert mixed.params["unit"] == "cell"


def test_scores_of_single_cell_data_carry_their_kind_into_the_statistics():
    X = _cells(120)
    res = rs.tl.score(X, SIGS, genes=GENES, samples=[f"c{i}" for i in range(120)], pvalues=False)
    assert res.data_kind == "single_cell"
    meta = pd.DataFrame({"arm": ["x", "y"] * 60}, index=res.scores.index)
    for call in (lambda s: rs.tl.compare_groups(s, meta, group="arm"),):
        with pytest.raises(rs.StatisticsError, match="single-cell data"):
            call(res)


def test_associate_names_only_options_it_takes():
    scores, obs = _obs(donor=False)
    obs["ic50"] = np.random.default_rng(0).normal(size=len(obs))
    with pytest.raises(rs.StatisticsError) as err:
        rs.tl.associate(scores, "ic50", metadata=obs)
    assert (
        "sample_key=" in str(err.value)
        and "paired_by" not in str(err.value)
        and "mixed" not in str(err.value)
    )


def test_bulk_samples_with_a_patient_column_stay_samples():
    rng = np.random.default_rng(0)
    sc = pd.DataFrame({"s": rng.normal(size=40)}, index=[f"x{i}" for i in range(40)])
    meta = pd.DataFrame(
        {"patient": np.repeat([f"p{i}" for i in range(20)], 2), "g": ["a", "b"] * 20}, index=sc.index
    )
    res = rs.tl.compare_groups(sc, meta, group="g")
    assert res.params["unit"] == "sample" and res.params["n_observations"] == 40


# ---- item 23: the scale is acted on --------------------------------------------------------------------
def test_zscored_input_warns_for_rank_methods_and_counts_warn_for_mean_methods():
    df = _bulk(30)
    z = (df - df.mean()) / df.std()
    with pytest.warns(rs.ScaleWarning, match="zscore"):
        rs.tl.score(z, SIGS, pvalues=False)
    counts = pd.DataFrame(
        np.random.default_rng(0).negative_binomial(2, 0.01, (30, 300)), columns=GENES
    ).astype(float)
    with pytest.warns(rs.ScaleWarning, match="ensure_log"):
        rs.tl.score(counts, SIGS, "wmean", pvalues=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rs.tl.score(counts, SIGS, "singscore", pvalues=False)  # ranks: any monotone scale is fine


# ---- item 24: every argument is checked before any work -------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"use_raw": True}, "no .raw"),
        ({"max_rank": 5}, r"unknown argument\(s\) \['max_rank'\].*'stable_genes'"),
        ({"method": "ucell", "max_rank": 0}, "max_rank"),
        ({"method": "ucell", "max_rank": 3}, "more genes than max_rank"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"pvalues": "yes"}, "pvalues"),
        ({"method": "aucell", "ties": "first"}, "ties"),
    ],
)
def test_arguments_are_checked_before_any_data_are_read(monkeypatch, kwargs, match):
    adata = ad.AnnData(_bulk().to_numpy())
    adata.var_names = GENES
    reads = []
    rows = _chunks.RowSource._rows  # what rows() and the passes' rows_into() read through
    monkeypatch.setattr(
        _chunks.RowSource, "_rows", lambda self, a, b, buf: reads.append((a, b)) or rows(self, a, b, buf)
    )
    monkeypatch.setattr(_chunks.RowSource, "gene_stats", lambda self, *a, **k: reads.append("stats"))
    with pytest.raises(rs.ResistScoreError, match=match):
        rs.tl.score(adata, SIGS, **kwargs)
    assert all(r in ((a, a + 1) for a in range(adata.n_obs)) for r in reads)  # at most the row sample


def test_use_raw_follows_scanpy():
    adata = ad.AnnData(_bulk().to_numpy())
    adata.var_names = GENES
    adata.raw = adata.copy()
    adata.X = adata.X * 0 + np.arange(len(GENES))  # X no longer holds the expression
    assert rs.tl.score(adata, SIGS, pvalues=False, use_raw=True) is None
    res = rs.get.result(adata)
    expected = rs.tl.score(_bulk(), SIGS, pvalues=False).scores
    np.testing.assert_array_equal(res.scores.to_numpy(), expected.to_numpy())
    with pytest.raises(rs.ResistScoreError, match="cannot be combined"):
        rs.tl.score(adata, SIGS, use_raw=True, layer="x")


def test_control_sets_without_a_score_never_make_p_values_smaller():
    from resistscore.tl._null import PooledNull, count_exceed

    # observed 0.5; controls NaN, NaN, 0.9: the two unscored control sets count as exceeding
    assert count_exceed(np.array([[0.5, np.nan, np.nan, 0.9]]), 1, 3).tolist() == [[3]]
    pooled = PooledNull(2, 1, 3)
    pooled.add(0, np.array([[0.5, np.nan, np.nan, np.nan], [0.5, 0.1, 0.2, 0.3]]))
    counts, n_null = pooled.counts()
    assert counts[0, 0] == n_null[0] == 3  # no scored control: p = 1


def test_statistics_refuse_multiindex_scores_or_metadata():
    rng = np.random.default_rng(3)
    sc = pd.DataFrame({"sig": rng.normal(size=8)}, index=[f"p{i}" for i in range(8)])
    meta = pd.DataFrame({"g": ["a", "b"] * 4}, index=sc.index)
    multi = sc.copy()
    multi.columns = pd.MultiIndex.from_tuples([("sig", "x")])
    with pytest.raises(rs.StatisticsError, match="MultiIndex of columns"):
        rs.tl.compare_groups(multi, meta, group="g")
    m2 = meta.copy()
    m2.index = pd.MultiIndex.from_arrays([meta.index, range(8)])
    with pytest.raises(rs.StatisticsError, match="MultiIndex of index"):
        rs.tl.compare_groups(sc, m2, group="g")


@pytest.mark.parametrize("method", ["aucell", "ucell", "singscore"])
def test_sparse_and_dense_storage_of_the_same_cells_score_the_same(method):
    # issue 10 item 19: AUCell (and every rank method) gives the same scores whatever the storage
    X = _cells(50)
    dense = rs.tl.score(X, SIGS, method, genes=GENES, pvalues=False).scores
    sparse = rs.tl.score(sp.csr_matrix(X), SIGS, method, genes=GENES, pvalues=False).scores
    np.testing.assert_allclose(dense.to_numpy(), sparse.to_numpy(), rtol=0, atol=1e-12)
    # and AUCell does not depend on the order of the genes (ties of zeros are not broken by position)
    if method == "aucell":
        perm = np.random.default_rng(0).permutation(len(GENES))
        shuffled = rs.tl.score(X[:, perm], SIGS, method, genes=[GENES[i] for i in perm], pvalues=False).scores
        np.testing.assert_allclose(dense.to_numpy(), shuffled.to_numpy(), rtol=0, atol=1e-12)


def test_zscores_per_sample_do_not_warn_for_rank_methods():
    # z-scoring each sample is a monotone transform of it: within-sample ranks, hence the scores, are unchanged
    df = _bulk(30)
    z = df.sub(df.mean(axis=1), axis=0).div(df.std(axis=1), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = rs.tl.score(z, SIGS, pvalues=False)
    pd.testing.assert_frame_equal(res.scores, rs.tl.score(df, SIGS, pvalues=False).scores)
