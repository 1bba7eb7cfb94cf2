"""CITATION.cff: valid YAML with the fields GitHub and Zenodo read, and the package's version."""

from __future__ import annotations

import pathlib

import yaml

import resistscore as rs

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_citation_cff_names_the_package_version_and_the_review():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors", "version", "license"} <= set(cff)
    assert cff["version"] == rs.__version__
    assert cff["references"][0]["doi"] == "10.15171/apb.2017.041"
