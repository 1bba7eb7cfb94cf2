#!/usr/bin/env Rscript
## Reference outputs of R GSVA (Debian package r-bioc-gsva, GSVA 1.46.0, R 4.2.2) for the
## resistscore ssGSEA and GSVA methods. Run from the repository root after
## `python scripts/make_gsva_reference_input.py`:
##
##     Rscript scripts/make_gsva_reference.R
##
## Reads tests/_reference/gsva/{input_expr.tsv,input_counts.tsv,gene_sets.gmt} and writes one
## TSV per call (gene sets x samples, 17 significant digits) into the same folder, plus
## versions.txt with the R and GSVA versions.
suppressPackageStartupMessages(library(GSVA))

dir <- file.path("tests", "_reference", "gsva")
read_matrix <- function(f) {
  d <- read.delim(file.path(dir, f), check.names = FALSE, row.names = 1)
  as.matrix(d)
}
read_gmt <- function(f) {
  lines <- readLines(file.path(dir, f))
  sets <- lapply(strsplit(lines, "\t"), function(t) t[3:length(t)])
  names(sets) <- vapply(strsplit(lines, "\t"), `[`, "", 1)
  sets
}
write_scores <- function(m, f) {
  out <- data.frame(set = rownames(m), format(m, digits = 17, scientific = FALSE, trim = TRUE),
                    check.names = FALSE)
  write.table(out, file.path(dir, f), sep = "\t", quote = FALSE, row.names = FALSE)
}

expr <- read_matrix("input_expr.tsv")
counts <- read_matrix("input_counts.tsv")
sets <- read_gmt("gene_sets.gmt")

run <- function(x, ...) suppressWarnings(gsva(x, sets, verbose = FALSE, ...))

## ssGSEA (Barbie et al. 2009): tau = alpha = 0.25, with and without the cohort-level range normalisation
write_scores(run(expr, method = "ssgsea", ssgsea.norm = TRUE), "ssgsea_norm_expr.tsv")
write_scores(run(expr, method = "ssgsea", ssgsea.norm = FALSE), "ssgsea_raw_expr.tsv")
write_scores(run(counts, method = "ssgsea", ssgsea.norm = TRUE), "ssgsea_norm_counts.tsv")
write_scores(run(counts, method = "ssgsea", ssgsea.norm = FALSE), "ssgsea_raw_counts.tsv")
write_scores(run(expr, method = "ssgsea", ssgsea.norm = FALSE, tau = 1), "ssgsea_raw_expr_alpha1.tsv")

## GSVA (Haenzelmann et al. 2013)
write_scores(run(expr, method = "gsva", kcdf = "Gaussian"), "gsva_gaussian_expr.tsv")
write_scores(run(expr, method = "gsva", kcdf = "Gaussian", mx.diff = FALSE), "gsva_gaussian_expr_maxdev.tsv")
write_scores(run(expr, method = "gsva", kcdf = "Gaussian", abs.ranking = TRUE), "gsva_gaussian_expr_absrank.tsv")
write_scores(run(expr, method = "gsva", kcdf = "none"), "gsva_none_expr.tsv")
write_scores(run(counts, method = "gsva", kcdf = "Poisson"), "gsva_poisson_counts.tsv")
write_scores(run(counts, method = "gsva", kcdf = "Gaussian"), "gsva_gaussian_counts.tsv")
## one-gene sets, one per gene, without the first gene (GSVA drops the constant gene: 498 genes, an even
## number): in every sample one gene sits exactly in the middle of the ranking, where its walk weight
## |n/2 - r| is 0 and R's walk is 0/0 = NaN after the hit (R keeps the extremes reached before it)
one <- setNames(as.list(rownames(expr)[-1]), rownames(expr)[-1])
write_scores(suppressWarnings(gsva(expr[-1, ], one, method = "gsva", kcdf = "Gaussian", min.sz = 1, verbose = FALSE)),
             "gsva_gaussian_expr_onegene.tsv")
## GSVA on the first 12 samples only: shows (and tests) that GSVA scores depend on the cohort
write_scores(run(expr[, 1:12], method = "gsva", kcdf = "Gaussian"), "gsva_gaussian_expr_first12.tsv")

writeLines(c(R.version.string, paste("GSVA", as.character(packageVersion("GSVA")))),
           file.path(dir, "versions.txt"))

## GSVA's first step alone (per-gene CDF log-odds, genes x samples, constant genes dropped):
## lets the tests check the kernel estimation independently of the ranking step
density <- function(x, rnaseq) {
  x <- x[apply(x, 1, sd) >= 1e-10, ]
  d <- GSVA:::compute.gene.density(x, seq_len(ncol(x)), rnaseq = rnaseq, kernel = TRUE)
  dimnames(d) <- dimnames(x)
  d
}
dens_out <- function(m, f) {
  out <- data.frame(gene = rownames(m), format(m, digits = 17, scientific = TRUE, trim = TRUE),
                    check.names = FALSE)
  write.table(out, file.path(dir, f), sep = "\t", quote = FALSE, row.names = FALSE)
}
dens_out(density(expr, FALSE), "density_gaussian_expr.tsv")
dens_out(density(counts, TRUE), "density_poisson_counts.tsv")
