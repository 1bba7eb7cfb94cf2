#!/usr/bin/env Rscript
# Reference outputs for resistscore's statistics tests (tests/tl/stats/).
#
# Writes to tests/_reference/stats/:
#   input_samples.tsv   36 samples: 3 signature scores, group (A/B/C), tissue, drug responses, survival
#   input_paired.tsv    12 patients x (pre, post)
#   input_cells.tsv     6 patients x 20 cells (for the mixed model)
#   r_*.tsv             the R results the Python tests compare with
#
# Run from the repository root:  Rscript scripts/make_stats_reference.R
# Needs R >= 4.2 with the packages survival, nlme, pROC and effectsize
# (Debian: apt-get install r-cran-survival r-cran-nlme r-cran-proc r-cran-effectsize).
suppressPackageStartupMessages({
  library(survival); library(nlme); library(pROC); library(effectsize)
})
out <- "tests/_reference/stats"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
wr <- function(df, name) write.table(df, file.path(out, name), sep = "\t", quote = FALSE, row.names = FALSE)
r6 <- function(x) signif(x, 10)

set.seed(20261128)
n <- 36
d <- data.frame(
  sample = sprintf("s%02d", 1:n),
  group = rep(c("A", "B", "C"), each = 12),
  tissue = rep(c("lung", "breast", "skin"), times = 12),
  stringsAsFactors = FALSE
)
eff <- c(A = 0, B = 0.8, C = 1.5)[d$group]
tis <- c(lung = 0, breast = 0.5, skin = -0.4)[d$tissue]
d$sig_a <- round(eff + rnorm(n, 0, 1), 4)
d$sig_b <- round(rnorm(n, 0, 1), 4)
d$sig_c <- round(tis + rnorm(n, 0, 0.7), 4)
d$drug1 <- round(6 - 0.5 * d$sig_a + tis + rnorm(n, 0, 0.8), 4)
d$drug2 <- round(5 + rnorm(n, 0, 0.5), 4)
d$time <- round(rexp(n, rate = 0.05 * exp(0.6 * d$sig_a)), 3)
d$event <- as.integer(runif(n) < 0.75)
d$responder <- as.integer(d$sig_a + rnorm(n, 0, 1) > 0.8)
wr(d, "input_samples.tsv")
sigs <- c("sig_a", "sig_b", "sig_c")

# --- two groups (B vs A): Welch t, Mann-Whitney (asymptotic, continuity correction), Hedges' g, rank-biserial
two <- do.call(rbind, lapply(sigs, function(s) {
  x <- d[d$group == "B", s]; y <- d[d$group == "A", s]
  tt <- t.test(x, y, var.equal = FALSE)
  wt <- suppressWarnings(wilcox.test(x, y, exact = FALSE, correct = TRUE))
  g <- hedges_g(x, y, pooled_sd = TRUE, ci = 0.95)
  rb <- rank_biserial(x, y, ci = 0.95)
  data.frame(signature = s, t = r6(tt$statistic), df = r6(tt$parameter), p_t = r6(tt$p.value),
             diff_ci_low = r6(tt$conf.int[1]), diff_ci_high = r6(tt$conf.int[2]),
             W = r6(wt$statistic), p_w = r6(wt$p.value),
             hedges_g = r6(g$Hedges_g), g_ci_low = r6(g$CI_low), g_ci_high = r6(g$CI_high),
             r_rb = r6(rb$r_rank_biserial), rb_ci_low = r6(rb$CI_low), rb_ci_high = r6(rb$CI_high))
}))
wr(two, "r_two_groups.tsv")

# --- three groups: one-way ANOVA (eta^2 with two-sided noncentral-F CI), Kruskal-Wallis
omni <- do.call(rbind, lapply(sigs, function(s) {
  fit <- aov(d[[s]] ~ factor(d$group))
  ft <- summary(fit)[[1]]
  es <- eta_squared(fit, partial = FALSE, ci = 0.95, alternative = "two.sided")
  kw <- kruskal.test(d[[s]] ~ factor(d$group))
  # Steiger (2004): noncentrality bounds by exact inversion of pf, eta^2 = lambda / (lambda + N)
  f <- ft[1, "F value"]; df1 <- ft[1, "Df"]; df2 <- ft[2, "Df"]
  lam <- function(q) if (pf(f, df1, df2) < q) 0 else
    uniroot(function(l) pf(f, df1, df2, ncp = l) - q, c(0, 1000), tol = 1e-12)$root
  lo <- lam(0.975); hi <- lam(0.025)
  data.frame(signature = s, F = r6(ft[1, "F value"]), p_f = r6(ft[1, "Pr(>F)"]),
             eta2 = r6(es$Eta2), eta2_ci_low = r6(es$CI_low), eta2_ci_high = r6(es$CI_high),
             steiger_ci_low = r6(lo / (lo + n)), steiger_ci_high = r6(hi / (hi + n)),
             H = r6(kw$statistic), p_h = r6(kw$p.value))
}))
wr(omni, "r_omnibus.tsv")

# --- paired design: 12 patients, pre / post
p <- data.frame(patient = sprintf("p%02d", 1:12))
p$pre <- round(rnorm(12, 0, 1), 4)
p$post <- round(p$pre + 0.6 + rnorm(12, 0, 0.7), 4)
wr(p, "input_paired.tsv")
pt <- t.test(p$post, p$pre, paired = TRUE)
pw <- wilcox.test(p$post, p$pre, paired = TRUE, exact = TRUE)
prb <- rank_biserial(p$post, p$pre, paired = TRUE, ci = 0.95)
wr(data.frame(t = r6(pt$statistic), df = r6(pt$parameter), p_t = r6(pt$p.value),
              diff_ci_low = r6(pt$conf.int[1]), diff_ci_high = r6(pt$conf.int[2]),
              V = r6(pw$statistic), p_w = r6(pw$p.value),
              r_rb = r6(prb$r_rank_biserial), rb_ci_low = r6(prb$CI_low), rb_ci_high = r6(prb$CI_high)),
   "r_paired.tsv")

# --- linear model with a covariate: score ~ group (ref A) + tissue (ref breast, alphabetical)
lmr <- do.call(rbind, lapply(sigs, function(s) {
  fit <- lm(d[[s]] ~ factor(d$group) + factor(d$tissue))
  cf <- summary(fit)$coefficients; ci <- confint(fit)
  rows <- c("factor(d$group)B", "factor(d$group)C")
  data.frame(signature = s, level = c("B", "C"), estimate = r6(cf[rows, 1]), std_err = r6(cf[rows, 2]),
             t = r6(cf[rows, 3]), p = r6(cf[rows, 4]), ci_low = r6(ci[rows, 1]), ci_high = r6(ci[rows, 2]),
             df = fit$df.residual)
}))
wr(lmr, "r_lm.tsv")

# --- mixed model: cells nested in patients, random intercept per patient (REML)
cells <- data.frame(patient = rep(sprintf("pt%d", 1:6), each = 20))
cells$cell <- sprintf("c%03d", seq_len(nrow(cells)))
cells$arm <- ifelse(cells$patient %in% c("pt1", "pt2", "pt3"), "control", "treated")
u <- rnorm(6, 0, 0.8); names(u) <- sprintf("pt%d", 1:6)
cells$sig_a <- round(0.7 * (cells$arm == "treated") + u[cells$patient] + rnorm(nrow(cells), 0, 0.5), 4)
cells <- cells[, c("cell", "patient", "arm", "sig_a")]
wr(cells, "input_cells.tsv")
mm <- lme(sig_a ~ arm, random = ~ 1 | patient, data = cells, method = "REML")
cf <- summary(mm)$tTable
pb <- aggregate(sig_a ~ patient + arm, data = cells, FUN = mean)
pbt <- t.test(pb$sig_a[pb$arm == "treated"], pb$sig_a[pb$arm == "control"], var.equal = FALSE)
wr(data.frame(estimate = r6(cf["armtreated", "Value"]), std_err = r6(cf["armtreated", "Std.Error"]),
              pb_t = r6(pbt$statistic), pb_df = r6(pbt$parameter), pb_p = r6(pbt$p.value)),
   "r_mixed.tsv")

# --- drug response: Spearman (asymptotic t p-value), partial Spearman given tissue, regression with tissue
resp <- do.call(rbind, lapply(sigs, function(s) do.call(rbind, lapply(c("drug1", "drug2"), function(dr) {
  ct <- suppressWarnings(cor.test(d[[s]], d[[dr]], method = "spearman", exact = FALSE))
  Z <- model.matrix(~ factor(d$tissue))
  rx <- resid(lm(rank(d[[s]]) ~ Z - 1)); ry <- resid(lm(rank(d[[dr]]) ~ Z - 1))
  pr <- cor(rx, ry); k <- ncol(Z) - 1; dfp <- n - 2 - k
  tp <- pr * sqrt(dfp / (1 - pr^2))
  fit <- lm(d[[dr]] ~ d[[s]] + factor(d$tissue)); cf <- summary(fit)$coefficients; ci <- confint(fit)
  data.frame(signature = s, response = dr, rho = r6(ct$estimate), p_rho = r6(ct$p.value),
             partial_rho = r6(pr), p_partial = r6(2 * pt(-abs(tp), dfp)),
             slope = r6(cf[2, 1]), slope_ci_low = r6(ci[2, 1]), slope_ci_high = r6(ci[2, 2]), p_slope = r6(cf[2, 4]))
}))))
wr(resp, "r_response.tsv")

# --- survival: Cox PH (Efron ties) per SD of the score, adjusted for tissue; log-rank of high vs low (median split)
surv <- do.call(rbind, lapply(sigs, function(s) {
  x <- d[[s]] / sd(d[[s]])
  fit <- coxph(Surv(d$time, d$event) ~ x + factor(d$tissue), ties = "efron")
  sm <- summary(fit)
  high <- d[[s]] > median(d[[s]])
  lr <- survdiff(Surv(d$time, d$event) ~ high)
  data.frame(signature = s, hr = r6(sm$conf.int["x", "exp(coef)"]),
             hr_ci_low = r6(sm$conf.int["x", "lower .95"]), hr_ci_high = r6(sm$conf.int["x", "upper .95"]),
             z = r6(sm$coefficients["x", "z"]), p = r6(sm$coefficients["x", "Pr(>|z|)"]),
             logrank_chisq = r6(lr$chisq), logrank_p = r6(pchisq(lr$chisq, 1, lower.tail = FALSE)))
}))
wr(surv, "r_survival.tsv")
high <- d$sig_a > median(d$sig_a)
km <- survfit(Surv(d$time, d$event) ~ 1, subset = high, conf.type = "log-log")
wr(data.frame(time = r6(km$time), n_at_risk = km$n.risk, n_events = km$n.event, survival = r6(km$surv),
              ci_low = r6(km$lower), ci_high = r6(km$upper)), "r_km_sig_a_high.tsv")

# --- ROC AUC of responder (positive = 1)
auc <- do.call(rbind, lapply(sigs, function(s) {
  r <- roc(d$responder, d[[s]], levels = c(0, 1), direction = "<", quiet = TRUE)
  data.frame(signature = s, auc = r6(as.numeric(auc(r))))
}))
wr(auc, "r_auc.tsv")
writeLines(c(R.version.string, paste("survival", packageVersion("survival")), paste("nlme", packageVersion("nlme")),
             paste("pROC", packageVersion("pROC")), paste("effectsize", packageVersion("effectsize"))),
           file.path(out, "r_versions.txt"))
