"""Regenerate the stored reference outputs of the scoring methods (tests/_reference/scoring/).

Run from the repository root with the peer packages installed (``pip install decoupler==2.2.0
pyucell==0.8.0``) and R (``Rscript``) on the PATH:

    .venv/bin/python tests/_reference/scoring/make_reference.py

(``--aucell-random-ties`` remakes only the AUCell random-ties references, with R alone, from the
stored ``inputs.npz``.) It writes ``inputs.npz`` (the matrices and gene names), ``network.tsv`` (the signatures) and one
TSV per reference (samples x signatures). Nothing of resistscore is used to make the references.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _inputs():
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    rng = np.random.default_rng(20261128)
    n_genes = 600
    genes = np.array([f"G{i:04d}" for i in range(n_genes)])
    # bulk-like dense data: log-normal-ish values rounded to 2 decimals (creates ties)
    dense = np.round(rng.gamma(2.0, 2.0, size=(40, n_genes)), 2)
    dense[:10, :12] += 3.0  # planted programme
    # single-cell-like sparse counts: log1p of Poisson counts (many zeros and ties)
    lam = rng.gamma(0.6, 1.5, size=n_genes)
    counts = rng.poisson(lam[None, :] * rng.uniform(0.5, 2.0, size=(60, 1)))
    sc = np.log1p(counts.astype(float))
    rows = []
    for s in range(8):
        size = [5, 8, 12, 20, 30, 15, 10, 25][s]
        pick = rng.choice(n_genes, size=size, replace=False)
        w = np.round(rng.uniform(0.2, 2.0, size=size), 3)
        sign = np.where(rng.random(size) < (0.3 if s % 2 else 0.0), -1.0, 1.0)  # odd sets have down genes
        rows += [(f"set{s}", genes[g], float(ww * sg)) for g, ww, sg in zip(pick, w, sign)]
    net = pd.DataFrame(rows, columns=["source", "target", "weight"])
    return dense, sp.csr_matrix(sc), genes, net


def main():
    import decoupler as dc
    import numpy as np
    import pandas as pd
    import pyucell
    import scanpy as sc_

    dense, sparse, genes, net = _inputs()
    np.savez_compressed(
        HERE / "inputs.npz", dense=dense, sc_data=sparse.data, sc_indices=sparse.indices, sc_indptr=sparse.indptr,
        sc_shape=np.array(sparse.shape), genes=genes,
    )  # fmt: skip
    net.to_csv(HERE / "network.tsv", sep="\t", index=False)
    dfd = pd.DataFrame(dense, index=[f"S{i}" for i in range(dense.shape[0])], columns=genes)
    unweighted = net.assign(weight=np.sign(net["weight"]))
    up_only = unweighted[unweighted["weight"] > 0]

    # decoupler 2.2: aucell (unweighted, up-genes only), wmean and ulm (signed weights)
    # decoupler shuffles the genes before ranking, so its ties fall at random (as in R AUCell); the
    # input is made tie-free by subtracting 1e-9 x gene position, which orders tied genes as R's
    # ties.method = "first" (values are multiples of 0.01, so no other order changes)
    untied = dfd - np.arange(dfd.shape[1]) * 1e-9
    es, _ = dc.mt.aucell(data=untied, net=up_only, tmin=0, verbose=False)
    es.to_csv(HERE / "decoupler_aucell.tsv", sep="\t")
    es, _ = dc.mt.waggr(data=dfd, net=net, fun="wmean", times=0, tmin=0, verbose=False)
    es.to_csv(HERE / "decoupler_wmean.tsv", sep="\t")
    es, _ = dc.mt.ulm(data=dfd, net=net, tmin=0, verbose=False)
    es.to_csv(HERE / "decoupler_ulm.tsv", sep="\t")

    # pyucell 0.8 on the sparse data with max_rank < n_genes (where it follows R UCell)
    import anndata as ad

    adata = ad.AnnData(sparse.copy())
    adata.var_names = genes
    adata.obs_names = [f"C{i}" for i in range(sparse.shape[0])]
    sigs = {}
    for name, part in unweighted.groupby("source"):
        sigs[name] = [g if w > 0 else f"{g}-" for g, w in zip(part["target"], part["weight"])]
    pyucell.compute_ucell_scores(adata, signatures=sigs, max_rank=100, chunk_size=1000)
    cols = [c for c in adata.obs.columns if c.endswith("_UCell")]
    out = adata.obs[cols].rename(columns=lambda c: c[: -len("_UCell")])
    out.to_csv(HERE / "pyucell_maxrank100.tsv", sep="\t")
    del sc_

    # R (base R rank() and mad()): singscore, UCell and AUCell definitions written out in R
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        dfd.to_csv(Path(tmp) / "dense.tsv", sep="\t")
        pd.DataFrame(sparse.toarray(), index=adata.obs_names, columns=genes).to_csv(
            Path(tmp) / "sc.tsv", sep="\t"
        )
        subprocess.run(["Rscript", str(HERE / "reference_scores.R"), str(HERE), tmp], check=True)
        subprocess.run(["Rscript", str(HERE / "aucell_random_ties.R"), str(HERE), tmp], check=True)


def aucell_random_ties():
    """Only the AUCell random-ties references (R alone), from the stored ``inputs.npz``."""
    import tempfile

    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    z = np.load(HERE / "inputs.npz", allow_pickle=False)
    genes = z["genes"].astype(str)
    dense = pd.DataFrame(z["dense"], index=[f"S{i}" for i in range(z["dense"].shape[0])], columns=genes)
    sc = sp.csr_matrix((z["sc_data"], z["sc_indices"], z["sc_indptr"]), shape=tuple(z["sc_shape"]))
    with tempfile.TemporaryDirectory() as tmp:
        dense.to_csv(Path(tmp) / "dense.tsv", sep="\t")
        pd.DataFrame(sc.toarray(), index=[f"C{i}" for i in range(sc.shape[0])], columns=genes).to_csv(
            Path(tmp) / "sc.tsv", sep="\t"
        )
        subprocess.run(["Rscript", str(HERE / "aucell_random_ties.R"), str(HERE), tmp], check=True)


if __name__ == "__main__":
    import sys

    aucell_random_ties() if "--aucell-random-ties" in sys.argv else main()
