"""Datasets: a toy cohort with a known answer, and loaders for public data given by path."""

from resistscore.ds._nci60 import NCI60, nci60
from resistscore.ds._toy import CONFOUNDER, PROGRAMMES, toy

__all__ = ["CONFOUNDER", "NCI60", "PROGRAMMES", "nci60", "toy"]
