# Refit an export of `desist export` with the R lines its data dictionary gives.
#
# Usage:  Rscript tests/reference/export_refit.R FILE.dictionary.md OUTPUT_DIR
#
# Takes the ```r block of the dictionary, runs it in the dictionary's folder (where the
# exported file is), then writes what it fitted:
#   - a Cox model `fit`   -> OUTPUT_DIR/cox.csv: term, coef, se_model (sqrt of
#     fit$naive.var: the inverse information), se_robust (sqrt of fit$var: clustered
#     by person_id), n, events;
#   - a survfit `km`      -> OUTPUT_DIR/km.csv: group, time, survival, se, lower, upper,
#     n_risk at the dictionary's `horizons` (summary(km, times =, extend = TRUE)), and
#     OUTPUT_DIR/km_median.csv: group, median.
# tests/export/test_export_refit.py compares them with `desist cox --json` and
# `desist km --json`. Only base R, survival and (for .dta files) haven are used.

suppressPackageStartupMessages(library(survival))

trailing <- commandArgs(trailingOnly = TRUE)
if (length(trailing) != 2) stop("usage: export_refit.R FILE.dictionary.md OUTPUT_DIR")
dictionary <- normalizePath(trailing[1])
out_dir <- trailing[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
out_dir <- normalizePath(out_dir)

lines <- readLines(dictionary, encoding = "UTF-8")
first <- which(lines == "```r")
if (length(first) != 1) stop("the dictionary has no single ```r block: ", dictionary)
ends <- which(lines == "```")
last <- min(ends[ends > first])
code <- lines[(first + 1):(last - 1)]

setwd(dirname(dictionary))
env <- new.env()
invisible(capture.output(eval(parse(text = code), envir = env)))

group_of <- function(strata_names) sub("^group=", "", strata_names)

if (exists("fit", envir = env, inherits = FALSE)) {
  fit <- get("fit", envir = env)
  write.csv(data.frame(term = names(coef(fit)), coef = unname(coef(fit)),
                       se_model = sqrt(diag(fit$naive.var)), se_robust = sqrt(diag(fit$var)),
                       n = fit$n, events = fit$nevent),
            file.path(out_dir, "cox.csv"), row.names = FALSE)
}
if (exists("km", envir = env, inherits = FALSE)) {
  km <- get("km", envir = env)
  horizons <- get("horizons", envir = env)
  s <- summary(km, times = horizons, extend = TRUE)
  group <- if (is.null(s$strata)) rep("all", length(s$time)) else group_of(as.character(s$strata))
  write.csv(data.frame(group = group, time = s$time, survival = s$surv, se = s$std.err,
                       lower = s$lower, upper = s$upper, n_risk = s$n.risk),
            file.path(out_dir, "km.csv"), row.names = FALSE)
  table <- summary(km)$table
  if (is.null(dim(table))) {
    medians <- data.frame(group = "all", median = unname(table["median"]))
  } else {
    medians <- data.frame(group = group_of(rownames(table)), median = unname(table[, "median"]))
  }
  write.csv(medians, file.path(out_dir, "km_median.csv"), row.names = FALSE)
}
