#!/usr/bin/env Rscript
## R GSVA 1.46 ssGSEA (ssgsea.norm = FALSE) on the NCI-60 symbol table, for
## tests/pp/test_nci60_symbol_table.py. Run from the repository root after
## `python scripts/make_nci60_ssgsea_reference.py <nci60 dir> <work dir>`:
##
##     Rscript scripts/make_nci60_ssgsea_reference.R ../shared/data/nci60 /tmp/nci60_ssgsea
##
## What R sees (the matrix the CLI scores, built here from the original file):
## * the expression values of expression_u133a_gcrma.csv.gz, every probe-set row with a symbol;
## * each row labelled with the name it has after resistscore's default harmonisation (<work>/labels.tsv:
##   its HGNC symbol, or its own symbol when it cannot be mapped; rows without a symbol are dropped);
## * rows with the same label averaged within each sample, exactly as limma::avereps does
##   (written out below: limma is not installed here);
## * every gene kept: ssGSEA ranks all of them (no gene is dropped for being unmapped).
## Writes tests/_reference/nci60_ssgsea/ssgsea_raw.tsv (gene sets x cell lines, 17 significant digits) and
## versions.txt.
suppressPackageStartupMessages(library(GSVA))

args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]
work <- args[2]
out_dir <- file.path("tests", "_reference", "nci60_ssgsea")

d <- read.csv(file.path(data_dir, "expression_u133a_gcrma.csv.gz"), check.names = FALSE,
              colClasses = c(probe = "character", symbol = "character"), na.strings = character(0))
lab <- read.delim(file.path(work, "labels.tsv"), colClasses = "character", na.strings = character(0))
stopifnot(nrow(lab) == nrow(d), all(as.integer(lab$row) == seq_len(nrow(d)) - 1L))
labels <- lab$name
x <- as.matrix(d[, -(1:3)])
keep <- labels != ""
x <- x[keep, , drop = FALSE]
id <- labels[keep]

## limma::avereps(x, ID = id): mean of the rows with the same ID, NA ignored, first-appearance order
avereps <- function(x, ID) {
  ID <- as.character(ID)
  y <- rowsum(x, ID, reorder = FALSE, na.rm = TRUE)
  n <- rowsum(1L - is.na(x), ID, reorder = FALSE)
  y / n
}
x <- avereps(x, id)

lines <- readLines(file.path(out_dir, "gene_sets.gmt"))
fields <- strsplit(lines, "\t")
sets <- lapply(fields, function(t) t[-(1:2)])
names(sets) <- vapply(fields, `[`, "", 1)

es <- suppressWarnings(gsva(x, sets, method = "ssgsea", ssgsea.norm = FALSE, min.sz = 1, max.sz = Inf,
                            verbose = FALSE))
out <- data.frame(set = rownames(es), format(es, digits = 17, scientific = FALSE, trim = TRUE),
                  check.names = FALSE)
write.table(out, file.path(out_dir, "ssgsea_raw.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
writeLines(c(R.version.string, paste("GSVA", as.character(packageVersion("GSVA"))),
             paste("genes ranked:", nrow(x)), paste("cell lines:", ncol(x))),
           file.path(out_dir, "versions.txt"))
