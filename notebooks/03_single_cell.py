# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Single-cell resistance scoring, and testing it correctly
#
# Single-cell RNA-seq lets us see *which cells* of a tumour carry a resistance programme. It also invites a
# classic statistical error: treating thousands of cells as independent replicates when the unit that was
# sampled - and that differs biologically - is the **patient**. This notebook scores cells, draws the scores on
# an embedding and then compares resistant and sensitive patients in three ways, to show why resistscore tests
# at the patient level by default.
#
# Data: the single-cell toy cohort `rs.ds.toy("sc")`: 6 patients (3 resistant, 3 sensitive), 300 cells each,
# raw UMI counts for ~19,000 genes, three cell types (tumour, fibroblast, T cell). In resistant patients the
# efflux and apoptosis programmes of the bulk toy cohort are active in 70% of **tumour** cells; a DNA-repair
# programme is active in the tumour cells of 2 patients, one in each group and of different tissues
# (`adata.obs["dna_repair"]`).

# %%
import warnings
from importlib.metadata import version

import matplotlib.pyplot as plt
import pandas as pd
import scanpy as sc

import resistscore as rs

pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 22)
sc.settings.verbosity = 0
print("resistscore", rs.__version__, "| scanpy", version("scanpy"))

# %%
adata = rs.ds.toy("sc")
adata

# %%
adata.obs.groupby(["patient", "group", "dna_repair"], observed=True).size().rename("cells").reset_index()

# %% [markdown]
# ## 1. Standard preprocessing with scanpy
#
# Library-size normalisation and log1p, then highly variable genes, PCA, a neighbour graph and UMAP. Scoring
# uses the normalised log expression of **all** genes (not only the highly variable ones), because most
# signature genes are not highly variable.

# %%
sc.pp.normalize_total(adata, target_sum=1e4)
sc.pp.log1p(adata)
sc.pp.highly_variable_genes(adata, n_top_genes=2000)
sc.pp.pca(adata, n_comps=30, mask_var="highly_variable", random_state=0)
sc.pp.neighbors(adata, n_neighbors=15, random_state=0)
sc.tl.umap(adata, random_state=0)
sc.pl.umap(adata, color=["cell_type", "patient", "group"], wspace=0.35, show=False)
plt.show()

# %% [markdown]
# ## 2. Score every cell
#
# For single-cell data (sparse matrices, or more than 5,000 observations) the default method is **UCell**
# (Andreatta & Carmona 2021): a rank-based score computed from the top `max_rank` genes of each cell, which is
# robust to drop-outs and to the cell's library size. Per-cell p-values use 100 expression-matched control
# sets per signature. The results are written into the AnnData (`obsm["resistscore_scores"]`, `...pvalues`,
# `...fdr`, and `uns["resistscore"]` with the parameters and versions).

# %%
rs.tl.score(adata)
params = adata.uns["resistscore"]
print(params["method"], "| control sets:", params["n_controls"])
scores = adata.obsm["resistscore_scores"]
scores.iloc[:5, :6]

# %%
SIGS = ["efflux_abc", "apoptosis", "dna_repair.ner", "microenvironment"]
pv = adata.obsm["resistscore_pvalues"][SIGS]
(pv < 0.05).groupby([adata.obs["group"], adata.obs["cell_type"]], observed=True).mean().round(3)

# %% [markdown]
# The share of cells with p < 0.05 is near the nominal 5% (or lower) everywhere except in resistant tumour cells
# for efflux and apoptosis - where the programme was planted. With 100 controls the smallest per-cell p-value is
# 1/101, so per-cell FDR over 1,800 cells x 54 signatures is, by design, conservative: single cells are noisy, and
# the value of single-cell data lies in *where* a programme is (which cell type, which patient) rather than in
# per-cell calls.
#
# ## 3. Scores on the embedding

# %%
fig = rs.pl.embedding(adata, "umap", signatures=SIGS, ncols=4)
plt.show()

# %%
state = adata.obs.assign(state=adata.obs["group"].astype(str) + " " + adata.obs["cell_type"].astype(str))
ax = rs.pl.profile(adata, by="state", metadata=state, signatures=SIGS)
plt.show()

# %% [markdown]
# ## 4. Testing resistant vs sensitive patients, three ways
#
# ### (a) Pseudobulk (the default): one value per patient
#
# `rs.tl.compare_groups(adata, group=..., sample_key="patient")` averages the cell scores of each patient and
# compares the patients: here 3 against 3. This respects the design - resistance status is a property of the
# patient - and its p-values are valid whatever the number of cells. We restrict to tumour cells, where the
# biology is.

# %%
tumour = adata[adata.obs["cell_type"] == "tumour"].copy()
pb = rs.tl.compare_groups(tumour, group="group", reference="sensitive", sample_key="patient", signatures=SIGS)
pb.table[
    ["signature", "test", "n1", "n2", "estimate", "estimate_ci_low", "estimate_ci_high", "pvalue", "fdr"]
]

# %% [markdown]
# ### (b) Cells as replicates (wrong, for demonstration)
#
# `unit="cell"` treats the ~1,250 tumour cells as independent samples. resistscore warns
# (`CellsAsReplicatesWarning`), because cells of one patient share that patient's biology and technical
# batch: they are pseudo-replicates. We catch the warning to show it.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    cells = rs.tl.compare_groups(
        tumour, group="group", reference="sensitive", sample_key="patient", unit="cell", signatures=SIGS
    )
for w in caught:
    print(
        f"{type(w.category).__name__ if not isinstance(w.category, type) else w.category.__name__}: {w.message}"
    )
assert any(issubclass(w.category, rs.CellsAsReplicatesWarning) for w in caught)
cells.table[
    ["signature", "test", "n1", "n2", "estimate", "estimate_ci_low", "estimate_ci_high", "pvalue", "fdr"]
]

# %%
side = pd.DataFrame(
    {
        "estimate": pb.table.set_index("signature")["estimate"],
        "p (patients, n = 3 + 3)": pb.table.set_index("signature")["pvalue"],
        "p (cells as replicates)": cells.table.set_index("signature")["pvalue"],
    }
)
side

# %% [markdown]
# The estimated difference is the same, but the cell-level p-values are smaller by many orders of magnitude,
# and that inflation grows with the number of cells sequenced, not with the evidence. For a real effect
# (efflux, apoptosis) this is merely overconfident; for a null one the cell-level test declares
# "significance" whenever patients differ for any reason. The DNA-repair NER row shows the danger: it is a
# patient-level programme unrelated to the resistance groups, and a cell-level test, fed patient-to-patient
# variation as if it were a group effect, is far more likely to call it than the patient-level test is.
#
# ### (c) Mixed model: keep the cells, model the patient
#
# `model="mixed"` fits a linear mixed model (statsmodels MixedLM) on the cells with a random intercept per
# patient, so the cells of one patient are no longer treated as independent. This works when there are enough
# patients to estimate the between-patient variance. With six patients it is fragile, and **the `note` column
# must be read before any number in the row**.

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # statsmodels' optimiser warnings are summarised in the note column
    mixed = rs.tl.compare_groups(
        tumour, group="group", reference="sensitive", sample_key="patient", model="mixed", signatures=SIGS
    )
mixed.table[["signature", "test", "estimate", "estimate_ci_low", "estimate_ci_high", "pvalue", "note"]]

# %% [markdown]
# Read the notes. When they report that the optimiser did not converge or that the random-effect covariance is
# singular (at the time of writing, for most signatures here), the between-patient variance was estimated at zero (in the toy data the patients of one
# group differ little beyond the planted group effect). At that boundary the fit is unreliable - absurdly wide
# intervals for some signatures - or it collapses to the cells-as-replicates analysis, with the same tiny
# p-values. **None of these rows should be reported.** This is why resistscore's default is the pseudobulk:
# with few patients it is the analysis that stays valid, and its effect estimates match the other two.

# %% [markdown]
# ### The DNA-repair programme, at the right level
#
# The DNA-repair programme varies between patients, not between the resistance groups. Compared at the
# patient level between carriers and non-carriers, the NER signature shows the expected difference (with two
# carriers against four non-carriers the test has very little power, which is the honest state of affairs
# with six patients).

# %%
repair = rs.tl.compare_groups(
    tumour, group="dna_repair", reference=False, sample_key="patient", signatures=SIGS
)
repair.table[
    ["signature", "group1", "group2", "n1", "n2", "estimate", "estimate_ci_low", "estimate_ci_high", "pvalue"]
]

# %%
est = pb.table.set_index("signature")
assert est.loc["efflux_abc", "estimate"] > 0 and est.loc["efflux_abc", "pvalue"] < 0.05
assert est.loc["apoptosis", "estimate"] > 0 and est.loc["apoptosis", "pvalue"] < 0.05
assert est.loc["microenvironment", "pvalue"] > 0.05
cell_p = cells.table.set_index("signature")["pvalue"]
for sig in ("efflux_abc", "apoptosis"):  # the inflation: same effect, p-values orders of magnitude smaller
    assert cell_p[sig] < est.loc[sig, "pvalue"] * 1e-6
assert repair.table.set_index("signature").loc["dna_repair.ner", "estimate"] > 0

# %% [markdown]
# ## Summary
#
# * Score cells with UCell (the single-cell default), look at the scores per cell type and patient, and on the
#   embedding.
# * Test at the level of the biological replicate: pseudobulk per patient (the default) or a mixed model.
#   Cells-as-replicates p-values are inflated and resistscore warns when you ask for them.
# * With few patients, report the effect size and its confidence interval; the p-value of 3 vs 3 patients is
#   honest about how little six patients can show.
