"""resistscore: score gene expression for the mechanisms of cancer drug resistance."""
from resistscore._version import __version__
