#!/usr/bin/env Rscript
# lme4 reference for resistscore's linear mixed models (tests/tl/stats/test_mixed_lme4.py).
#
# Reads  tests/_reference/stats/toy_sc_cells.tsv   (written by scripts/make_mixed_reference.py)
# Writes tests/_reference/stats/r_lme4_toy_sc.tsv  one row per model x signature x term
#        tests/_reference/stats/r_lme4_versions.txt
#
# Models (REML, lme4 defaults; the random intercept per patient):
#   tumour_group   tumour cells:  score ~ group + (1 | patient)              term groupresistant
#   tumour_repair  tumour cells:  score ~ dna_repair + (1 | patient)         term dna_repairyes
#   all_celltype   all cells:     score ~ group + cell_type + (1 | patient)  term groupresistant
# Columns: estimate, std_error, t (Wald), sigma2 (residual variance), tau2 (patient variance),
# singular (lme4::isSingular, tol 1e-4), loglik (REML log-likelihood), 12 significant digits.
#
# Run from the repository root:  Rscript scripts/make_mixed_reference.R
# Needs R >= 4.2 with lme4 (Debian: apt-get install r-cran-lme4).
suppressPackageStartupMessages(library(lme4))
dir <- "tests/_reference/stats"
d <- read.delim(file.path(dir, "toy_sc_cells.tsv"), check.names = FALSE, stringsAsFactors = FALSE)
d$group <- factor(d$group, levels = c("sensitive", "resistant"))
d$dna_repair <- factor(d$dna_repair, levels = c("no", "yes"))
d$cell_type <- factor(d$cell_type, levels = c("tumour", "fibroblast", "T cell"))
sigs <- setdiff(names(d), c("cell", "patient", "group", "dna_repair", "cell_type"))
models <- list(
  tumour_group = list(rows = d$cell_type == "tumour", rhs = "group", term = "groupresistant"),
  tumour_repair = list(rows = d$cell_type == "tumour", rhs = "dna_repair", term = "dna_repairyes"),
  all_celltype = list(rows = rep(TRUE, nrow(d)), rhs = "group + cell_type", term = "groupresistant")
)
out <- list()
for (m in names(models)) {
  spec <- models[[m]]
  sub <- d[spec$rows, ]
  for (s in sigs) {
    sub$score <- sub[[s]]
    fit <- suppressMessages(lmer(as.formula(paste("score ~", spec$rhs, "+ (1 | patient)")), data = sub, REML = TRUE))
    cf <- summary(fit)$coefficients
    vc <- as.data.frame(VarCorr(fit))
    out[[length(out) + 1]] <- data.frame(
      model = m, signature = s, term = spec$term, n = nrow(sub),
      estimate = signif(cf[spec$term, "Estimate"], 12),
      std_error = signif(cf[spec$term, "Std. Error"], 12),
      t = signif(cf[spec$term, "t value"], 12),
      sigma2 = signif(vc$vcov[vc$grp == "Residual"], 12),
      tau2 = signif(vc$vcov[vc$grp == "patient"], 12),
      singular = isSingular(fit, tol = 1e-4),
      loglik = signif(as.numeric(logLik(fit)), 12)
    )
  }
}
write.table(do.call(rbind, out), file.path(dir, "r_lme4_toy_sc.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
writeLines(c(R.version.string, paste("lme4", packageVersion("lme4")), paste("Matrix", packageVersion("Matrix"))),
           file.path(dir, "r_lme4_versions.txt"))
