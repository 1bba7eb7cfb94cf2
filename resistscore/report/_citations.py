"""References cited by the report's methods paragraph."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CITATIONS", "METHOD_CITATION", "Citation", "doi_of", "method_citation"]


@dataclass(frozen=True)
class Citation:
    """A reference: short text and DOI (linked as https://doi.org/<doi>)."""

    key: str
    text: str
    doi: str | None = None

    @property
    def url(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else None


CITATIONS: dict[str, Citation] = {
    c.key: c
    for c in (
        Citation(
            "review",
            "Mansoori B, Mohammadi A, Davudian S, Shirjang S, Baradaran B. The different mechanisms of cancer "
            "drug resistance: a brief review. Adv Pharm Bull. 2017;7(3):339-348.",
            "10.15171/apb.2017.041",
        ),
        Citation(
            "singscore",
            "Foroutan M, Bhuva DD, Lyu R, Horan K, Cursons J, Davis MJ. Single sample scoring of molecular "
            "phenotypes. BMC Bioinformatics. 2018;19:404.",
            "10.1186/s12859-018-2435-4",
        ),
        Citation(
            "ucell",
            "Andreatta M, Carmona SJ. UCell: robust and scalable single-cell gene signature scoring. "
            "Comput Struct Biotechnol J. 2021;19:3796-3798.",
            "10.1016/j.csbj.2021.06.043",
        ),
        Citation(
            "aucell",
            "Aibar S, González-Blas CB, Moerman T, et al. SCENIC: single-cell regulatory network inference and "
            "clustering. Nat Methods. 2017;14:1083-1086.",
            "10.1038/nmeth.4463",
        ),
        Citation(
            "ssgsea",
            "Barbie DA, Tamayo P, Boehm JS, et al. Systematic RNA interference reveals that oncogenic KRAS-driven "
            "cancers require TBK1. Nature. 2009;462:108-112.",
            "10.1038/nature08460",
        ),
        Citation(
            "gsva",
            "Hänzelmann S, Castelo R, Guinney J. GSVA: gene set variation analysis for microarray and RNA-seq "
            "data. BMC Bioinformatics. 2013;14:7.",
            "10.1186/1471-2105-14-7",
        ),
        Citation(
            "module_score",
            "Tirosh I, Izar B, Prakadan SM, et al. Dissecting the multicellular ecosystem of metastatic melanoma "
            "by single-cell RNA-seq. Science. 2016;352:189-196.",
            "10.1126/science.aad0501",
        ),
        Citation(
            "decoupler",
            "Badia-i-Mompel P, Vélez Santiago J, Braunger J, et al. decoupleR: ensemble of computational methods "
            "to infer biological activities from omics data. Bioinform Adv. 2022;2:vbac016.",
            "10.1093/bioadv/vbac016",
        ),
        Citation(
            "scanpy",
            "Wolf FA, Angerer P, Theis FJ. SCANPY: large-scale single-cell gene expression data analysis. "
            "Genome Biol. 2018;19:15.",
            "10.1186/s13059-017-1382-0",
        ),
        Citation(
            "statsmodels",
            "Seabold S, Perktold J. statsmodels: econometric and statistical modeling with Python. "
            "Proceedings of the 9th Python in Science Conference. 2010:92-96.",
            "10.25080/Majora-92bf1922-011",
        ),
        Citation(
            "lifelines",
            "Davidson-Pilon C. lifelines: survival analysis in Python. J Open Source Softw. 2019;4(40):1317.",
            "10.21105/joss.01317",
        ),
        Citation(
            "bh",
            "Benjamini Y, Hochberg Y. Controlling the false discovery rate: a practical and powerful approach to "
            "multiple testing. J R Stat Soc B. 1995;57:289-300.",
            "10.1111/j.2517-6161.1995.tb02031.x",
        ),
        Citation(
            "lowess",
            "Cleveland WS. Robust locally weighted regression and smoothing scatterplots. J Am Stat Assoc. "
            "1979;74(368):829-836.",
            "10.1080/01621459.1979.10481038",
        ),
        Citation(
            "okabe_ito",
            "Okabe M, Ito K. Color Universal Design (CUD): how to make figures and presentations that are "
            "friendly to colorblind people. 2008. https://jfly.uni-koeln.de/color/",
            None,
        ),
    )
}

#: scoring method name -> citation key
METHOD_CITATION = {
    "singscore": "singscore",
    "ucell": "ucell",
    "aucell": "aucell",
    "ssgsea": "ssgsea",
    "gsva": "gsva",
    "module_score": "module_score",
    "score_genes": "module_score",
    "ulm": "decoupler",
    "wmean": "decoupler",
}

_DOI = re.compile(r"10\.\d{4,9}/[^\s;,]+[^\s;,.)]")


def doi_of(text: str) -> str | None:
    """Return the first DOI in ``text``.

    Examples
    --------
    >>> doi_of("Aibar et al., Nat Methods 2017, doi:10.1038/nmeth.4463")
    '10.1038/nmeth.4463'
    """
    m = _DOI.search(text or "")
    return m.group(0) if m else None


def method_citation(method: str | None) -> Citation | None:
    """Return the citation of the scoring method ``method``, or None if unknown.

    Read from the method's own module first (``MethodInfo.reference`` in
    :data:`resistscore.tl.methods.registry`, its DOI linked); the table above is used only for a method
    the registry does not know (e.g. ``score_genes``, scanpy's name of module scores).

    Examples
    --------
    >>> method_citation("ucell").doi
    '10.1016/j.csbj.2021.06.043'
    """
    if not method:
        return None
    from resistscore.tl.methods import registry

    info = registry.get(str(method).lower())
    if info is not None and info.reference:
        doi = doi_of(info.reference)
        text = (
            re.sub(r",?\s*doi:\s*" + re.escape(doi), "", info.reference).strip(" ,;")
            if doi
            else info.reference
        )
        return Citation(f"method-{info.name}", text.rstrip(".") + ".", doi)
    key = METHOD_CITATION.get(str(method).lower())
    return CITATIONS[key] if key else None
