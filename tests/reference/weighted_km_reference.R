# Reference values for the weighted Kaplan–Meier of analysis/survival/kaplan_meier.py
# (KaplanMeier().fit(weights=)), computed with R `survival`.
#
# Usage:  Rscript tests/reference/weighted_km_reference.R [OUTPUT_DIR]
# Reads tests/reference/data/weighted_km.csv and writes OUTPUT_DIR/weighted_km_curve.csv
# (default: tests/reference/golden). tests/survival/test_kaplan_meier_weights.py re-runs
# this script into a temporary folder and checks it reproduces the committed golden.
#
# Input (synthetic, numpy seed 20261201): time, status (0/1), weight, group. Groups:
# ipw (non-integer inverse-probability-like weights, ties), frequency (integer weights),
# constant (every weight 2.5), unit (every weight 1), lastevent (events and a censoring
# on the last day).
#
# survival, n_risk, n_event, n_censor: survfit(weights =). effective_n: the risk set's
# (sum w)^2 / sum w^2, with sum w^2 read as the n.risk of survfit(weights = w^2).
# se: the Xie & Liu (2005) adjusted Greenwood SE, S * sqrt(cumsum(d / (M (n - d)))),
# and lower/upper from it through survival's own survfit_confint (log-log).
# r_se_frequency: survfit's robust = FALSE std.err, which treats weights as frequencies
# (equal to Greenwood's, and to the engine's se, only when every weight is 1).
# Only base R and survival are used.

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- dirname(normalizePath(script))
trailing <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(trailing) >= 1) trailing[1] else file.path(here, "golden")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

d <- read.csv(file.path(here, "data", "weighted_km.csv"), stringsAsFactors = FALSE)
rows <- list()
for (g in sort(unique(d$group))) {
  dd <- d[d$group == g, ]
  fit <- survfit(Surv(time, status) ~ 1, data = dd, weights = weight,
                 conf.type = "log-log", robust = FALSE)
  squares <- survfit(Surv(time, status) ~ 1, data = dd, weights = weight^2)
  n <- fit$n.risk
  e <- fit$n.event
  m <- n^2 / squares$n.risk
  se_log <- sqrt(cumsum(ifelse(e > 0, e / (m * (n - e)), 0)))
  ci <- survival:::survfit_confint(fit$surv, se_log, logse = TRUE,
                                   conf.type = "log-log", conf.int = 0.95)
  rows[[g]] <- data.frame(group = g, time = fit$time, n_risk = n, n_event = e,
                          n_censor = fit$n.censor, effective_n = m, survival = fit$surv,
                          se = fit$surv * se_log, lower = ci$lower, upper = ci$upper,
                          r_se_frequency = fit$surv * fit$std.err)
}
write.csv(do.call(rbind, rows), file.path(out_dir, "weighted_km_curve.csv"), row.names = FALSE)
