#!/usr/bin/env Rscript
# Reference for resistscore's censored drug-response regression (tests/tl/stats/test_censored.py).
#
# Writes to tests/_reference/stats/:
#   input_censored.tsv  80 samples: score, tissue, three responses with values at the limits of a
#                       tested range, and a per-sample high limit (limit_high)
#   r_tobit.tsv         survival::survreg(Surv(lo, hi, type = "interval2") ~ ..., dist = "gaussian")
#                       per response: coefficient of score, SE, z, p, log(scale), log-likelihood
#   r_tobit_versions.txt
# A value at the low limit is left-censored (lo = NA, hi = value), at the high limit right-censored
# (lo = value, hi = NA), otherwise exact (lo = hi = value).
#
# Run from the repository root:  Rscript scripts/make_censored_reference.R
# Needs R >= 4.2 with survival (Debian: apt-get install r-cran-survival).
suppressPackageStartupMessages(library(survival))
out <- "tests/_reference/stats"
set.seed(20261205)
n <- 80
d <- data.frame(sample = sprintf("s%02d", 1:n), tissue = rep(c("lung", "breast", "skin", "ovary"), 20),
                stringsAsFactors = FALSE)
d$score <- round(rnorm(n), 4)
tis <- c(lung = 0, breast = 0.4, skin = -0.3, ovary = 0.2)[d$tissue]
latent <- 6.5 - 0.6 * d$score + tis + rnorm(n, 0, 0.9)
d$y_right <- round(pmin(latent, 7.2), 4)                 # capped at the high limit 7.2
d$y_both <- round(pmax(pmin(latent, 7.4), 5.6), 4)       # capped at 5.6 and at 7.4
d$limit_high <- sample(c(6.8, 7.2, 7.6), n, replace = TRUE)  # per-sample high limit
d$y_var <- round(pmin(latent, d$limit_high), 4)
write.table(d, file.path(out, "input_censored.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)

bounds <- function(y, low, high) {
  lo <- ifelse(y <= low, NA, y)
  hi <- ifelse(y >= high, NA, y)
  list(lo = lo, hi = hi)
}
fit_one <- function(name, y, low, high, rhs) {
  b <- bounds(y, low, high)
  f <- survreg(as.formula(paste("Surv(b$lo, b$hi, type = 'interval2') ~", rhs)), data = d, dist = "gaussian")
  s <- summary(f)$table
  data.frame(response = name, formula = rhs, n_left = sum(is.na(b$lo)), n_right = sum(is.na(b$hi)),
             estimate = signif(s["score", "Value"], 12), std_error = signif(s["score", "Std. Error"], 12),
             z = signif(s["score", "z"], 12), p = signif(s["score", "p"], 12),
             log_scale = signif(s["Log(scale)", "Value"], 12), loglik = signif(f$loglik[2], 12))
}
res <- rbind(
  fit_one("y_right", d$y_right, -Inf, 7.2, "score"),
  fit_one("y_both", d$y_both, 5.6, 7.4, "score + factor(tissue)"),
  fit_one("y_var", d$y_var, -Inf, d$limit_high, "score")
)
write.table(res, file.path(out, "r_tobit.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
writeLines(c(R.version.string, paste("survival", packageVersion("survival"))), file.path(out, "r_tobit_versions.txt"))
