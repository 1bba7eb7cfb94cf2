"""How much a cell line's score depends on the other lines of the file, by probe-collapse rule (NCI-60).

Each of the 59 lines is harmonised and scored alone, then within the whole panel; the script prints,
per collapse rule and signature, the largest difference between the two scores. Run from the
repository root (the data are not part of the repository)::

    .venv/bin/python scripts/nci60_collapse_cohort_dependence.py ../shared/data/nci60

Measured 2026-12-05: ``max_mean`` up to 0.0058 (efflux_abc) and 0.0092 (efflux_abc.abcb1, singscore);
``mean`` (the default) 0 for both (docs/methods.md).
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

import resistscore as rs


def main(data_dir: str) -> None:
    warnings.simplefilter("ignore", rs.AmbiguousGeneWarning)
    probes = rs.ds.nci60(data_dir).probes
    sigs = rs.sig.load(ids=["efflux_abc", "efflux_abc.abcb1"])
    for rule in ("max_mean", "mean"):
        full, _ = rs.pp.harmonize_genes(probes, annotation=["entrez", "symbol"], probe_collapse=rule)
        panel = rs.tl.score(full.to_df(), sigs, pvalues=False).scores
        worst = np.zeros(panel.shape[1])
        for i in range(probes.n_obs):
            one, _ = rs.pp.harmonize_genes(
                probes[i : i + 1].copy(), annotation=["entrez", "symbol"], probe_collapse=rule
            )
            alone = rs.tl.score(one.to_df(), sigs, pvalues=False).scores
            worst = np.maximum(worst, np.abs(alone.to_numpy()[0] - panel.to_numpy()[i]))
        print(rule, dict(zip(panel.columns, worst.round(4).tolist())))


if __name__ == "__main__":
    main(sys.argv[1])
