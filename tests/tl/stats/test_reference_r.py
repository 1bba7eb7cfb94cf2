"""resistscore statistics against R (stats, survival, nlme, pROC, effectsize).

The inputs and R outputs are stored in tests/_reference/stats/ and were made by
scripts/make_stats_reference.R (see tests/_reference/README.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import resistscore as rs

SIGS = ["sig_a", "sig_b", "sig_c"]


@pytest.fixture(scope="module")
def ref(reference_dir):
    d = reference_dir / "stats"
    read = lambda name: pd.read_csv(d / name, sep="\t")  # noqa: E731
    samples = read("input_samples.tsv").set_index("sample")
    return {
        "dir": d,
        "read": read,
        "samples": samples,
        "scores": samples[SIGS],
        "meta": samples.drop(columns=SIGS),
    }


def test_two_groups_match_r(ref):
    r = ref["read"]("r_two_groups.tsv").set_index("signature")
    welch = rs.tl.compare_groups(
        ref["scores"], ref["meta"], group="group", groups=["A", "B"]
    ).table.set_index("signature")
    assert (welch["group1"] == "B").all() and (welch["group2"] == "A").all()
    np.testing.assert_allclose(welch["statistic"], r["t"], rtol=1e-7)
    np.testing.assert_allclose(welch["df"], r["df"], rtol=1e-7)
    np.testing.assert_allclose(welch["pvalue"], r["p_t"], rtol=1e-6)
    np.testing.assert_allclose(welch["estimate_ci_low"], r["diff_ci_low"], rtol=1e-6)
    np.testing.assert_allclose(welch["estimate_ci_high"], r["diff_ci_high"], rtol=1e-6)
    # Hedges' g with the noncentral-t CI of effectsize::hedges_g
    np.testing.assert_allclose(welch["effect"], r["hedges_g"], rtol=1e-6)
    np.testing.assert_allclose(welch["ci_low"], r["g_ci_low"], rtol=1e-5)
    np.testing.assert_allclose(welch["ci_high"], r["g_ci_high"], rtol=1e-5)

    mw = rs.tl.compare_groups(
        ref["scores"], ref["meta"], group="group", groups=["A", "B"], test="mannwhitney"
    ).table.set_index("signature")
    np.testing.assert_allclose(mw["statistic"], r["W"], rtol=1e-12)
    np.testing.assert_allclose(mw["pvalue"], r["p_w"], rtol=1e-6)
    np.testing.assert_allclose(mw["effect"], r["r_rb"], rtol=1e-7)
    np.testing.assert_allclose(mw["ci_low"], r["rb_ci_low"], rtol=1e-6)
    np.testing.assert_allclose(mw["ci_high"], r["rb_ci_high"], rtol=1e-6)


def test_omnibus_match_r(ref):
    r = ref["read"]("r_omnibus.tsv").set_index("signature")
    an = rs.tl.compare_groups(ref["scores"], ref["meta"], group="group", test="anova").table.set_index(
        "signature"
    )
    np.testing.assert_allclose(an["statistic"], r["F"], rtol=1e-7)
    np.testing.assert_allclose(an["pvalue"], r["p_f"], rtol=1e-6)
    np.testing.assert_allclose(an["effect"], r["eta2"], rtol=1e-7)
    # Steiger (2004) interval, noncentrality bounds by exact inversion of R's pf (uniroot, tol 1e-12)
    np.testing.assert_allclose(an["ci_low"], r["steiger_ci_low"], rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(an["ci_high"], r["steiger_ci_high"], rtol=1e-6)
    # effectsize::eta_squared maps the same bounds to lambda / (lambda + df_error) and solves them to
    # about 1e-3 relative; compare on the lambda scale with that tolerance
    n, df_err = 36, 33
    lam_r = lambda e: e * df_err / (1 - e)  # noqa: E731
    for ours, theirs in (("ci_low", "eta2_ci_low"), ("ci_high", "eta2_ci_high")):
        np.testing.assert_allclose(an[ours], lam_r(r[theirs]) / (lam_r(r[theirs]) + n), rtol=2e-3, atol=1e-8)
    kw = rs.tl.compare_groups(ref["scores"], ref["meta"], group="group", test="kruskal").table.set_index(
        "signature"
    )
    np.testing.assert_allclose(kw["statistic"], r["H"], rtol=1e-7)
    np.testing.assert_allclose(kw["pvalue"], r["p_h"], rtol=1e-6)
    np.testing.assert_allclose(kw["effect"], r["H"] / (36 - 1), rtol=1e-7)


def test_paired_match_r(ref):
    p = ref["read"]("input_paired.tsv")
    r = ref["read"]("r_paired.tsv").iloc[0]
    long = pd.concat(
        [
            pd.DataFrame({"patient": p["patient"], "time": "pre", "sig": p["pre"]}),
            pd.DataFrame({"patient": p["patient"], "time": "post", "sig": p["post"]}),
        ]
    )
    long.index = long["patient"] + "_" + long["time"]
    res = rs.tl.compare_groups(long[["sig"]], long, group="time", reference="pre", paired_by="patient")
    row = res.table.iloc[0]
    assert (row["test"], row["group1"], row["group2"], row["n1"]) == ("paired_t", "post", "pre", 12)
    np.testing.assert_allclose(row["statistic"], r["t"], rtol=1e-7)
    np.testing.assert_allclose(row["pvalue"], r["p_t"], rtol=1e-6)
    np.testing.assert_allclose(
        [row["estimate_ci_low"], row["estimate_ci_high"]], [r["diff_ci_low"], r["diff_ci_high"]], rtol=1e-6
    )
    w = rs.tl.compare_groups(
        long[["sig"]], long, group="time", reference="pre", paired_by="patient", test="mannwhitney"
    ).table.iloc[0]
    assert w["test"] == "wilcoxon_signed_rank"
    np.testing.assert_allclose(w["pvalue"], r["p_w"], rtol=1e-6)
    # scipy reports min(W+, W-); R reports V = W+; they sum to n(n + 1) / 2
    np.testing.assert_allclose(min(r["V"], 78 - r["V"]), w["statistic"])
    np.testing.assert_allclose(
        [w["effect"], w["ci_low"], w["ci_high"]], [r["r_rb"], r["rb_ci_low"], r["rb_ci_high"]], rtol=1e-6
    )


def test_linear_model_match_r(ref):
    r = ref["read"]("r_lm.tsv")
    res = rs.tl.compare_groups(ref["scores"], ref["meta"], group="group", reference="A", covariates="tissue")
    t = res.table
    assert (t["test"] == "ols").all() and set(t["group1"]) == {"B", "C"}
    m = t.merge(r, left_on=["signature", "group1"], right_on=["signature", "level"])
    assert len(m) == 6
    np.testing.assert_allclose(m["estimate_x"], m["estimate_y"], rtol=1e-7)
    np.testing.assert_allclose(m["statistic"], m["t"], rtol=1e-7)
    np.testing.assert_allclose(m["pvalue"], m["p"], rtol=1e-6)
    np.testing.assert_allclose(m["estimate_ci_low"], m["ci_low_y"], rtol=1e-7)
    np.testing.assert_allclose(m["df_x"], m["df_y"])
    fm = rs.tl.fit_model(ref["scores"], ref["meta"], formula="score ~ C(group) + C(tissue)", term="C(group)")
    f = fm.table.assign(level=fm.table["term"].str[-2]).merge(r, on=["signature", "level"])
    np.testing.assert_allclose(f["effect"], f["estimate"], rtol=1e-7)
    np.testing.assert_allclose(f["std_err_x"], f["std_err_y"], rtol=1e-7)
    np.testing.assert_allclose(f["ci_high_x"], f["ci_high_y"], rtol=1e-7)


def test_mixed_model_and_pseudobulk_match_r(ref):
    cells = ref["read"]("input_cells.tsv").set_index("cell")
    r = ref["read"]("r_mixed.tsv").iloc[0]
    mixed = rs.tl.compare_groups(
        cells[["sig_a"]], cells, group="arm", sample_key="patient", model="mixed"
    ).table.iloc[0]
    assert mixed["test"] == "mixedlm" and mixed["group1"] == "treated"
    np.testing.assert_allclose(mixed["estimate"], r["estimate"], rtol=1e-5)
    fm = rs.tl.fit_model(
        cells[["sig_a"]], cells, formula="score ~ arm", sample_key="patient", model="mixed"
    ).table
    np.testing.assert_allclose(fm.loc[0, "std_err"], r["std_err"], rtol=1e-3)
    # default: one mean score per patient, Welch t on 3 vs 3 patients
    pb = rs.tl.compare_groups(cells[["sig_a"]], cells, group="arm", sample_key="patient").table.iloc[0]
    assert (pb["n1"], pb["n2"]) == (3, 3)
    np.testing.assert_allclose(
        [pb["statistic"], pb["df"], pb["pvalue"]], [r["pb_t"], r["pb_df"], r["pb_p"]], rtol=1e-6
    )


def test_response_match_r(ref):
    r = ref["read"]("r_response.tsv")
    resp = ref["meta"][["drug1", "drug2"]]
    sp = rs.tl.associate(ref["scores"], resp).table.merge(r, on=["signature", "response"])
    np.testing.assert_allclose(sp["effect"], sp["rho"], rtol=1e-7)
    np.testing.assert_allclose(sp["pvalue"], sp["p_rho"], rtol=1e-6)
    part = rs.tl.associate(ref["scores"], resp, metadata=ref["meta"], covariates="tissue").table
    part = part.merge(r, on=["signature", "response"])
    assert (part["method"] == "partial_spearman").all()
    np.testing.assert_allclose(part["effect"], part["partial_rho"], rtol=1e-7)
    np.testing.assert_allclose(part["pvalue"], part["p_partial"], rtol=1e-6)
    reg = rs.tl.associate(
        ref["scores"], resp, metadata=ref["meta"], covariates="tissue", method="regression"
    ).table
    reg = reg.merge(r, on=["signature", "response"])
    np.testing.assert_allclose(reg["effect"], reg["slope"], rtol=1e-7)
    np.testing.assert_allclose(reg["ci_low"], reg["slope_ci_low"], rtol=1e-7)
    np.testing.assert_allclose(reg["pvalue"], reg["p_slope"], rtol=1e-6)


def test_survival_match_r(ref):
    r = ref["read"]("r_survival.tsv").set_index("signature")
    res = rs.tl.survival(ref["scores"], ref["meta"], time="time", event="event", covariates="tissue")
    t = res.table.set_index("signature")
    np.testing.assert_allclose(t["effect"], r["hr"], rtol=1e-5)
    np.testing.assert_allclose(t["ci_low"], r["hr_ci_low"], rtol=1e-5)
    np.testing.assert_allclose(t["ci_high"], r["hr_ci_high"], rtol=1e-5)
    np.testing.assert_allclose(t["statistic"], r["z"], rtol=1e-5)
    np.testing.assert_allclose(t["pvalue"], r["p"], rtol=1e-4)
    np.testing.assert_allclose(t["logrank_statistic"], r["logrank_chisq"], rtol=1e-6)
    np.testing.assert_allclose(t["logrank_pvalue"], r["logrank_p"], rtol=1e-6)
    km_r = ref["read"]("r_km_sig_a_high.tsv")
    km = res.km[(res.km["signature"] == "sig_a") & (res.km["group"] == "high") & (res.km["time"] > 0)]
    km = km.set_index("time").loc[km_r["time"]]
    np.testing.assert_allclose(km["survival"], km_r["survival"], rtol=1e-7)
    np.testing.assert_allclose(km["n_at_risk"], km_r["n_at_risk"])
    ok = km_r["ci_low"].notna().to_numpy()
    np.testing.assert_allclose(km["ci_low"].to_numpy()[ok], km_r["ci_low"][ok], rtol=1e-5)


def test_auc_match_proc(ref):
    r = ref["read"]("r_auc.tsv").set_index("signature")
    res = rs.tl.roc(ref["scores"], ref["meta"], responder="responder", n_boot=200).table.set_index(
        "signature"
    )
    np.testing.assert_allclose(res["effect"], r["auc"], rtol=1e-9)
