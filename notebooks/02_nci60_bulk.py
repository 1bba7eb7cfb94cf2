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
import pandas as pd

import resistscore as rs

pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
DATA = Path(os.environ.get("RESISTSCORE_SHARED_DATA", "../../shared/data")) / "nci60"
print("resistscore", rs.__version__, "| data:", DATA)

# %% [markdown]
# ## 1. Load and join the three files
#
# `rs.ds.nci60` reads the U133A expression (GCRMA log2, probe sets of one HGNC gene averaged within each line;
# probe sets without a gene kept under their id), the DTP GI50 table and the ABC-transporter qPCR table, and matches the cell lines whose names differ between files
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
broad_rank = int(res.scores[BROAD].rank(ascending=False)["NCI/ADR-RES"])
print(f"NCI/ADR-RES ranks {broad_rank} of {len(res.scores)} by the broad {BROAD} score")
assert ranking.index[0] == "NCI/ADR-RES" and ranking.index[1] == "HCT-15"
assert (ranking["panel"].head(5) == "Renal").sum() >= 2 and broad_rank > 5
ax = rs.pl.groups(res, panel, group="panel", signatures=PGP)
plt.show()

# %% [markdown]
# NCI/ADR-RES ranks first (the top point of the ovarian panel above), followed by lines known to express P-gp
# intrinsically (the colon line HCT-15 and several renal lines, whose tissue of origin expresses ABCB1). The
# broad 14-gene `efflux_abc` signature does **not** single NCI/ADR-RES out (its rank is printed above): its
# other transporters (MRPs, BCRP, ...) are not up in this line and dilute the one gene that is.
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
log2_up = top["value"] - top["value_reference"]
print(
    f"ABCB1: {top['value']:.2f} vs {top['value_reference']:.2f} log2, {log2_up:.1f} log2 units ({2**log2_up:,.0f}-fold)"
)
print(f"ABCB1's share of the difference of the {BROAD} score: {top['share']:.2f}")
assert top["gene"] == "ABCB1" and top["share"] > 1 and 7.5 < log2_up < 8.5
ax = rs.pl.contributions(res, ["NCI/ADR-RES", "OVCAR-8"], BROAD)
plt.show()

# %% [markdown]
# ABCB1 alone accounts for more than the whole difference of the broad score (its share exceeds 1 because a few
# other transporters are slightly *lower* in NCI/ADR-RES). The array shows ABCB1 about 8 log2 units (a few
# hundred-fold; printed above) above the parent line.
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

# %%
least_sensitive = gi50.idxmin()
cisplatin_pct = gi50["cisplatin"].rank(pct=True)["NCI/ADR-RES"]
print("least sensitive line per drug:", least_sensitive.to_dict())
print(f"NCI/ADR-RES's cisplatin sensitivity: percentile {cisplatin_pct:.0%} of the panel")
assert (least_sensitive[["doxorubicin", "paclitaxel"]] == "NCI/ADR-RES").all() and 0.2 < cisplatin_pct < 0.8

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
# drug's GI50 - whatever they show. One call of `rs.tl.associate` tests every signature against every drug
# (Spearman's rho, its 95% CI and p-value) and adjusts the p-values with Benjamini-Hochberg across the
# signatures tested for each drug; the table keeps one row per (signature, drug) pair of interest: the P-gp and
# broad efflux scores for every drug, and each drug's own signature for its drug.

# %%
dsig = rs.sig.drug_signatures(DRUGS)
dsig

# %%
dres = rs.tl.score(expr, dsig, pvalues=False)
dres.coverage[["n_genes", "n_found", "weight_covered", "reported", "missing"]]

# %%
every = rs.tl.associate(pd.concat([res.scores, dres.scores], axis=1), gi50)
t = every.table
table = t[t["signature"].isin([PGP, BROAD]) | (t["signature"] == "drug." + t["response"])]
kind = {PGP: "P-gp (efflux_abc.abcb1)", BROAD: "broad efflux (efflux_abc)"}
summary = table.assign(
    signature_kind=table["signature"].map(kind).fillna("drug-specific"),
    p_gp_substrate=table["response"].isin(SUBSTRATES),
)
cols = [
    "response",
    "p_gp_substrate",
    "signature_kind",
    "signature",
    "n",
    "effect",
    "ci_low",
    "ci_high",
    "pvalue",
    "fdr",
]
summary = summary[cols].rename(columns={"response": "drug", "effect": "spearman_rho"}).reset_index(drop=True)
summary.round(3)

# %%
ax = rs.pl.forest(table, sort=False)  # Spearman's rho with -log10 GI50 and its 95% CI
plt.show()

# %%
sub = summary.set_index(["signature_kind", "drug"])
pgp = sub.loc["P-gp (efflux_abc.abcb1)"]
broad = sub.loc["broad efflux (efflux_abc)"]
specific = sub.loc["drug-specific"]
rho_range = pgp.loc[SUBSTRATES, "spearman_rho"].agg(["min", "max"])
print(f"P-gp score: rho {rho_range['min']:.2f} to {rho_range['max']:.2f} for the four substrates,", end=" ")
print(f"{pgp.loc['cisplatin', 'spearman_rho']:.2f} for cisplatin")
strongest = broad["spearman_rho"].abs().idxmax()
n_transporters = int(res.coverage.loc[BROAD, "n_found"])
print(f"broad efflux ({n_transporters} transporters measured): largest |rho| for {strongest},", end=" ")
print(f"rho {broad.loc[strongest, 'spearman_rho']:.2f}")
print("rows with FDR < 0.05:", int((every.table["fdr"] < 0.05).sum()), "of", len(every.table), "tests")
# the discussion below describes these facts; if a check fails, the data or signatures changed: update the text
assert (pgp.loc[SUBSTRATES, "spearman_rho"] < 0).all() and abs(pgp.loc["cisplatin", "spearman_rho"]) < 0.15
assert (pgp.loc[SUBSTRATES, "spearman_rho"].abs() < 0.35).all()
excludes_zero = pgp.index[(pgp["ci_high"] < 0) | (pgp["ci_low"] > 0)].tolist()
print("P-gp score, intervals that exclude zero:", excludes_zero)
assert excludes_zero == ["docetaxel"]
assert (every.table["fdr"] >= 0.05).all()
assert strongest == "cisplatin" and broad.loc["cisplatin", "fdr"] >= 0.05
assert broad.loc["doxorubicin", "spearman_rho"] > pgp.loc["doxorubicin", "spearman_rho"]
assert (broad.loc[["paclitaxel", "docetaxel", "vinblastine"], "spearman_rho"] > -0.05).all()
rho_specific = specific.loc[SUBSTRATES, "spearman_rho"]
assert rho_specific.between(-0.3, -0.1).all() and rho_specific.idxmin() == "doxorubicin"
assert abs(specific.loc["cisplatin", "spearman_rho"]) < 0.15

# %% [markdown]
# ### What this shows (and does not)
#
# * **P-gp sub-signature.** Its rho is negative for all four P-gp substrates and close to zero for cisplatin,
#   the direction P-gp biology predicts, but the associations are weak (|rho| below 0.35; the range is printed
#   above): only docetaxel's confidence interval excludes zero, and after FDR correction none is significant. A handful of
#   P-gp-high lines (NCI/ADR-RES, HCT-15, renal lines) cannot dominate a rank correlation over the whole panel,
#   whose sensitivity is set mostly by tissue of origin and proliferation.
# * **Broad efflux signature.** Diluting ABCB1 among the other measured transporters weakens this signal for
#   doxorubicin and removes it for the taxanes and vinblastine. Its largest association is with cisplatin (the negative control for P-gp); it does
#   not survive FDR correction and is not evidence of efflux biology. The broad signature does include MRP
#   transporters such as ABCC2 that export platinum-glutathione conjugates, so it is at most a hypothesis for a
#   targeted test.
# * **Drug-specific signatures** combine efflux, target, apoptosis, DNA-repair and other genes linked to each
#   drug by the review. They give weak negative associations for the four substrates (rho between -0.3 and -0.1,
#   strongest for doxorubicin) and close to zero for cisplatin, none significant after correction.
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

# %%
partial = adj.table.set_index("response")
assert (partial.loc[SUBSTRATES, "effect"] < 0).all() and abs(partial.loc["cisplatin", "effect"]) < 0.1
assert (partial["pvalue"] > 0.05).all()

# %% [markdown]
# Adjusting for tissue changes little: the associations stay weak and negative for the four substrates and
# null for cisplatin, and none reaches p < 0.05.
#
# ## 6. Does the array agree with qRT-PCR?
#
# Szakacs et al. (2004) measured ABCB1 by qRT-PCR in the same lines. Agreement between two independent
# technologies is a check that the array ABCB1 signal (and hence the P-gp score) measures the gene. The same
# `rs.tl.associate` answers it, with the array's ABCB1 and the P-gp score as the two "scores" and the qPCR as
# the response.

# %%
qpcr = nci.qpcr.to_df()
both = expr.index.intersection(qpcr.index)
array = pd.DataFrame({"ABCB1 (array)": expr.loc[both, "ABCB1"], "P-gp score": res.scores.loc[both, PGP]})
by_qpcr = qpcr.loc[both, "ABCB1"].rename("ABCB1 (qPCR)")
agree = rs.tl.associate(array, by_qpcr)
agree.table[["signature", "response", "n", "effect", "ci_low", "ci_high", "pvalue"]]

# %%
top_qpcr = by_qpcr.nlargest(5).index.tolist()
top_score = array["P-gp score"].nlargest(5).index.tolist()
print("top 5 by qPCR:", top_qpcr)
print("top 5 by P-gp score:", top_score)
rho = agree.table.set_index("signature")["effect"]
assert top_qpcr[0] == top_score[0] == "NCI/ADR-RES" and set(top_qpcr[:4]) == set(top_score[:4])
assert (rho > 0.3).all() and (rho < 0.7).all()
ax = rs.pl.response(array, by_qpcr, signature="ABCB1 (array)")
ax.set(xlabel="ABCB1 U133A (log2 GCRMA)", ylabel="ABCB1 qRT-PCR (Szakacs 2004)")
plt.show()

# %% [markdown]
# The two technologies agree moderately across the panel (rho between 0.3 and 0.7; most lines barely express
# ABCB1, where both assays are near their floor and rank noise dominates) and fully at the top: the four lines
# highest by qPCR are the four highest by the P-gp score, NCI/ADR-RES first.
#
# ## Summary
#
# * The shipped P-gp sub-signature identifies the doxorubicin-selected NCI/ADR-RES as the top P-gp line of the
#   panel, and the comparison with its parent OVCAR-8 attributes the difference to ABCB1, about 8 log2 units up.
# * Across the panel, P-gp scores associate weakly and negatively with sensitivity to P-gp substrates and not with
#   cisplatin; none of these survives multiple-testing correction, and the broad and drug-specific signatures
#   do no better. These are reported as they are, without tuning.
# * ABCB1 on the array agrees with qRT-PCR, fully for the lines that express it most.
