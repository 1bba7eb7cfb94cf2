"""Fixed synthetic inputs for the plotting tests, and a guard that no test leaves a figure open."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

SIGNATURES = ["efflux_abc", "dna_repair", "apoptosis", "drug_inactivation"]


@pytest.fixture(autouse=True)
def _no_figure_left_open():
    """Every test must close the figures it makes (the plotting functions must not leak extra ones)."""
    plt.close("all")
    yield
    leaked = plt.get_fignums()
    plt.close("all")
    assert leaked == [], f"figures left open: {leaked}"


@pytest.fixture
def scores() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    idx = [f"S{i:02d}" for i in range(24)]
    df = pd.DataFrame(rng.normal(size=(24, 4)), index=idx, columns=SIGNATURES)
    df.loc[idx[:12], "efflux_abc"] += 1.5  # the "resistant" half has higher efflux
    return df


@pytest.fixture
def metadata(scores) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = len(scores)
    return pd.DataFrame(
        {
            "group": ["resistant"] * 12 + ["sensitive"] * 12,
            "tissue": (["lung", "breast", "ovary"] * 8)[:n],
            "age": np.linspace(30, 76, n),
            "survival_time": np.round(rng.exponential(20, n), 1),
            "event": rng.integers(0, 2, n),
            "log_gi50": scores["efflux_abc"].to_numpy() * 0.8 + rng.normal(scale=0.5, size=n),
        },
        index=scores.index,
    )


@pytest.fixture
def group_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "signature": SIGNATURES,
            "test": ["mannwhitneyu"] * 4,
            "group1": ["resistant"] * 4,
            "group2": ["sensitive"] * 4,
            "n1": [12] * 4,
            "n2": [12] * 4,
            "statistic": [130.0, 80.0, 70.0, 75.0],
            "effect": [1.4, 0.1, -0.3, 0.05],
            "effect_type": ["hedges_g"] * 4,
            "ci_low": [0.5, -0.7, -1.1, -0.75],
            "ci_high": [2.3, 0.9, 0.5, 0.85],
            "pvalue": [0.0004, 0.77, 0.41, 0.9],
            "fdr": [0.0016, 0.9, 0.82, 0.9],
        }
    )


@pytest.fixture
def coverage_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "n_genes": [12, 20, 15, 9],
            "n_found": [12, 18, 6, 2],
            "weight_covered": [1.0, 0.92, 0.45, 0.2],
            "min_coverage": [0.5, 0.5, 0.5, 0.5],
            "reported": [True, True, False, False],
            "reason": ["", "", "coverage 0.45 < 0.5", "coverage 0.2 < 0.5"],
        },
        index=pd.Index(SIGNATURES, name="signature"),
    )
