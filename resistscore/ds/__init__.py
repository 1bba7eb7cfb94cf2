"""Datasets: a toy cohort with a known answer, and loaders for public data given by path."""

from resistscore.ds._toy import PROGRAMMES, toy

__all__ = ["PROGRAMMES", "toy"]
