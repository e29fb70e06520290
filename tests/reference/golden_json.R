# The golden writers' shared part: where the script lives, where goldens go, and a small
# JSON writer (base R only, so that the reference scripts need nothing beyond R, survival
# and MatchIt). Sourced by cox_reference.R, weighted_cox_reference.R and
# matchit_reference.R once they know `here` (their own folder):
#
#   Rscript tests/reference/NAME.R [OUTPUT_DIR]    (default: tests/reference/golden)
#
# Numbers keep 15 significant digits; NA is null; a length-1 value is a scalar unless
# marked with arr().

trailing <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(trailing) >= 1) trailing[1] else file.path(here, "golden")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
data_dir <- file.path(here, "data")

num <- function(x) {
  ifelse(is.na(x), "null", trimws(formatC(x, digits = 15, format = "g")))
}
json <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    inner <- vapply(names(x), function(k) paste0('"', k, '": ', json(x[[k]])), "")
    return(paste0("{", paste(inner, collapse = ", "), "}"))
  }
  if (is.character(x)) {
    items <- paste0('"', x, '"')
  } else {
    items <- num(as.numeric(x))
  }
  if (length(x) == 1 && is.null(attr(x, "as_array"))) return(items)
  paste0("[", paste(items, collapse = ", "), "]")
}
arr <- function(x) structure(x, as_array = TRUE)
named <- function(v) {
  out <- as.list(unname(v))
  names(out) <- names(v)
  out
}
write_json <- function(x, name) writeLines(json(x), file.path(out_dir, name))
