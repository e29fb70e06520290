# Reference values for the Kaplan–Meier, log-rank and cumulative-incidence engine
# (analysis/survival/kaplan_meier.py, logrank.py, competing_risks.py), computed with R
# `survival`.
#
# Usage:  Rscript tests/reference/km_reference.R [OUTPUT_DIR]
# Reads tests/reference/data/km_*.csv and writes OUTPUT_DIR/km_*.csv
# (default: tests/reference/golden). tests/survival/test_km_reference.py re-runs this
# script into a temporary folder and checks it reproduces the committed goldens.
#
# Inputs: km_aml, km_lung, km_veteran are exported from R survival's datasets (aml, lung,
# veteran) by this script when missing; km_ties (heavy ties, 3 groups, 2 strata),
# km_allcensored, km_zero_events (a group without events; event and censoring on the
# last day), km_trunc (left truncation) and km_cr (competing risks) are synthetic
# (numpy seed 20261123). Columns: time, status (0/1) or cause (0/1/2), group, and
# optionally strata, entry. Only base R and survival are used.

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- dirname(normalizePath(script))
trailing <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(trailing) >= 1) trailing[1] else file.path(here, "golden")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
data_dir <- file.path(here, "data")

export <- function(name, frame) {
  path <- file.path(data_dir, paste0("km_", name, ".csv"))
  if (!file.exists(path)) write.csv(frame, path, row.names = FALSE)
}
export("aml", data.frame(time = aml$time, status = aml$status, group = aml$x))
lung_ok <- lung[!is.na(lung$ph.ecog), ]
export("lung", data.frame(time = lung_ok$time, status = lung_ok$status - 1,
                          group = ifelse(lung_ok$sex == 1, "male", "female"),
                          strata = paste0("ecog", lung_ok$ph.ecog)))
export("veteran", data.frame(time = veteran$time, status = veteran$status,
                             group = veteran$celltype, strata = paste0("trt", veteran$trt)))

write_golden <- function(frame, name) {
  write.csv(frame, file.path(out_dir, name), row.names = FALSE)
}

curve_rows <- function(fit, label) {
  # summary(censored = TRUE) gives std.err on the survival scale, as the engine's `se`.
  s <- summary(fit, censored = TRUE)
  data.frame(group = label, time = s$time, n_risk = s$n.risk, n_event = s$n.event,
             n_censor = s$n.censor, survival = s$surv, se = s$std.err,
             lower = s$lower, upper = s$upper)
}

km_case <- function(name) {
  d <- read.csv(file.path(data_dir, paste0("km_", name, ".csv")), stringsAsFactors = FALSE)
  d$group <- as.character(d$group)
  surv <- if ("entry" %in% names(d)) Surv(d$entry, d$time, d$status) else Surv(d$time, d$status)
  curves <- list()
  quants <- list()
  for (g in sort(unique(d$group))) {
    keep <- d$group == g
    fit <- survfit(surv[keep] ~ 1, conf.type = "log-log")
    curves[[g]] <- curve_rows(fit, g)
    q <- quantile(fit, probs = c(0.25, 0.5, 0.75))
    quants[[g]] <- data.frame(group = g, p = c(0.25, 0.5, 0.75), time = unname(q$quantile),
                              lower = unname(q$lower), upper = unname(q$upper))
  }
  fit_all <- survfit(surv ~ 1, conf.type = "log-log")
  curves[["(pooled)"]] <- curve_rows(fit_all, "(pooled)")
  q <- quantile(fit_all, probs = c(0.25, 0.5, 0.75))
  quants[["(pooled)"]] <- data.frame(group = "(pooled)", p = c(0.25, 0.5, 0.75),
                                     time = unname(q$quantile), lower = unname(q$lower),
                                     upper = unname(q$upper))
  write_golden(do.call(rbind, curves), paste0("km_", name, "_curve.csv"))
  write_golden(do.call(rbind, quants), paste0("km_", name, "_quantiles.csv"))
  tests <- NULL
  if (!("entry" %in% names(d)) && length(unique(d$group)) > 1) {
    for (rho in c(0, 1, 0.5)) {
      sd <- survdiff(Surv(time, status) ~ group, data = d, rho = rho)
      df <- sum(sd$exp > 0) - 1
      tests <- rbind(tests, data.frame(case = name, test = paste0("rho=", rho),
                                       chisq = sd$chisq, df = df))
    }
    if ("strata" %in% names(d)) {
      sd <- survdiff(Surv(time, status) ~ group + strata(strata), data = d)
      tests <- rbind(tests, data.frame(case = name, test = "stratified", chisq = sd$chisq,
                                       df = length(unique(d$group)) - 1))
    }
  }
  tests
}

cases <- c("aml", "lung", "veteran", "ties", "allcensored", "zero_events", "trunc")
tests <- do.call(rbind, lapply(cases, km_case))
write_golden(tests, "km_logrank.csv")

# Competing risks: Aalen–Johansen with R's default (infinitesimal jackknife) std.err and
# conf.type = "log".
d <- read.csv(file.path(data_dir, "km_cr.csv"), stringsAsFactors = FALSE)
rows <- list()
for (g in sort(unique(d$group))) {
  dd <- d[d$group == g, ]
  fit <- survfit(Surv(time, factor(cause, levels = 0:2,
                                   labels = c("censor", "reoffence", "competing"))) ~ 1,
                 data = dd)
  for (state in c("reoffence", "competing")) {
    j <- match(state, fit$states)
    rows[[paste(g, state)]] <- data.frame(
      group = g, cause = state, time = fit$time, n_risk = fit$n.risk[, 1],
      cif = fit$pstate[, j], se = fit$std.err[, j], lower = fit$lower[, j],
      upper = fit$upper[, j])
  }
}
write_golden(do.call(rbind, rows), "km_cr_cif.csv")
