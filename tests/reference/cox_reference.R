# Reference values for the Cox engine (analysis/survival/cox.py), computed with R `survival`.
#
# Usage:  Rscript tests/reference/cox_reference.R [OUTPUT_DIR]
# Reads tests/reference/data/cox_*.csv and writes OUTPUT_DIR/cox_<case>.json
# (default: tests/reference/golden). tests/survival/test_cox_reference.py re-runs this
# script into a temporary folder and checks it reproduces the committed goldens.
#
# Inputs: cox_lung, cox_heart (jasa1 counting process), cox_ovarian were exported from
# R survival 3.5.3 datasets (lung, heart, ovarian) with write.csv; cox_rossi is the
# Rossi recidivism data shipped with lifelines; cox_ties (heavy ties, strata, clusters,
# a 3-level factor) and cox_trunc (left truncation, entries equal to event times,
# clusters) are synthetic (numpy seed 20261123). cox_study is the counting-process frame
# `desist cox` fits on the synthetic study database of tests/reference/cox_study.py
# (several releases per person, a time-varying programme; numpy seed 20261201).
# The pairs lung / lung_robust, heart_model / heart and study_model / study are a plain
# coxph fit (model-based SE) and a cluster= or robust = TRUE fit (robust SE) of the same
# data, so both kinds of standard error are checked against their own R fit.
# Only base R and survival are used (no jsonlite), so the JSON writer is hand-made.

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- dirname(normalizePath(script))
source(file.path(here, "golden_json.R"))  # out_dir, data_dir, json(), arr(), named()

describe <- function(fit, zph = NULL, newdata = NULL, times = NULL) {
  res <- list(
    ties = fit$method,
    n = fit$n,
    nevent = fit$nevent,
    loglik = arr(fit$loglik),
    terms = arr(names(coef(fit))),
    coef = named(coef(fit)),
    se = named(setNames(sqrt(diag(fit$naive.var %||% fit$var)), names(coef(fit))))
  )
  if (!is.null(fit$naive.var)) {
    res$robust_se <- named(setNames(sqrt(diag(fit$var)), names(coef(fit))))
  }
  if (!is.null(zph)) {
    tab <- zph$table
    res$zph <- list(
      term = arr(rownames(tab)),
      chisq = arr(tab[, "chisq"]),
      df = arr(tab[, "df"]),
      p = arr(tab[, "p"])
    )
  }
  if (!is.null(newdata)) {
    sf <- survfit(fit, newdata = newdata)
    s <- summary(sf, times = times, extend = TRUE)$surv
    s <- matrix(s, nrow = length(times))
    res$survfit <- list(times = arr(times))
    for (j in seq_len(ncol(s))) res$survfit[[paste0("profile", j)]] <- arr(s[, j])
  }
  res
}
`%||%` <- function(a, b) if (is.null(a)) b else a

write_case <- function(name, res) {
  writeLines(json(res), file.path(out_dir, paste0("cox_", name, ".json")))
}
read <- function(name) read.csv(file.path(data_dir, paste0("cox_", name, ".csv")))

# lung: NA in ph.ecog dropped, Efron and Breslow, survival for two profiles
lung <- read("lung")
fit <- coxph(Surv(time, event) ~ age + sex + ph.ecog, data = lung)
write_case("lung", describe(fit, cox.zph(fit),
  newdata = data.frame(age = c(60, 70), sex = c(1, 2), ph.ecog = c(1, 0)),
  times = c(100, 300, 500, 800)))
fit <- coxph(Surv(time, event) ~ age + sex + ph.ecog, data = lung, ties = "breslow")
write_case("lung_breslow", describe(fit, cox.zph(fit)))

# heart (jasa1): counting process with time-varying transplant, robust SE by patient
heart <- read("heart")
fit <- coxph(Surv(start, stop, event) ~ age + year + surgery + transplant,
             data = heart, cluster = id)
write_case("heart", describe(fit, cox.zph(fit),
  newdata = data.frame(age = c(0, -10), year = c(3, 3), surgery = c(0, 1),
                       transplant = c(0, 1)),
  times = c(10, 50, 100, 300)))

ovarian <- read("ovarian")
fit <- coxph(Surv(futime, fustat) ~ age + ecog.ps + rx, data = ovarian)
write_case("ovarian", describe(fit, cox.zph(fit)))

# Rossi recidivism data: Efron with robust (per row) SE, and Breslow
rossi <- read("rossi")
fit <- coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio,
             data = rossi, robust = TRUE)
write_case("rossi", describe(fit, cox.zph(fit),
  newdata = data.frame(fin = c(0, 1), age = c(20, 30), race = c(1, 0), wexp = c(0, 1),
                       mar = c(0, 0), paro = c(1, 1), prio = c(3, 1)),
  times = c(10, 26, 52)))
fit <- coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio,
             data = rossi, ties = "breslow")
write_case("rossi_breslow", describe(fit, cox.zph(fit)))

# Heavy ties, strata, clusters and a factor whose reference level is "a"
ties <- read("ties")
ties$grp <- factor(ties$grp, levels = c("a", "b", "c"))
fit <- coxph(Surv(time, event) ~ x1 + x2 + grp + strata(stratum), data = ties, cluster = id)
write_case("ties", describe(fit, cox.zph(fit),
  newdata = data.frame(x1 = c(0, 1), x2 = c(0, 1), grp = factor(c("a", "c"),
                       levels = c("a", "b", "c")), stratum = c("north", "south")),
  times = c(1, 3, 6, 10)))
fit <- coxph(Surv(time, event) ~ x1 + x2 + grp + strata(stratum), data = ties,
             cluster = id, ties = "breslow")
write_case("ties_breslow", describe(fit, cox.zph(fit)))

# Left truncation with entry times equal to event times, robust SE by id
trunc <- read("trunc")
fit <- coxph(Surv(start, stop, event) ~ x1 + x2, data = trunc, cluster = id)
write_case("trunc", describe(fit, cox.zph(fit),
  newdata = data.frame(x1 = c(0, 1), x2 = c(0, 1)), times = c(2, 5, 9)))

# Model and robust SEs named as such: plain coxph (model-based SE, `se`) beside
# coxph(cluster=) / robust = TRUE (`robust_se`), time-varying exposures included.
fit <- coxph(Surv(time, event) ~ age + sex + ph.ecog, data = lung, robust = TRUE)
write_case("lung_robust", describe(fit, cox.zph(fit)))
fit <- coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = heart)
write_case("heart_model", describe(fit, cox.zph(fit)))

# The study database as `desist cox --covariates age_at_release,sex --programs VOC,JOB`
# fits it (tests/reference/cox_study.py): several releases per person, an in-prison
# programme (VOC) and a time-varying post-release one (JOB); reference level of sex "M"
study <- read("study")
study$sex <- factor(study$sex, levels = c("M", "F"))
fit <- coxph(Surv(start, stop, event) ~ age_at_release + sex + VOC + JOB, data = study)
write_case("study_model", describe(fit, cox.zph(fit)))
fit <- coxph(Surv(start, stop, event) ~ age_at_release + sex + VOC + JOB, data = study,
             cluster = person_id)
write_case("study", describe(fit, cox.zph(fit)))
