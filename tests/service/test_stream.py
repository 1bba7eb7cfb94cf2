"""A job's worker task on an h5ad upload streams it (X never loaded whole); a TSV upload works as before.

The task (:func:`resistscore.service._worker.execute`, what a Dask worker runs) is called in this process on a
job accepted by the app, so that the readers can be replaced by ones that fail.
"""

from __future__ import annotations

import os
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

import resistscore as rs
from resistscore.cli import cli
from resistscore.service import ServiceSettings, create_app
from resistscore.service._worker import RESULT_DIR, execute

from .conftest import small_cohort, submit

SIGNATURES = "efflux_abc,apoptosis"


@pytest.fixture
def app_client(tmp_path):
    from fastapi.testclient import TestClient

    settings = ServiceSettings(data_dir=tmp_path / "data", scheduler="tcp://127.0.0.1:9")
    with TestClient(create_app(settings, start_runner=False), base_url="http://127.0.0.1") as client:
        yield client


def _run(client, job_id: str) -> dict:
    store = client.app.state.store
    job = store.get(job_id)
    return execute(job_id, job.params, str(store.job_dir(job_id)))


def _cli_scores(path, tmp_path) -> pd.DataFrame:
    out = tmp_path / f"cli-{path.stem}.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        res = CliRunner().invoke(
            cli, ["score", str(path), "--signatures", SIGNATURES, "--out", str(out)], catch_exceptions=False
        )
    assert res.exit_code == 0, res.output
    return pd.read_csv(out, index_col=0)


def _job_scores(client, job_id: str) -> pd.DataFrame:
    return pd.read_csv(client.app.state.store.job_dir(job_id) / RESULT_DIR / "scores.csv", index_col=0)


def test_h5ad_upload_is_streamed(app_client, tmp_path, monkeypatch):
    """An h5ad job never loads the file whole; its scores equal ``resistscore score`` (which streams too) and its
    "reproduce offline" Python gives them again with ``rs.analyze(path)``."""
    genes = sorted(set(rs.sig.load(ids=SIGNATURES.split(",")).to_network()["target"]))
    genes += ["GAPDH", "ACTB", "B2M", "RPL13"]
    rng = np.random.default_rng(5)
    counts = rng.poisson(0.8, size=(90, len(genes))).astype(np.float32)
    obs = pd.DataFrame(
        {
            "group": np.repeat(["resistant", "sensitive"], 45),
            "donor": np.repeat([f"D{i}" for i in range(6)], 15),
        },
        index=[f"AAAC{i:03d}-1" for i in range(90)],
    )
    path = tmp_path / "cells.h5ad"
    ad.AnnData(sp.csr_matrix(np.log1p(counts)), obs=obs, var=pd.DataFrame(index=genes)).write_h5ad(path)
    meta = tmp_path / "metadata.csv"
    obs.rename_axis("cell").to_csv(meta)
    r = submit(
        app_client, {"expression": path, "metadata": meta}, group="group", signatures=SIGNATURES, seed="2"
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    want = _cli_scores(path, tmp_path)

    def no_load(*a, **k):
        raise AssertionError("the job loaded the whole file")

    with monkeypatch.context() as m:
        m.setattr(ad, "read_h5ad", no_load)
        m.setattr(rs.io, "read", no_load)
        done = _run(app_client, job_id)
    assert done["ok"], done
    assert {"report.html", "scores.h5ad", "stats_groups.csv", "reproduce.json"} <= set(done["files"])
    got = _job_scores(app_client, job_id)
    # (the job's seed picks the p-values' control sets; the scores do not depend on it)
    pd.testing.assert_frame_equal(got, want, check_exact=True)

    store = app_client.app.state.store
    from resistscore.service._analysis import reproduce

    python = reproduce(store.get(job_id).params)["python"]
    assert "rs.analyze('cells.h5ad'" in python and "rs.io.read" not in python, python
    here = tmp_path / "offline"
    here.mkdir()
    (here / "cells.h5ad").write_bytes(path.read_bytes())
    (here / "metadata.csv").write_bytes(meta.read_bytes())
    cwd = os.getcwd()
    os.chdir(here)
    try:
        with warnings.catch_warnings(), monkeypatch.context() as m:
            warnings.simplefilter("ignore", rs.ResistScoreWarning)
            m.setattr(ad, "read_h5ad", no_load)
            exec(compile(python, "reproduce.py", "exec"), {})
    finally:
        os.chdir(cwd)
    offline = pd.read_csv(here / "resistscore-results" / "scores.csv", index_col=0)
    pd.testing.assert_frame_equal(offline, got, check_exact=True)
    served_stats = store.job_dir(job_id) / RESULT_DIR / "stats_groups.csv"
    pd.testing.assert_frame_equal(
        pd.read_csv(here / "resistscore-results" / "stats_groups.csv"), pd.read_csv(served_stats)
    )


def test_tsv_upload_works_as_before(app_client, tmp_path):
    """A bulk TSV (genes x samples) is read whole, as before: the CLI's scores, statistics and the usual files."""
    adata = small_cohort(n_other=300)
    path = tmp_path / "expression.tsv"
    adata.to_df().T.to_csv(path, sep="\t")
    meta = tmp_path / "metadata.csv"
    adata.obs[["group"]].to_csv(meta)
    r = submit(app_client, {"expression": path, "metadata": meta}, group="group", signatures=SIGNATURES)
    assert r.status_code == 202, r.text
    done = _run(app_client, r.json()["id"])
    assert done["ok"], done
    assert {"report.html", "stats_groups.csv", "resistscore-tables.xlsx", "scores.h5ad"} <= set(done["files"])
    pd.testing.assert_frame_equal(_job_scores(app_client, r.json()["id"]), _cli_scores(path, tmp_path))
