# Reference scores written directly from the published definitions with base R's rank() and mad().
# Called by make_reference.py:  Rscript reference_scores.R <this folder> <folder with dense.tsv, sc.tsv>
args <- commandArgs(trailingOnly = TRUE)
here <- args[1]
tmp <- args[2]
rd <- function(f) as.matrix(read.delim(file.path(tmp, f), row.names = 1, check.names = FALSE))
dense <- rd("dense.tsv")
scm <- rd("sc.tsv")
net <- read.delim(file.path(here, "network.tsv"), stringsAsFactors = FALSE)
sets <- split(net, net$source)
up_of <- function(s) sets[[s]]$target[sets[[s]]$weight > 0]
dn_of <- function(s) sets[[s]]$target[sets[[s]]$weight < 0]
out <- function(m, f) {
  write.table(data.frame(sample = rownames(m), m, check.names = FALSE), file.path(here, f),
              sep = "\t", quote = FALSE, row.names = FALSE)
}
per_set <- function(x, fun) {
  m <- sapply(names(sets), function(s) apply(x, 1, function(v) fun(setNames(v, colnames(x)), s)))
  rownames(m) <- rownames(x)
  m
}

# singscore (Foroutan 2018; R singscore rankGenes + simpleScore): ascending ranks, ties "min"
sing <- function(v, s) {
  n <- length(v); r <- rank(v, ties.method = "min")
  nrm <- function(g) { k <- length(g); (mean(r[g]) - (k + 1) / 2) / ((2 * n - k + 1) / 2 - (k + 1) / 2) }
  sc <- nrm(up_of(s)) - 0.5
  if (length(dn_of(s))) sc <- sc + (1 - nrm(dn_of(s)) - 0.5)
  sc
}
sing_disp <- function(v, s) {
  r <- rank(v, ties.method = "min")
  d <- mad(r[up_of(s)])
  if (length(dn_of(s))) d <- (d + mad(r[dn_of(s)])) / 2
  d
}
out(per_set(dense, sing), "R_singscore.tsv")
out(per_set(dense, sing_disp), "R_singscore_dispersion.tsv")
out(per_set(scm, sing), "R_singscore_sc.tsv")

# UCell (Andreatta 2021; R UCell u_stat): descending ranks, ties "average", capped at maxRank
ucell_fun <- function(max_rank) function(v, s) {
  m <- min(max_rank, length(v)); r <- rank(-v, ties.method = "average")
  u <- function(g) {
    k <- length(g); if (k == 0) return(0)
    rr <- pmin(r[g], m); kk <- k * (k + 1) / 2
    1 - (sum(rr) - kk) / (k * m - kk)
  }
  max(0, u(up_of(s)) - u(dn_of(s)))
}
out(per_set(scm, ucell_fun(100)), "R_ucell_maxrank100.tsv")
out(per_set(scm, ucell_fun(1500)), "R_ucell_maxrank1500.tsv")
out(per_set(dense, ucell_fun(1500)), "R_ucell_dense.tsv")

# AUCell (Aibar 2017; R AUCell, normAUC = TRUE): descending ranks, ties by gene order ("first"),
# threshold ceiling(0.05 n), up-genes only
aucell_fun <- function(v, s) {
  n <- length(v); th <- ceiling(0.05 * n); r <- rank(-v, ties.method = "first")
  g <- up_of(s); x <- sort(r[g][r[g] < th]); y <- seq_along(x)
  x_th <- seq_along(g); x_th <- sort(x_th[x_th < th]); y_th <- seq_along(x_th)
  sum(diff(c(x, th)) * y) / sum(diff(c(x_th, th)) * y_th)
}
out(per_set(dense, aucell_fun), "R_aucell_dense.tsv")
out(per_set(scm, aucell_fun), "R_aucell_sc.tsv")
