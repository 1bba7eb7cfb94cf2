"""A deterministic synthetic cancer cohort with planted drug-resistance programmes (a known answer)."""

from __future__ import annotations

from dataclasses import dataclass

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from resistscore._errors import ResistScoreError
from resistscore._validate import check_choice, check_int, check_real
from resistscore.pp import gene_table

__all__ = ["CONFOUNDER", "PROGRAMMES", "toy"]


@dataclass(frozen=True)
class _Programme:
    """A planted expression programme: genes shifted up or down in some samples."""

    description: str
    up: tuple[str, ...]
    down: tuple[str, ...]
    shift: float  # log2 fold change in bulk; multiplicative log2 effect in single cell
    carriers: str  # which samples/cells carry it


#: The programmes planted in the toy cohort, chosen from textbook biology (not from resistscore's
#: signature files, so that scoring them is an honest test): what a method should find.
PROGRAMMES: dict[str, _Programme] = {
    "efflux": _Programme(
        "ABC-transporter drug efflux (P-glycoprotein, MRP1, BCRP) up",
        up=("ABCB1", "ABCC1", "ABCG2", "ABCC2", "ABCC3"),
        down=(),
        shift=2.5,
        carriers="resistant samples",
    ),
    "anti_apoptotic": _Programme(
        "anti-apoptotic BCL2 family and IAPs up",
        up=("BCL2", "BCL2L1", "MCL1", "BIRC5", "XIAP", "BIRC2", "BIRC3", "CFLAR"),
        down=(),
        shift=1.5,
        carriers="resistant samples",
    ),
    "pro_apoptotic": _Programme(
        "pro-apoptotic BH3-only/effector genes and caspases down",
        up=(),
        down=("BAX", "BAK1", "BBC3", "PMAIP1", "BCL2L11", "BID", "CASP3", "CASP8", "CASP9", "APAF1"),
        shift=1.5,
        carriers="resistant samples",
    ),
    "dna_repair": _Programme(
        "nucleotide-excision and homologous-recombination repair up",
        up=("ERCC1", "ERCC2", "ERCC4", "XPA", "XPC", "BRCA1", "BRCA2", "RAD51", "PALB2", "MGMT", "PARP1"),
        down=(),
        shift=1.5,
        carriers="samples with dna_repair == True (one third of each group)",
    ),
}

#: The proliferation confounder planted by ``toy(confounded=True)``: textbook cell-cycle genes (S phase:
#: replication licensing and synthesis; G2/M: mitotic cyclins and kinases) raised together with the
#: E2F-driven nucleotide-synthesis enzymes that antimetabolites target (TYMS, DHFR, RRM1, RRM2), in
#: proliferating samples - most of them resistant. Chosen from textbook biology, not read from
#: resistscore's signature files.
CONFOUNDER: _Programme = _Programme(
    "proliferation (cell-cycle genes) with the antimetabolite targets TYMS, DHFR, RRM1, RRM2 up",
    up=(
        "MKI67",
        "TOP2A",
        "PCNA",
        "MCM2",
        "MCM3",
        "MCM4",
        "MCM5",
        "MCM6",
        "MCM7",
        "FEN1",
        "CDC6",
        "CDC45",
        "CCNE1",
        "CCNE2",
        "E2F1",
        "MYBL2",
        "CCNA2",
        "CCNB1",
        "CCNB2",
        "CDK1",
        "AURKA",
        "AURKB",
        "PLK1",
        "BUB1",
        "BUB1B",
        "CDC20",
        "CENPF",
        "TPX2",
        "KIF11",
        "UBE2C",
        "FOXM1",
        "TK1",
        "TYMS",
        "DHFR",
        "RRM1",
        "RRM2",
    ),
    down=(),
    shift=1.5,
    carriers="proliferating samples (proliferating == True): 4 in 5 resistant and 1 in 5 sensitive samples",
)

_TISSUES = ("breast", "lung", "ovary")


def _gene_universe(n_genes: int | None, extra: tuple[str, ...] = ()) -> np.ndarray:
    """Real, current HGNC protein-coding symbols, sorted (all ~19k of them by default), with ``extra`` kept."""
    table = gene_table()
    coding = table.loc[table["locus_group"].astype(str).str.startswith("protein-coding"), "symbol"]
    genes = np.array(sorted(coding.astype(str).unique()))
    planted = {g for p in PROGRAMMES.values() for g in (*p.up, *p.down)} | set(extra)
    missing = planted - set(genes)
    if missing:  # pragma: no cover - guards the shipped gene table
        raise RuntimeError(f"toy programme genes missing from the HGNC table: {sorted(missing)}")
    if n_genes is not None and n_genes < len(genes):
        rng = np.random.default_rng(12345)
        others = np.array(sorted(set(genes) - planted))
        keep = rng.choice(others, size=max(n_genes - len(planted), 0), replace=False)
        genes = np.array(sorted({*keep, *planted}))
    return genes


def _metadata(n: int, rng: np.random.Generator, prefix: str) -> pd.DataFrame:
    """Balanced groups and tissues; a DNA-repair flag in a third of the samples, crossed with both.

    Sample ``i`` has group ``g = i % 2`` and tissue ``t = (i // 2) % 3``; with ``j = i // 6`` it carries the
    DNA-repair programme when ``(t + g + j) % 3 == 0`` (a Latin square), so the flag is balanced across
    groups and tissues instead of coinciding with one of them.
    """
    i = np.arange(n)
    g, t, j = i % 2, (i // 2) % len(_TISSUES), i // 6
    group = np.array(["sensitive", "resistant"])[g]
    tissue = np.array(_TISSUES)[t]
    dna_repair = (t + g + j) % 3 == 0
    obs = pd.DataFrame(
        {
            "group": pd.Categorical(group, categories=["sensitive", "resistant"]),
            "tissue": pd.Categorical(tissue, categories=list(_TISSUES)),
            "dna_repair": dna_repair,
        },
        index=pd.Index([f"{prefix}{i + 1:03d}" for i in range(n)], name="sample"),
    )
    return obs


def _outcomes(obs: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Drug response and survival that depend on the planted resistance (and on nothing else)."""
    resistant = (obs["group"] == "resistant").to_numpy(float)
    repair = obs["dna_repair"].to_numpy(float)
    n = len(obs)
    # log10 IC50 (uM): resistant and DNA-repair-high samples need more drug.
    log10_ic50 = -1.0 + 1.2 * resistant + 0.5 * repair + rng.normal(0.0, 0.35, n)
    # exponential survival, hazard doubled in resistant samples; uniform censoring.
    hazard = 0.05 * np.exp(np.log(2.5) * resistant)
    t_event = rng.exponential(1.0 / hazard)
    t_censor = rng.uniform(12.0, 60.0, n)
    out = obs.copy()
    out["log10_ic50"] = log10_ic50
    out["responder"] = log10_ic50 < np.median(log10_ic50)
    out["survival_months"] = np.round(np.minimum(t_event, t_censor), 2)
    out["event"] = (t_event <= t_censor).astype(int)
    return out


def _toy_bulk(n_samples: int, n_genes: int | None, seed: int, confounded: bool = False) -> ad.AnnData:
    rng = np.random.default_rng(seed)
    genes = _gene_universe(n_genes, CONFOUNDER.up if confounded else ())
    g = len(genes)
    obs = _outcomes(_metadata(n_samples, rng, "S"), rng)
    obs["patient"] = [f"P{i + 1:03d}" for i in range(n_samples)]
    # gene baselines like log2(TPM + 1): a quarter barely expressed, the rest log-normal-ish
    base = np.where(rng.random(g) < 0.25, rng.gamma(1.0, 0.4, g), np.clip(rng.normal(5.0, 2.0, g), 0.5, 14.0))
    sd = rng.uniform(0.2, 0.8, g)
    col = {s: i for i, s in enumerate(genes)}
    # planted genes sit mid-range at baseline, so that both up and down shifts are measurable
    base[[col[s] for p in PROGRAMMES.values() for s in (*p.up, *p.down)]] = 6.0
    X = base + rng.normal(0.0, 1.0, (n_samples, g)) * sd
    # tissue identity: 300 genes per tissue (fewer in small universes), +1.5 log2 in that tissue
    tissue_genes = rng.choice(g, size=(len(_TISSUES), min(300, g // 10)), replace=False)
    for t, idx in zip(_TISSUES, tissue_genes):
        X[np.ix_(obs["tissue"].to_numpy() == t, idx)] += 1.5
    carriers = {
        "efflux": obs["group"].to_numpy() == "resistant",
        "anti_apoptotic": obs["group"].to_numpy() == "resistant",
        "pro_apoptotic": obs["group"].to_numpy() == "resistant",
        "dna_repair": obs["dna_repair"].to_numpy(),
    }
    for name, prog in PROGRAMMES.items():
        rows = carriers[name]
        idx_up = [col[s] for s in prog.up]
        idx_dn = [col[s] for s in prog.down]
        X[np.ix_(rows, idx_up)] += prog.shift
        X[np.ix_(rows, idx_dn)] -= prog.shift
    if confounded:
        _plant_confounder(X, obs, col)
    X = np.clip(X, 0.0, None).astype(np.float32)
    adata = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=pd.Index(genes, name="gene")))
    adata.uns["toy"] = _truth_uns("bulk", seed, "log2(TPM + 1)", confounded)
    return adata


def _plant_confounder(X: np.ndarray, obs: pd.DataFrame, col: dict[str, int]) -> None:
    """Raise :data:`CONFOUNDER` in proliferating samples (in place) and flag them in ``obs["proliferating"]``.

    Of each run of 5 resistant (sensitive) samples, 4 (1) proliferate: sample ``i`` of group ``g`` with
    ``k = (i // 2) % 5`` proliferates when ``k != 0`` (resistant) or ``k == 0`` (sensitive). No random
    number is drawn, so every other value of the cohort is that of ``toy(confounded=False)`` (with the
    same genes).
    """
    k = (np.arange(len(obs)) // 2) % 5
    resistant = (obs["group"] == "resistant").to_numpy()
    proliferating = np.where(resistant, k != 0, k == 0)
    idx = [col[s] for s in CONFOUNDER.up]
    X[:, idx] = 6.0 + (X[:, idx] - X[:, idx].mean(axis=0))  # mid-range baseline, as the other planted genes
    X[np.ix_(proliferating, idx)] += CONFOUNDER.shift
    obs["proliferating"] = proliferating


def _toy_sc(n_patients: int, cells_per_patient: int, n_genes: int | None, seed: int) -> ad.AnnData:
    rng = np.random.default_rng(seed)
    genes = _gene_universe(n_genes)
    g = len(genes)
    col = {s: i for i, s in enumerate(genes)}
    patients = _outcomes(_metadata(n_patients, rng, "P"), rng)
    n = n_patients * cells_per_patient
    patient_of = np.repeat(np.arange(n_patients), cells_per_patient)
    # cell types: 70% tumour, 20% fibroblast, 10% T cell
    cell_type = rng.choice(np.array(["tumour", "fibroblast", "T cell"]), size=n, p=[0.7, 0.2, 0.1])
    # relative expression profile per gene (log-normal), per cell type marker boost
    log_mu = rng.normal(-10.5, 1.6, g)
    markers = {ct: rng.choice(g, 150, replace=False) for ct in ("tumour", "fibroblast", "T cell")}
    planted_idx = [col[s] for p in PROGRAMMES.values() for s in (*p.up, *p.down)]
    log_mu[planted_idx] = -7.5  # expressed in most cells, so that up and down shifts are measurable
    libsize = rng.lognormal(np.log(4000), 0.35, n)
    resistant_patient = patients["group"].to_numpy() == "resistant"
    repair_patient = patients["dna_repair"].to_numpy()
    # log-mean shift per cell: cell-type markers plus the programmes active in this cell
    shift = {ct: np.zeros(g) for ct in markers}
    for ct, idx in markers.items():
        shift[ct][idx] += 2.0
    active = np.zeros((n, len(PROGRAMMES)), dtype=bool)
    for j, name in enumerate(PROGRAMMES):
        carrier = repair_patient if name == "dna_repair" else resistant_patient
        # the programme is active in 70% of a carrier patient's tumour cells
        active[:, j] = (cell_type == "tumour") & carrier[patient_of] & (rng.random(n) < 0.7)
    prog_shift = np.zeros((len(PROGRAMMES), g))
    for j, prog in enumerate(PROGRAMMES.values()):
        prog_shift[j, [col[s] for s in prog.up]] = prog.shift * np.log(2)
        prog_shift[j, [col[s] for s in prog.down]] = -prog.shift * np.log(2)
    blocks = []
    for start in range(0, n, 256):
        stop = min(start + 256, n)
        lm = log_mu + np.stack([shift[ct] for ct in cell_type[start:stop]]) + active[start:stop] @ prog_shift
        mu = np.exp(lm)
        mu *= (libsize[start:stop] / mu.sum(axis=1))[:, None]
        counts = rng.poisson(rng.gamma(2.0, mu / 2.0))  # negative binomial, dispersion 0.5
        blocks.append(sp.csr_matrix(counts.astype(np.float32)))
    X = sp.vstack(blocks, format="csr")
    obs = pd.DataFrame(
        {
            "patient": pd.Categorical(patients.index[patient_of]),
            "cell_type": pd.Categorical(cell_type, categories=["tumour", "fibroblast", "T cell"]),
        },
        index=pd.Index([f"cell{c + 1:05d}" for c in range(n)], name="cell"),
    )
    for column in ("group", "tissue", "dna_repair", "log10_ic50", "responder", "survival_months", "event"):
        obs[column] = patients[column].to_numpy()[patient_of]
    obs["group"] = pd.Categorical(obs["group"], categories=["sensitive", "resistant"])
    adata = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=pd.Index(genes, name="gene")))
    adata.layers["counts"] = X.copy()
    adata.uns["toy"] = _truth_uns("sc", seed, "raw UMI counts (X and layers['counts'])")
    return adata


def _truth_uns(kind: str, seed: int, scale: str, confounded: bool = False) -> dict:
    out = {
        "kind": kind,
        "seed": seed,
        "scale": scale,
        "programmes": {
            name: {"up": list(p.up), "down": list(p.down), "shift_log2": p.shift, "carriers": p.carriers}
            for name, p in PROGRAMMES.items()
        },
    }
    if confounded:
        p = CONFOUNDER
        out["confounder"] = {"up": list(p.up), "down": [], "shift_log2": p.shift, "carriers": p.carriers}
    return out


def toy(
    kind: str = "bulk",
    *,
    n_samples: int = 60,
    n_patients: int = 6,
    cells_per_patient: int = 300,
    n_genes: int | None = None,
    seed: int = 0,
    confounded: bool = False,
) -> ad.AnnData:
    """Return a deterministic synthetic cancer cohort with planted drug-resistance programmes.

    The cohort has a known answer. Half of the samples (or patients) are ``resistant``: in them
    ABC-transporter efflux genes (ABCB1, ABCC1, ABCG2, ABCC2, ABCC3) are up by 2.5 log2 units,
    anti-apoptotic genes (BCL2, BCL2L1, MCL1, BIRC5, XIAP, ...) up by 1.5 and pro-apoptotic genes
    (BAX, BAK1, BBC3, PMAIP1, BCL2L11, caspases, ...) down by 1.5. Independently of group, one third
    of the samples (``dna_repair == True``) carry an NER/HR DNA-repair programme (ERCC1, XPA, BRCA1,
    RAD51, MGMT, ...) up by 1.5. The exact gene lists are in :data:`PROGRAMMES` and in
    ``adata.uns["toy"]``; they were chosen from textbook biology, not read from resistscore's
    signature files.

    Sample metadata (``adata.obs``): ``group`` (sensitive / resistant), ``tissue`` (breast, lung,
    ovary; balanced across groups and with its own 300-gene expression signal), ``dna_repair``,
    ``patient``, ``log10_ic50`` (drug response: +1.2 in resistant and +0.5 in DNA-repair-high samples,
    plus noise), ``responder`` (IC50 below the cohort median), ``survival_months`` and ``event``
    (exponential survival with a hazard ratio of 2.5 for resistant samples, uniform censoring).

    Parameters
    ----------
    kind
        ``"bulk"``: samples x genes, ``X`` = log2(TPM + 1)-like values (dense float32).
        ``"sc"``: cells x genes, ``X`` = raw UMI counts (sparse CSR, also in ``layers["counts"]``), with
        ``n_patients`` patients of ``cells_per_patient`` cells (tumour, fibroblast and T cells); the
        programmes are active in 70% of the tumour cells of carrier patients.
    n_samples
        Number of bulk samples (even numbers keep the groups balanced).
    n_patients, cells_per_patient
        Size of the single-cell cohort.
    n_genes
        ``None`` (default) uses every current HGNC protein-coding symbol (~19,000); a smaller number
        keeps the planted genes plus a random subset (handy for quick examples).
    seed
        Random seed; the same arguments always return the same data.
    confounded
        Bulk only: also plant a proliferation confounder (:data:`CONFOUNDER`). In ``proliferating``
        samples (a new ``obs`` column; 4 in 5 resistant and 1 in 5 sensitive samples) textbook
        cell-cycle genes (MKI67, TOP2A, PCNA, MCMs, cyclins, CDK1, AURKA, PLK1, ...) rise by 1.5 log2
        units together with the antimetabolite targets TYMS, DHFR, RRM1 and RRM2 (E2F targets) - a
        mechanism score that follows proliferation, not resistance, and so differs between the groups
        only through the confounder. ``adata.uns["toy"]["confounder"]`` records it. Every other value
        is that of ``confounded=False`` (with the default ``n_genes=None``).

    Returns
    -------
    AnnData with obs = samples (or cells) and var = genes (HGNC symbols).

    Examples
    --------
    >>> import resistscore as rs
    >>> adata = rs.ds.toy(n_samples=20, n_genes=2000)
    >>> adata.shape
    (20, 2000)
    >>> adata.obs["group"].value_counts().to_dict()
    {'sensitive': 10, 'resistant': 10}
    >>> bool(
    ...     adata[adata.obs.group == "resistant", "ABCB1"].X.mean()
    ...     > adata[adata.obs.group == "sensitive", "ABCB1"].X.mean() + 2
    ... )
    True
    """
    check_choice("kind", kind, ("bulk", "sc"))
    if n_genes is not None:
        check_int("n_genes", n_genes, minimum=100)
    check_int("seed", seed, minimum=0)
    if not isinstance(confounded, (bool, np.bool_)):
        raise ResistScoreError(f"`confounded` must be True or False; got {confounded!r}.")
    if kind == "bulk":
        check_int("n_samples", n_samples, minimum=4)
        return _toy_bulk(n_samples, n_genes, seed, bool(confounded))
    if confounded:
        raise ResistScoreError(
            "`confounded=True` plants the proliferation confounder in bulk data only; use kind='bulk'."
        )
    check_int("n_patients", n_patients, minimum=2)
    check_int("cells_per_patient", cells_per_patient, minimum=10)
    check_real("cells", float(n_patients * cells_per_patient), maximum=1e6)
    return _toy_sc(n_patients, cells_per_patient, n_genes, seed)
