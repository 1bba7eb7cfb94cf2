# AUCell with R AUCell's random tie-breaking (issue 10 item 19), written out in base R.
#
# R AUCell ranks every cell with ties.method = "random" (AUCell_buildRankings), then
# AUC = sum over set genes with rank r < T of (T - r), normalised by the largest AUC a set of that
# size can reach (AUCell_calcAUC, normAUC = TRUE), T = ceiling(0.05 n).
#
# 1. R_aucell_expected_<data>.tsv: the exact expectation over the random tie-breaking. The AUC is a
#    sum over the set's genes, and under random tie-breaking the rank of a gene is uniform over the
#    ranks of its tie group, from rank(-x, "min") to rank(-x, "max"); so E[AUC] = sum over genes of
#    mean(pmax(0, T - (min:max))) / maxAUC.
# 2. R_aucell_random_mc_sc.tsv / R_aucell_random_se_sc.tsv: the mean (and its standard error) of the
#    AUC over 2,000 draws of rank(-x, ties.method = "random") (set.seed(20261205)), an independent check.
#
# Run from the repository root after make_reference.py wrote the inputs (it calls this script):
#   Rscript tests/_reference/scoring/aucell_random_ties.R tests/_reference/scoring <folder with dense.tsv, sc.tsv>
args <- commandArgs(trailingOnly = TRUE)
here <- args[1]
tmp <- args[2]
rd <- function(f) as.matrix(read.delim(file.path(tmp, f), row.names = 1, check.names = FALSE))
net <- read.delim(file.path(here, "network.tsv"), stringsAsFactors = FALSE)
sets <- split(net, net$source)
up_of <- function(s) sets[[s]]$target[sets[[s]]$weight > 0]
out <- function(m, f) {
  write.table(data.frame(sample = rownames(m), m, check.names = FALSE), file.path(here, f),
              sep = "\t", quote = FALSE, row.names = FALSE)
}
max_auc <- function(k, th) { x <- seq_len(k); x <- x[x < th]; sum(th - x) }

expected_auc <- function(v, s) {
  th <- ceiling(0.05 * length(v))
  lo <- rank(-v, ties.method = "min"); hi <- rank(-v, ties.method = "max")
  g <- up_of(s)
  e <- sapply(g, function(x) mean(pmax(0, th - (lo[x]:hi[x]))))
  sum(e) / max_auc(length(g), th)
}
random_auc <- function(v, s) {
  th <- ceiling(0.05 * length(v)); r <- rank(-v, ties.method = "random")
  g <- up_of(s); x <- sort(r[g][r[g] < th]); y <- seq_along(x)
  sum(diff(c(x, th)) * y) / max_auc(length(g), th)
}
per_set <- function(x, fun) {
  m <- sapply(names(sets), function(s) apply(x, 1, function(v) fun(setNames(v, colnames(x)), s)))
  rownames(m) <- rownames(x)
  m
}
for (data in c("dense", "sc")) {
  x <- rd(paste0(data, ".tsv"))
  out(per_set(x, expected_auc), paste0("R_aucell_expected_", data, ".tsv"))
}
set.seed(20261205)
x <- rd("sc.tsv")
draws <- replicate(2000, per_set(x, random_auc))
out(apply(draws, c(1, 2), mean), "R_aucell_random_mc_sc.tsv")
out(apply(draws, c(1, 2), sd) / sqrt(dim(draws)[3]), "R_aucell_random_se_sc.tsv")
