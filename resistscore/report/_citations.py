"""References cited by the report's methods paragraph, other than the scoring methods'.

A scoring method's citation lives in its module (``MethodInfo.citation``, read from
:data:`resistscore.tl.methods.registry`); this table holds the review, the libraries and the
statistics the paragraph cites.
"""

from __future__ import annotations

from resistscore._citation import Citation

__all__ = ["CITATIONS", "Citation", "method_citation"]


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


def method_citation(method: str | None) -> Citation | None:
    """Return the citation of the scoring method ``method`` (from its module), or None if unknown.

    Examples
    --------
    >>> method_citation("ucell").doi
    '10.1016/j.csbj.2021.06.043'
    """
    from resistscore.tl.methods import registry  # function-local: the report imports without the engine

    info = registry.get(str(method).lower()) if method else None
    return None if info is None else info.citation
