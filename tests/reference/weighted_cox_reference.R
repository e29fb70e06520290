# Reference values for the weighted Cox engine (CoxModel.fit(weights_col=)), from R `survival`.
#
# Usage:  Rscript tests/reference/weighted_cox_reference.R [OUTPUT_DIR]
# Reads tests/reference/data/weighted_cox_*.csv and writes OUTPUT_DIR/weighted_cox_<case>.json
# (default: tests/reference/golden). tests/survival/test_cox_weighted.py re-runs this script
# into a temporary folder and checks it reproduces the committed goldens.
#
# Inputs: the cox_ties, cox_trunc and cox_rossi data of cox_reference.R with a case-weight
# column `w` added (numpy default_rng(20261201)): log-normal weights for ties (heavy ties,
# strata, clusters, a 3-level factor), uniform(0.2, 3) weights and a random stratum for
# trunc (counting-process rows, entries equal to event times, clusters), integer weights
# 1-3 for rossi (robust = TRUE: every row its own cluster).
# `se` is sqrt(diag(fit$naive.var)) (R's model-based variance of a weighted fit: the
# inverse weighted information), `robust_se` sqrt(diag(fit$var)) (the sandwich built from
# residuals(fit, type = "dfbeta", weighted = TRUE) summed per cluster).
# Only base R and survival are used (no jsonlite), so the JSON writer is hand-made.

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- dirname(normalizePath(script))
source(file.path(here, "golden_json.R"))  # out_dir, data_dir, json(), arr(), named()

describe <- function(fit) {
  terms <- names(coef(fit))
  list(
    ties = fit$method,
    n = fit$n,
    nevent = fit$nevent,
    loglik = arr(fit$loglik),
    terms = arr(terms),
    coef = named(coef(fit)),
    se = named(setNames(sqrt(diag(fit$naive.var)), terms)),
    robust_se = named(setNames(sqrt(diag(fit$var)), terms))
  )
}
write_case <- function(name, fit) {
  writeLines(json(describe(fit)), file.path(out_dir, paste0("weighted_cox_", name, ".json")))
}
read <- function(name) read.csv(file.path(data_dir, paste0("weighted_cox_", name, ".csv")))

# Heavy ties (times 1..10), strata, clusters, a factor with reference "a"
ties <- read("ties")
ties$grp <- factor(ties$grp, levels = c("a", "b", "c"))
write_case("ties", coxph(Surv(time, event) ~ x1 + x2 + grp + strata(stratum), data = ties,
                         weights = w, cluster = id))
write_case("ties_breslow", coxph(Surv(time, event) ~ x1 + x2 + grp + strata(stratum),
                                 data = ties, weights = w, cluster = id, ties = "breslow"))

# Counting-process rows (entry times, some equal to event times), strata, clusters
trunc <- read("trunc")
write_case("trunc", coxph(Surv(start, stop, event) ~ x1 + x2 + strata(stratum), data = trunc,
                          weights = w, cluster = id))
write_case("trunc_breslow", coxph(Surv(start, stop, event) ~ x1 + x2 + strata(stratum),
                                  data = trunc, weights = w, cluster = id, ties = "breslow"))

# Rossi recidivism data, integer weights, robust = TRUE (each row its own cluster)
rossi <- read("rossi")
write_case("rossi", coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio,
                          data = rossi, weights = w, robust = TRUE))
