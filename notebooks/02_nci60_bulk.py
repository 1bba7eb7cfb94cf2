# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # NCI-60: P-glycoprotein and drug response in real cancer cell lines
#
# The NCI-60 panel (60 human cancer cell lines from nine tissues) has public expression profiles and
# growth-inhibition data (GI50) for hundreds of drugs. It contains a textbook case of acquired multidrug
# resistance: **NCI/ADR-RES**, a derivative of the ovarian line **OVCAR-8** selected in doxorubicin (once
# mislabelled MCF-7/ADR), which massively over-expresses **ABCB1 / P-glycoprotein**, the efflux pump
# discussed first in Mansoori et al. 2017.
#
# This notebook asks, with the shipped signatures and **no parameter chosen from these data**:
#
# 1. Does the P-gp sub-signature `efflux_abc.abcb1` single out NCI/ADR-RES, and why (gene by gene, against its
#    parent OVCAR-8)?
# 2. Across the panel, do the scores associate with sensitivity to P-gp substrates (doxorubicin, paclitaxel,
#    docetaxel, vinblastine) but not to cisplatin (not a P-gp substrate; a negative control)?
# 3. What do the **broad** efflux signature and the **drug-specific** signatures show for the same drugs?
#    Reported whatever they show.
# 4. Does the microarray agree with the independent qRT-PCR of ABCB1 (Szakacs et al. 2004)?
#
# The data are not shipped with resistscore. Set the environment variable `RESISTSCORE_SHARED_DATA` to the
# folder that holds `nci60/` (default: `../../shared/data`, relative to the working directory).

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

import resistscore as rs

pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
DATA = Path(os.environ.get("RESISTSCORE_SHARED_DATA", "../../shared/data")) / "nci60"
print("resistscore", rs.__version__, "| data:", DATA)

# %% [markdown]
# ## 1. Load and join the three files
#
# `rs.ds.nci60` reads the U133A expression (GCRMA log2, probe sets collapsed to HGNC genes), the DTP GI50
# table and the ABC-transporter qPCR table, and matches the cell lines whose names differ between files
# (`OV:NCI_ADR_RES`, `NCI/ADR-RES`, `MCF7ADRr`). The join report says what was matched and what was not.

# %%
nci = rs.ds.nci60(DATA)
nci

# %%
nci.join_report

# %%
expr = nci.expression.to_df()  # cell lines x genes
panel = nci.expression.obs[["panel"]]
DRUGS = ["doxorubicin", "paclitaxel", "docetaxel", "vinblastine", "cisplatin"]
SUBSTRATES = DRUGS[:4]
gi50 = nci.gi50_wide()
gi50.columns = [c.lower() for c in gi50.columns]
gi50 = gi50.loc[expr.index, DRUGS]  # -log10 GI50: higher = more sensitive
print(expr.shape, "| lines with GI50 per drug:", gi50.notna().sum().to_dict())
panel["panel"].value_counts()

# %% [markdown]
# ## 2. The P-glycoprotein score ranks the panel
#
# `efflux_abc.abcb1` holds one gene, ABCB1. A one-gene singscore is a monotone function of the rank of ABCB1
# within each cell line's own expression profile - which makes it a transparent first check. Its per-line p-value
# compares ABCB1 with random single genes of similar expression level and variance.

# %%
PGP, BROAD = "efflux_abc.abcb1", "efflux_abc"
rs.sig.show(BROAD)

# %%
res = rs.tl.score(expr, rs.sig.load(ids=[BROAD, PGP]))  # singscore, the bulk default
res.coverage

# %%
ranking = (
    res.scores[[PGP, BROAD]]
    .join(res.pvalues[[PGP]].rename(columns={PGP: "pvalue P-gp"}))
    .join(panel)
    .sort_values(PGP, ascending=False)
)
ranking.head(10)

# %%
assert ranking.index[0] == "NCI/ADR-RES"
fig, ax = plt.subplots(figsize=(10, 3))
colors = [
    "#D55E00" if s == "NCI/ADR-RES" else ("#0072B2" if s == "OVCAR-8" else "#999999") for s in ranking.index
]
ax.bar(range(len(ranking)), ranking[PGP], color=colors)
ax.set_xticks(range(len(ranking)), ranking.index, rotation=90, fontsize=6)
ax.set(
    ylabel="P-gp score (singscore)",
    title="efflux_abc.abcb1 across NCI-60 (orange: NCI/ADR-RES, blue: OVCAR-8)",
)
plt.show()

# %% [markdown]
# NCI/ADR-RES ranks first, followed by lines known to express P-gp intrinsically (the colon line HCT-15 and
# several renal lines, whose tissue of origin expresses ABCB1). The broad 14-gene `efflux_abc` signature does
# **not** single NCI/ADR-RES out: its other transporters (MRPs, BCRP, ...) are not up in this line and
# dilute the one gene that is.
#
# ## 3. NCI/ADR-RES vs its parent OVCAR-8, gene by gene
#
# `rs.tl.compare_samples` differences the per-gene contributions of two samples, so the score difference is
# explained exactly gene by gene (descriptive: one sample per side, no test).

# %%
cmp = rs.tl.compare_samples(res, "NCI/ADR-RES", "OVCAR-8", signatures=[PGP, BROAD])
cmp.scores

# %%
cmp.table[["signature", "gene", "weight", "value", "value_reference", "difference", "share"]]

# %%
top = cmp.table[cmp.table["signature"] == BROAD].iloc[0]
print(
    f"ABCB1: {top['value']:.2f} vs {top['value_reference']:.2f} log2 (difference {top['value'] - top['value_reference']:.1f})"
)
assert top["gene"] == "ABCB1" and top["difference"] > 0
fig, axes = plt.subplots(1, 2, figsize=(9, 4), gridspec_kw={"width_ratios": [1, 1.3]})
rs.pl.contributions(res, ["NCI/ADR-RES", "OVCAR-8"], BROAD, ax=axes[0])
d = cmp.table[cmp.table["signature"] == BROAD].sort_values("difference")
axes[1].barh(d["gene"], d["difference"], color=np.where(d["difference"] > 0, "#D55E00", "#0072B2"))
axes[1].set(xlabel="contribution difference (NCI/ADR-RES - OVCAR-8)", title="efflux_abc, gene by gene")
fig.tight_layout()
plt.show()

# %% [markdown]
# ABCB1 alone accounts for more than the whole difference of the broad score (its share exceeds 1 because a few
# other transporters are slightly *lower* in NCI/ADR-RES). The array shows ABCB1 about 8 log2 units (~250-fold)
# above the parent line, as published.
#
# The isogenic pair also shows the pharmacology. With everything but the selection history shared, the
# difference in -log10 GI50 is the resistance acquired: large for the P-gp substrates, none for cisplatin.

# %%
pair = gi50.loc[["NCI/ADR-RES", "OVCAR-8"]].T
pair["difference"] = pair["NCI/ADR-RES"] - pair["OVCAR-8"]
pair["P-gp substrate"] = pair.index.isin(SUBSTRATES)
assert (pair.loc[SUBSTRATES, "difference"] < -1).all() and abs(pair.loc["cisplatin", "difference"]) < 0.5
pair.round(2)

# %% [markdown]
# ## 4. The P-gp score and drug sensitivity across the panel
#
# We correlate the P-gp score with -log10 GI50 (higher = more sensitive) using Spearman's rho, with a
# Fisher-z 95% CI. Expected from P-gp biology: **negative** rho for the four P-gp substrates (more pump, less
# sensitive), and **no association** for cisplatin. Expected from the panel's structure: *weak* associations,
# because most of the variance in both expression and drug sensitivity across NCI-60 follows the tissue of
# origin (leukaemias are sensitive to almost everything, for example), and only a few lines express P-gp at all.

# %%
pgp_assoc = rs.tl.associate(res, gi50, signatures=PGP)
pgp_assoc.table[["signature", "response", "n", "effect", "ci_low", "ci_high", "pvalue", "fdr"]]

# %%
fig, axes = plt.subplots(1, 5, figsize=(16, 3.2), sharex=True)
for ax, drug in zip(axes, DRUGS):
    rs.pl.response(res, gi50[drug], signature=PGP, ax=ax)
    ax.set_title(drug)
    ax.set_ylabel("-log10 GI50" if drug == DRUGS[0] else "")
fig.tight_layout()
plt.show()

# %% [markdown]
# The scatter plots show why the rank correlations are weak: most lines barely express ABCB1 (scores piled up
# on the left, where their order is noise), and only a few P-gp-high lines carry the signal. NCI/ADR-RES, the
# right-most point, is the least sensitive line of the panel to doxorubicin and paclitaxel, but unremarkable
# for cisplatin.
#
# ## 5. Broad efflux and drug-specific signatures vs their drug's GI50
#
# The issue behind this analysis asked for a report, *without tuning the signatures to the data*, of how the
# **broad efflux signature** (`efflux_abc`) and the **drug-specific signatures** (`rs.sig.drug_signatures`:
# for each drug, the genes of every mechanism linked to that drug, with their directions) associate with the
# drug's GI50 - whatever they show. One table, one row per (signature, drug) pair, with Spearman's rho, its
# 95% CI, the p-value and a **Benjamini-Hochberg FDR over all 15 rows** of the table (computed here with
# statsmodels, since the rows come from separate calls).

# %%
dsig = rs.sig.drug_signatures(DRUGS)
dsig

# %%
dres = rs.tl.score(expr, dsig, pvalues=False)
dres.coverage[["n_genes", "n_found", "weight_covered", "reported", "missing"]]

# %%
rows = []
for drug in DRUGS:
    for label, result, sig in (
        ("P-gp (efflux_abc.abcb1)", res, PGP),
        ("broad efflux (efflux_abc)", res, BROAD),
        ("drug-specific", dres, f"drug.{drug}"),
    ):
        t = rs.tl.associate(result, gi50[[drug]], signatures=sig).table
        rows.append(t.assign(signature_kind=label))
table = pd.concat(rows, ignore_index=True)
table["fdr_table"] = multipletests(table["pvalue"], method="fdr_bh")[1]
table["p-gp substrate"] = table["response"].isin(SUBSTRATES)
summary = table[
    [
        "response",
        "p-gp substrate",
        "signature_kind",
        "signature",
        "n",
        "effect",
        "ci_low",
        "ci_high",
        "pvalue",
        "fdr_table",
    ]
].rename(columns={"response": "drug", "effect": "spearman_rho"})
summary.round(3)

# %%
fig, ax = plt.subplots(figsize=(6, 5))
kinds = summary["signature_kind"].unique()
offsets = dict(zip(kinds, (-0.22, 0.0, 0.22)))
palette = dict(zip(kinds, ("#D55E00", "#0072B2", "#009E73")))
for kind, sub in summary.groupby("signature_kind", sort=False):
    y = np.arange(len(DRUGS)) + offsets[kind]
    sub = sub.set_index("drug").loc[DRUGS]
    ax.errorbar(
        sub["spearman_rho"],
        y,
        xerr=[sub["spearman_rho"] - sub["ci_low"], sub["ci_high"] - sub["spearman_rho"]],
        fmt="o",
        color=palette[kind],
        label=kind,
        capsize=2,
    )
ax.axvline(0, color="grey", lw=0.8)
ax.set_yticks(range(len(DRUGS)), DRUGS)
ax.invert_yaxis()
ax.set(xlabel="Spearman rho with -log10 GI50 (95% CI)", title="signature score vs drug sensitivity, NCI-60")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
plt.show()

# %%
sub = summary.set_index(["signature_kind", "drug"])
pgp_rho = sub.loc["P-gp (efflux_abc.abcb1)", "spearman_rho"]
print("P-gp score, mean rho over the four substrates:", round(float(pgp_rho[SUBSTRATES].mean()), 3))
print("P-gp score, rho for cisplatin:", round(float(pgp_rho["cisplatin"]), 3))
print("rows with table-wide FDR < 0.05:", int((summary["fdr_table"] < 0.05).sum()), "of", len(summary))
# the discussion below describes these facts; if a check fails, the data or signatures changed: update the text
assert (pgp_rho[SUBSTRATES] < 0).all() and abs(pgp_rho["cisplatin"]) < 0.15
assert (summary["fdr_table"] >= 0.05).all()

# %% [markdown]
# ### What this shows (and does not)
#
# * **P-gp sub-signature.** Its rho is negative for all four P-gp substrates and close to zero for cisplatin,
#   the direction P-gp biology predicts, but the associations are weak (|rho| of roughly 0.1-0.25 here) and their
#   confidence intervals include zero; after FDR correction over the table none is significant. This matches
#   the literature on this panel (ABCB1 expression vs substrate GI50: Spearman about -0.15 to -0.35). A handful of
#   P-gp-high lines (NCI/ADR-RES, HCT-15, renal lines) cannot dominate a rank correlation over ~59 lines whose
#   sensitivity is set mostly by tissue of origin and proliferation.
# * **Broad efflux signature.** Diluting ABCB1 among eleven other transporters removes even this weak signal
#   for the substrates. Its nominal association with cisplatin (the negative control for P-gp) does not survive correction over the
#   table and is not evidence of efflux biology; the broad signature does include MRP transporters such as
#   ABCC2 that export platinum-glutathione conjugates, so it is at most a hypothesis for a targeted test.
# * **Drug-specific signatures** combine efflux, target, apoptosis, DNA-repair and other genes linked to each
#   drug by the review. They give weak negative associations of similar size to the P-gp score for doxorubicin
#   and vinblastine and none of note for the taxanes or cisplatin.
# * **No tuning.** Signatures, weights and the scoring method are the shipped defaults; nothing was selected
#   on these data. Weak associations are the expected, honest outcome on a cross-tissue panel: a gene-set score is
#   a hypothesis about mechanism, not a drug-response predictor, and stronger tests need within-tissue designs,
#   isogenic pairs (like NCI/ADR-RES vs OVCAR-8) or covariate adjustment.

# %% [markdown]
# A tissue-adjusted view: each panel has too few lines to test on its own, but the **partial** Spearman
# correlation, adjusting for the tissue panel (dummy-coded), asks whether the P-gp score tracks sensitivity
# beyond tissue of origin.

# %%
adj = rs.tl.associate(res, gi50, metadata=panel, signatures=PGP, covariates="panel")
adj.table[["signature", "response", "n", "effect", "effect_type", "ci_low", "ci_high", "pvalue", "fdr"]]

# %% [markdown]
# Adjusting for tissue changes little: the associations stay weak and negative for the four substrates and
# null for cisplatin.
#
# ## 6. Does the array agree with qRT-PCR?
#
# Szakacs et al. (2004) measured ABCB1 by qRT-PCR in the same lines. Agreement between two independent
# technologies is a check that the array ABCB1 signal (and hence the P-gp score) measures the gene.

# %%
qpcr = nci.qpcr.to_df()
both = expr.index.intersection(qpcr.index)
agree = pd.DataFrame(
    {
        "array_ABCB1": expr.loc[both, "ABCB1"],
        "qpcr_ABCB1": qpcr.loc[both, "ABCB1"],
        "pgp_score": res.scores.loc[both, PGP],
    }
)
rho_arr = stats.spearmanr(agree["array_ABCB1"], agree["qpcr_ABCB1"])
rho_score = stats.spearmanr(agree["pgp_score"], agree["qpcr_ABCB1"])
print(f"{len(both)} lines; Spearman array vs qPCR: rho = {rho_arr.statistic:.2f} (p = {rho_arr.pvalue:.1e})")
print(f"Spearman P-gp score vs qPCR: rho = {rho_score.statistic:.2f} (p = {rho_score.pvalue:.1e})")
print("top 5 by qPCR:", agree["qpcr_ABCB1"].nlargest(5).index.tolist())
print("top 5 by P-gp score:", agree["pgp_score"].nlargest(5).index.tolist())
assert agree["qpcr_ABCB1"].idxmax() == "NCI/ADR-RES" and rho_arr.statistic > 0

# %%
fig, ax = plt.subplots(figsize=(4.5, 4))
ax.scatter(agree["qpcr_ABCB1"], agree["array_ABCB1"], s=14, color="#999999")
for line in ("NCI/ADR-RES", "OVCAR-8", "HCT-15"):
    ax.scatter(agree.loc[line, "qpcr_ABCB1"], agree.loc[line, "array_ABCB1"], s=30, color="#D55E00")
    ax.annotate(line, (agree.loc[line, "qpcr_ABCB1"], agree.loc[line, "array_ABCB1"]), fontsize=7)
ax.set(
    xlabel="ABCB1 qRT-PCR (Szakacs 2004)",
    ylabel="ABCB1 U133A (log2 GCRMA)",
    title=f"ABCB1, array vs qPCR (Spearman {rho_arr.statistic:.2f})",
)
plt.show()

# %% [markdown]
# The two technologies agree moderately across the panel (most lines barely express ABCB1, where both
# assays are near their floor and rank noise dominates) and fully at the top: the lines with high P-gp by
# qPCR are those with high array signal, NCI/ADR-RES first.
#
# ## Summary
#
# * The shipped P-gp sub-signature identifies the doxorubicin-selected NCI/ADR-RES as the top P-gp line of the
#   panel, and the comparison with its parent OVCAR-8 attributes the difference to ABCB1, ~8 log2 units up.
# * Across the panel, P-gp scores associate weakly and negatively with sensitivity to P-gp substrates and not with
#   cisplatin; none of these survives multiple-testing correction, and the broad and drug-specific signatures
#   do no better. These are reported as they are, without tuning.
# * ABCB1 on the array agrees with qRT-PCR.
