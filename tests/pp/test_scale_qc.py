from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from resistscore._errors import InputFormatError, ScaleWarning
from resistscore.pp import clean, detect_scale, ensure_log, qc


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(1)
    return rng.negative_binomial(3, 0.02, size=(30, 400)).astype(float)


def test_scale_kinds(counts):
    assert detect_scale(counts).kind == "counts"
    assert detect_scale(sp.csr_matrix(counts)).kind == "counts"
    cpm = counts / counts.sum(1, keepdims=True) * 1e6
    assert detect_scale(cpm).kind == "cpm_tpm"
    logged = np.log2(cpm + 1)
    assert detect_scale(logged).kind == "log"
    zg = (logged - logged.mean(0)) / logged.std(0, ddof=1)
    r = detect_scale(zg)
    assert r.kind == "zscore" and "per gene" in r.reason
    zs = ((logged.T - logged.mean(1)) / logged.std(1, ddof=1)).T
    assert detect_scale(zs).kind == "zscore"
    centred = logged - logged.mean(0)
    r = detect_scale(centred)
    assert r.kind == "log" and r.evidence["centred_per_gene"]
    assert detect_scale(centred * 1000).kind == "other"
    assert detect_scale(np.full((3, 3), np.nan)).kind == "other"


def test_scale_evidence_values():
    X = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.5]])
    ev = detect_scale(X).evidence
    assert ev["min"] == 0.0 and ev["max"] == 5.5
    assert ev["share_integer"] == pytest.approx(5 / 6)
    assert ev["share_zero"] == pytest.approx(1 / 6)


def test_ensure_log_counts_matches_hand_computation():
    df = pd.DataFrame({"A": [0.0, 30.0], "B": [100.0, 70.0], "C": [900.0, 0.0]}, index=["s1", "s2"])
    out, actions = ensure_log(df)
    expected = np.log2(df.to_numpy() / df.to_numpy().sum(1, keepdims=True) * 1e6 + 1)
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=1e-12)
    assert actions[-1] == "log2(x + 1)"
    assert df.loc["s1", "C"] == 900.0  # input untouched


def test_ensure_log_sparse_anndata(counts):
    a = ad.AnnData(X=sp.csr_matrix(counts))
    out, _ = ensure_log(a)
    expected = np.log2(counts / counts.sum(1, keepdims=True) * 1e6 + 1)
    np.testing.assert_allclose(out.X, expected, rtol=1e-10)
    assert sp.issparse(a.X)


def test_ensure_log_other_cases(counts):
    logged = np.log2(counts + 1)
    df = pd.DataFrame(logged)
    out, actions = ensure_log(df)
    pd.testing.assert_frame_equal(out, df)
    assert "unchanged" in actions[-1]
    z = pd.DataFrame((logged - logged.mean(0)) / logged.std(0, ddof=1))
    with pytest.warns(ScaleWarning, match="z-scores"):
        ensure_log(z)
    with pytest.raises(InputFormatError, match="log scale"):
        ensure_log(pd.DataFrame((logged - logged.mean(0)) * 1000))


def test_qc_findings():
    df = pd.DataFrame(
        [
            [1.0, 2.0, np.nan, 4.0],
            [0.0, 0.0, 0.0, 0.0],
            [3.0, 3.0, 3.0, 3.0],
            [1.0, np.inf, 5.0, -1.0],
            [np.nan, np.nan, np.nan, 2.0],
        ],
        index=["ok", "empty", "flat", "weird", "sparse"],
        columns=["ABCB1", "ABCG2", "ABCB1", "TP53"],
    )
    r = qc(df)
    f = r.findings
    assert f["n_nan"] == 4 and f["n_inf"] == 1 and f["n_negative"] == 1
    assert f["empty_samples"] == ["empty"]
    assert f["constant_samples"] == ["flat"]
    assert f["samples_mostly_missing"] == ["sparse"]
    assert f["duplicated_genes"] == ["ABCB1"] and f["n_duplicated_genes"] == 1
    assert f["n_empty_genes"] == 0
    assert "1 infinite values" in r.problems
    a = ad.AnnData(X=np.ones((2, 2)))
    qc(a).store(a)
    assert a.uns["resistscore"]["qc"]["n_samples"] == 2


def test_clean_dataframe_and_anndata():
    df = pd.DataFrame(
        [[1.0, np.inf, 2.0, np.nan], [0.0, 0.0, 0.0, np.nan], [3.0, 4.0, 5.0, np.nan]],
        index=["s1", "empty", "s3"],
        columns=["ABCB1", "ABCG2", "ABCB1", "GONE"],
    )
    out, rep = clean(df, duplicates="mean")
    assert list(out.index) == ["s1", "s3"]
    assert list(out.columns) == ["ABCB1", "ABCG2"]
    np.testing.assert_allclose(out["ABCB1"], [1.5, 4.0])
    assert np.isnan(out.loc["s1", "ABCG2"])
    assert any("genes without values" in a for a in rep.actions)
    a = ad.AnnData(X=df.to_numpy(), obs=pd.DataFrame(index=df.index))
    a.var_names = list(df.columns)
    out_a, _ = clean(a)
    assert list(out_a.var_names) == ["ABCB1", "ABCG2"]
    np.testing.assert_allclose(out_a.X[:, 0], [1.5, 4.0])  # default: per-sample mean of the two ABCB1 columns
    out_m, _ = clean(a, duplicates="max_mean")
    np.testing.assert_allclose(out_m.X[:, 0], [2.0, 5.0])  # max_mean keeps the 2nd ABCB1 column
    assert out_a.uns["resistscore"]["qc"]["actions"]


def test_clean_refuses_duplicate_samples():
    df = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], index=["a", "a"], columns=["ABCB1", "ABCG2"])
    with pytest.raises(InputFormatError, match="duplicated"):
        clean(df)


def test_qc_rejects_text():
    with pytest.raises(InputFormatError, match="non-numeric"):
        qc(pd.DataFrame({"A": ["x", "y"]}))


@pytest.mark.parametrize(
    ("kind", "method", "action"),
    [
        ("counts", "ucell", "none"),
        ("cpm_tpm", "singscore", "none"),
        ("zscore", "aucell", "warn"),
        ("counts", "wmean", "log"),
        ("cpm_tpm", "module_score", "log"),
        ("log", "ulm", "none"),
        ("zscore", "gsva", "warn"),
        ("other", "wmean", "refuse"),
        ("other", "ssgsea", "warn"),
    ],
)
def test_scale_plan(kind, method, action):
    from resistscore.pp import scale_plan

    plan = scale_plan(kind, method)
    assert plan.action == action
    assert plan.to_dict()["need"] in ("rank", "log")


def test_scale_plan_rejects_unknown():
    from resistscore._errors import ResistScoreError
    from resistscore.pp import scale_plan

    with pytest.raises(ResistScoreError, match="method"):
        scale_plan("log", "magic")


def test_qc_reports_z_scored_input():
    # issue 10 #23: detect_scale says 'zscore', qc said "no problems found"
    rng = np.random.default_rng(0)
    logexpr = pd.DataFrame(rng.normal(7, 2, size=(12, 300)), columns=[f"G{i}" for i in range(300)])
    z = (logexpr - logexpr.mean()) / logexpr.std()
    report = qc(z)
    assert report.scale.kind == "zscore"
    assert any("z-scores" in p and "un-standardised" in p for p in report.problems)
    assert "z-scores" in repr(report) and "no problems found" not in repr(report)
    assert report.to_dict()["problems"] == report.problems
    assert qc(logexpr).problems == []  # plain log expression: nothing to report
    # z-scored per sample keeps within-sample ranks: reported, with what it does and does not affect
    zs = logexpr.sub(logexpr.mean(axis=1), axis=0).div(logexpr.std(axis=1), axis=0)
    assert any("within-sample ranks are unchanged" in p for p in qc(zs).problems)


def test_qc_reports_an_unrecognised_scale():
    df = pd.DataFrame(
        {"ABCB1": [-500.0, 300.0, 800.0], "ABCG2": [-900.0, 40.0, 1200.0]}, index=["a", "b", "c"]
    )
    report = qc(df)
    assert report.scale.kind == "other"
    assert any("could not be recognised" in p for p in report.problems)


def test_data_kind_from_the_values_not_the_storage():
    from resistscore.pp import data_kind

    rng = np.random.default_rng(1)
    cells = rng.poisson(0.15, size=(400, 2000)).astype(float)
    bulk = rng.lognormal(3, 1, size=(30, 2000))
    assert data_kind(cells).kind == "single_cell"  # dense storage, single-cell values
    assert data_kind(sp.csr_matrix(bulk)).kind == "bulk"  # sparse storage, bulk values
    k = data_kind(ad.AnnData(X=sp.csr_matrix(cells)))
    assert k.kind == "single_cell" and k.evidence["sparse"] and k.evidence["zero_share"] > 0.8
    assert k.problems == []  # small counts: a scale fit for scoring
    z = data_kind((bulk - bulk.mean(0)) / bulk.std(0))
    assert z.kind == "bulk" and z.scale.kind == "zscore" and z.problems
    # one rule whatever the size (issue 11): 5 genes, 80 % zeros, single cell by its zeros, dense or sparse
    assert data_kind(sp.csr_matrix(np.eye(5))).kind == data_kind(np.eye(5)).kind == "single_cell"
    assert set(z.to_dict()) == {"kind", "reason", "evidence", "scale", "problems"}
