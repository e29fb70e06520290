# Reference values for the monthly hazard (analysis/planning/hazard.py), computed from
# the individual episode times with base R, and the first-year shares with R `survival`.
#
# Usage:  Rscript tests/reference/planning/monthly_hazard.R [OUTPUT_DIR]
# Reads monthly_hazard_episodes.csv (beside this script: group, time in days, cause 0
# censored / 1 reoffence / 2 competing end; made by monthly_hazard_fixture.py) and writes
# OUTPUT_DIR/monthly_hazard_table.csv and OUTPUT_DIR/monthly_hazard_shares.csv (default:
# this script's folder). tests/planning/test_hazard.py compares the engine with them to
# 1e-10 and re-runs this script into a temporary folder to check it reproduces them.
#
# The definitions, written here from docs/planning.md and not from the Python code:
# month m ends on day floor(m * 365 / 12 + 0.5); month 1 is days 0..end(1), month m the
# days after end(m - 1) up to end(m). At risk at the start of month m: releases whose
# time is in month m or later. Events: cause 1 in the month; censored: cause 0 or 2 in
# the month. Hazard d / (n - c / 2), Wilson interval = prop.test(correct = FALSE).
# Shares: Aalen–Johansen cumulative incidence of cause 1 (cause 2 competing) at the end
# of months 1, 3, 6 over that at day 365.

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- dirname(normalizePath(script))
trailing <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(trailing) >= 1) trailing[1] else here
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

episodes <- read.csv(file.path(here, "monthly_hazard_episodes.csv"), stringsAsFactors = FALSE)
months <- 24
ends <- floor((1:months) * 365 / 12 + 0.5)
starts <- c(0, ends[-months] + 1)

table_rows <- list()
share_rows <- list()
for (g in sort(unique(episodes$group))) {
  d <- episodes[episodes$group == g, ]
  # month of each release; months + 1 = followed beyond the last month
  month <- cut(d$time, breaks = c(-1, ends, Inf), labels = FALSE, right = TRUE)
  month <- factor(month, levels = 1:(months + 1))
  events <- as.vector(table(month[d$cause == 1]))[1:months]
  censored <- as.vector(table(month[d$cause != 1]))[1:months]
  leaving <- as.vector(table(month))
  at_risk <- rev(cumsum(rev(leaving)))[1:months]
  effective <- at_risk - censored / 2
  hazard <- ifelse(effective > 0, events / effective, NA)
  lower <- rep(NA_real_, months)
  upper <- rep(NA_real_, months)
  for (m in which(effective > 0)) {
    ci <- suppressWarnings(prop.test(events[m], effective[m], correct = FALSE))$conf.int
    lower[m] <- ci[1]
    upper[m] <- ci[2]
  }
  table_rows[[g]] <- data.frame(group = g, month = 1:months, start_day = starts,
                                end_day = ends, at_risk = at_risk, events = events,
                                censored = censored, effective_at_risk = effective,
                                hazard = hazard, lower = lower, upper = upper)

  # Releases followed 0 days leave before any event can happen: they change no
  # cumulative incidence, and survfit wants times after the start.
  followed <- d[d$time > 0, ]
  fit <- survfit(Surv(time, factor(cause, levels = 0:2)) ~ 1, data = followed)
  state <- which(fit$states == "1")
  cif_at <- function(day) {
    hit <- which(fit$time <= day)
    if (length(hit) == 0) 0 else fit$pstate[max(hit), state]
  }
  year <- cif_at(365)
  for (m in c(1, 3, 6)) {
    share_rows[[paste(g, m)]] <- data.frame(
      group = g, months = m, days = ends[m], incidence = cif_at(ends[m]),
      incidence_first_year = year, share = cif_at(ends[m]) / year)
  }
}

write.csv(do.call(rbind, table_rows), file.path(out_dir, "monthly_hazard_table.csv"),
          row.names = FALSE)
write.csv(do.call(rbind, share_rows), file.path(out_dir, "monthly_hazard_shares.csv"),
          row.names = FALSE)
