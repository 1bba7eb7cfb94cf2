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
# efflux and apoptosis programmes of the bulk toy cohort are active in 70% of **tumour** cells (by construction:
# `help(rs.ds.toy)`); a DNA-repair programme is active in the tumour cells of 2 patients, one in each group and
# of different tissues (`adata.obs["dna_repair"]`, the table below).

# %%
import warnings
from importlib.metadata import version

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scanpy as sc

import resistscore as rs

pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 22)
pd.set_option("display.max_colwidth", 100)
sc.settings.verbosity = 0
print("resistscore", rs.__version__, "| scanpy", version("scanpy"))

# %%
adata = rs.ds.toy("sc")
adata

# %%
adata.obs.groupby(["patient", "group", "tissue", "dna_repair"], observed=True).size().rename(
    "cells"
).reset_index()

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
# For single-cell data the default method is **UCell** (Andreatta & Carmona 2021): a rank-based score computed
# from the top `max_rank` genes of each cell, which is robust to drop-outs and to the cell's library size.
# Single cell or bulk is judged on the data (cell annotations such as scanpy's QC columns or clusters, or mostly
# zeros), not on how the matrix is stored. Per-cell p-values compare each score with expression-matched control
# sets; for single cells the default is a **pooled** null (the control scores of all cells, standardised, form
# one reference distribution, so p-values are not limited to 1 / (1 + number of control sets)). The results are
# written into the AnnData (`obsm["resistscore_scores"]`, `...pvalues`, `...fdr`, and `uns["resistscore"]` with
# the parameters and versions).

# %%
rs.tl.score(adata)
params = adata.uns["resistscore"]
print(
    f"{params['data_kind']} data: method {params['method']}, {params['n_controls']} control sets, {params['null']} null"
)
assert params["data_kind"] == "single_cell" and params["method"] == "ucell"
scores = adata.obsm["resistscore_scores"]
scores.iloc[:5, :6]

# %%
SIGS = ["efflux_abc", "apoptosis", "dna_repair.ner", "microenvironment"]
pv = adata.obsm["resistscore_pvalues"][SIGS]
(pv < 0.05).groupby([adata.obs["group"], adata.obs["cell_type"]], observed=True).mean().round(3)

# %%
share = (pv < 0.05).groupby([adata.obs["group"], adata.obs["cell_type"]], observed=True).mean()
planted = share.loc[("resistant", "tumour"), ["efflux_abc", "apoptosis"]]
elsewhere = share.drop(index=("resistant", "tumour")).to_numpy().max()
fdr = adata.obsm["resistscore_fdr"]
n_tests, n_called = int(fdr.notna().sum().sum()), int((fdr < 0.05).sum().sum())
p_min = float(np.nanmin(adata.obsm["resistscore_pvalues"]))
print(
    f"share with p < 0.05: {planted.min():.0%}-{planted.max():.0%} in resistant tumour cells for efflux and apoptosis;"
)
print(f"  at most {elsewhere:.0%} in any other group of cells or signature above")
print(
    f"smallest p-value: {p_min:.1e} (1 / (1 + {params['n_controls']}) = {1 / (1 + params['n_controls']):.1e})"
)
print(f"cell x signature tests with FDR < 0.05: {n_called} of {n_tests:,}")
assert planted.min() > 0.1 and elsewhere < 0.075
assert p_min < 1 / (1 + params["n_controls"]) and n_called < 0.01 * n_tests

# %% [markdown]
# The share of cells with p < 0.05 is near the nominal 5% (or lower) everywhere except in resistant tumour cells
# for efflux and apoptosis - where the programme was planted. The pooled null resolves p-values far below
# 1 / (1 + number of control sets), yet only a handful of the cell x signature tests pass FDR < 0.05 (the
# numbers above): a single cell holds a few thousand transcripts, and one cell is weak evidence. The value of
# single-cell data lies in *where* a programme is (which cell type, which patient) rather than in per-cell calls.
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
# `unit="cell"` treats the tumour cells (their number is the `n1` + `n2` of the table below) as independent samples. resistscore warns
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

# %%
est = pb.table.set_index("signature")
cell_p = cells.table.set_index("signature")["pvalue"]
cell_est = cells.table.set_index("signature")["estimate"]
for sig in ("efflux_abc", "apoptosis"):  # same effect, p-values orders of magnitude smaller
    assert abs(cell_est[sig] - est.loc[sig, "estimate"]) < 0.01 * abs(est.loc[sig, "estimate"])
    assert cell_p[sig] < est.loc[sig, "pvalue"] * 1e-6
assert (
    est.loc["dna_repair.ner", "pvalue"] > 0.05 and cell_p["dna_repair.ner"] > 0.05
)  # carriers in both groups

# %% [markdown]
# The estimated difference is the same, but the cell-level p-values are smaller by many orders of magnitude,
# and that inflation grows with the number of cells sequenced, not with the evidence. For a real effect
# (efflux, apoptosis) this is merely overconfident. For anything that differs between *patients* it is
# worse: the cell-level test reads patient-to-patient variation as a group effect. The DNA-repair programme
# shows it. Here its two carriers sit one in each group, so neither test sees a difference. But suppose the six
# patients had been split differently - say by the hospital that treated them, P001, P002 and P006 against
# P003, P004 and P005 - so that both carriers fall on one side:

# %%
split = tumour.obs.assign(hospital=np.where(tumour.obs["patient"].isin(["P001", "P002", "P006"]), "A", "B"))
by_patient = rs.tl.compare_groups(
    tumour, split, group="hospital", reference="B", sample_key="patient", signatures="dna_repair.ner"
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", rs.CellsAsReplicatesWarning)  # shown above
    by_cell = rs.tl.compare_groups(
        tumour,
        split,
        group="hospital",
        reference="B",
        sample_key="patient",
        unit="cell",
        signatures="dna_repair.ner",
    )
hospital = pd.concat(
    {"patients (3 + 3)": by_patient.table, "cells as replicates": by_cell.table}, names=["unit"]
)
hospital = hospital.droplevel(1)[["signature", "n1", "n2", "estimate", "pvalue"]]
hospital

# %%
assert (
    hospital.loc["patients (3 + 3)", "pvalue"] > 0.05
    and hospital.loc["cells as replicates", "pvalue"] < 1e-10
)

# %% [markdown]
# Two of three patients against none of three is what a study of six patients can say about the programme,
# and the patient-level test says so (p > 0.05). The cell-level test turns the same two patients into an
# astronomically small p-value.
#
# ### (c) Mixed model: keep the cells, model the patient
#
# `model="mixed"` fits a linear mixed model on the cells with a random intercept per patient (by REML, as R's
# lme4 does; the estimates equal lme4's on this cohort, `tests/tl/stats/test_mixed_lme4.py`), so the cells of one
# patient are no longer treated as independent - when the data let the between-patient variance be estimated.
# With six patients they often do not, and **the `note` column must be read before any number in the row**.

# %%
mixed = rs.tl.compare_groups(
    tumour, group="group", reference="sensitive", sample_key="patient", model="mixed", signatures=SIGS
)
mixed.table[["signature", "test", "estimate", "estimate_ci_low", "estimate_ci_high", "pvalue", "note"]]

# %%
mt = mixed.table.set_index("signature")
boundary = mt["note"].str.startswith("boundary (singular) fit")
print(f"signatures with a mixed-model estimate: {int(mt['estimate'].notna().sum())} of {len(mt)}")
print(f"boundary (singular) fits: {', '.join(boundary.index[boundary])}")
for sig in ("efflux_abc", "apoptosis"):
    print(f"{sig}: p = {mt.loc[sig, 'pvalue']:.1e} (mixed), {est.loc[sig, 'pvalue']:.1e} (pseudobulk)")
assert mt["estimate"].notna().all() and boundary.sum() == 3 and mt.loc["dna_repair.ner", "note"] == ""
for sig in ("efflux_abc", "apoptosis"):
    assert boundary[sig] and mt.loc[sig, "pvalue"] < est.loc[sig, "pvalue"] * 1e-6
    assert abs(mt.loc[sig, "estimate"] - est.loc[sig, "estimate"]) < 0.01

# %% [markdown]
# Read the notes. Every signature has an estimate, but for three of the four the note says **boundary (singular)
# fit**: the REML estimate of the between-patient variance is zero, so estimate, CI and p-value are those of
# least squares on the cells - the effect of the pseudobulk test, with the astronomically small p-value of
# cells as replicates. lme4 reports the same fit with the same warning ("boundary (singular) fit: see
# help('isSingular')"). Only the NER fit is regular (empty note): it estimates a between-patient variance and
# its interval is wide. A fit that fails outright would fall back to the pseudobulk test, with a note. This is
# why resistscore's default is the pseudobulk: with few patients it is the analysis that stays valid.

# %% [markdown]
# ### The DNA-repair programme, at the right level
#
# The DNA-repair programme varies between patients, not between the resistance groups. Compared at the
# patient level between its two carriers and the four non-carriers, the NER signature shows the expected
# difference.

# %%
repair = rs.tl.compare_groups(
    tumour, group="dna_repair", reference=False, sample_key="patient", signatures=SIGS
)
repair.table[
    ["signature", "group1", "group2", "n1", "n2", "estimate", "estimate_ci_low", "estimate_ci_high", "pvalue"]
]

# %%
assert est.loc["efflux_abc", "estimate"] > 0 and est.loc["efflux_abc", "pvalue"] < 0.05
assert est.loc["apoptosis", "estimate"] > 0 and est.loc["apoptosis", "pvalue"] < 0.05
assert est.loc["microenvironment", "pvalue"] > 0.05 and est.loc["dna_repair.ner", "pvalue"] > 0.05
ner = repair.table.set_index("signature").loc["dna_repair.ner"]
assert ner["estimate"] > 0 and ner["pvalue"] < 0.05
others = repair.table.set_index("signature").drop(index="dna_repair.ner")
assert (others["pvalue"] > 0.05).all()

# %% [markdown]
# NER is the only one of the four signatures that separates the carriers (p < 0.05 with 2 against 4 patients:
# the programme shifts every carrier's tumour cells by the same planted amount, an effect large against the
# patient-to-patient spread), while efflux, apoptosis and the microenvironment do not.

# %% [markdown]
# ## Summary
#
# * Score cells with UCell (the single-cell default), look at the scores per cell type and patient, and on the
#   embedding.
# * Test at the level of the biological replicate: pseudobulk per patient (the default) or a mixed model.
#   Cells-as-replicates p-values are inflated and resistscore warns when you ask for them.
# * With few patients, report the effect size and its confidence interval; the p-value of 3 vs 3 patients is
#   honest about how little six patients can show.
