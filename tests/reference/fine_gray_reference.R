# Reference values for the Fine–Gray model (analysis/survival/fine_gray.py), from R `survival`.
#
# Usage:  Rscript tests/reference/fine_gray_reference.R [OUTPUT_DIR]
# Reads tests/reference/data/fine_gray_*.csv and writes OUTPUT_DIR/fine_gray_<case>.json
# (default: tests/reference/golden). tests/survival/test_fine_gray.py re-runs this script
# into a temporary folder and checks it reproduces the committed goldens.
#
# Inputs (numpy default_rng(20261201)): `ties` — 300 people, integer times 1..15 (heavy
# ties between events, competing ends and censorings), status 0 censored / 1 event /
# 2 competing, x1 normal, grp binary; `cluster` — 120 people with 1-4 rows each (id),
# times to 0.1, same status coding. The model is the documented recipe
#   fg <- finegray(Surv(time, factor(status)) ~ ., data, etype = "1")
#   coxph(Surv(fgstart, fgstop, fgstatus) ~ x1 + grp, data = fg, weights = fgwt, cluster = id)
# `se` is sqrt(diag(naive.var)), `robust_se` sqrt(diag(var)); `nrow` the finegray rows.

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- dirname(normalizePath(script))
source(file.path(here, "golden_json.R"))  # out_dir, data_dir, json(), arr(), named()

fit_case <- function(name, ties) {
  d <- read.csv(file.path(data_dir, paste0("fine_gray_", name, ".csv")))
  if (is.null(d$id)) d$id <- seq_len(nrow(d)) - 1  # row position, as finegray_rows()
  d$status <- factor(d$status, levels = c(0, 1, 2))
  fg <- finegray(Surv(time, status) ~ ., data = d, etype = "1")
  fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ x1 + grp, data = fg, weights = fgwt,
               cluster = id, ties = ties)
  terms <- names(coef(fit))
  out <- list(ties = fit$method, nrow = nrow(fg), nevent = fit$nevent,
              weight_sum = sum(fg$fgwt), terms = arr(terms), coef = named(coef(fit)),
              se = named(setNames(sqrt(diag(fit$naive.var)), terms)),
              robust_se = named(setNames(sqrt(diag(fit$var)), terms)))
  suffix <- if (ties == "efron") "" else "_breslow"
  writeLines(json(out), file.path(out_dir, paste0("fine_gray_", name, suffix, ".json")))
}
fit_case("ties", "efron")
fit_case("ties", "breslow")
fit_case("cluster", "efron")

# Row-level check of the expansion on the `ties` data: every finegray row, in R's order.
d <- read.csv(file.path(data_dir, "fine_gray_ties.csv"))
d$id <- seq_len(nrow(d)) - 1
d$status <- factor(d$status, levels = c(0, 1, 2))
fg <- finegray(Surv(time, status) ~ ., data = d, etype = "1")
writeLines(json(list(id = arr(fg$id), start = arr(fg$fgstart), stop = arr(fg$fgstop),
                     event = arr(fg$fgstatus), w = arr(fg$fgwt))),
           file.path(out_dir, "fine_gray_ties_rows.json"))
