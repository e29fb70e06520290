#!/usr/bin/env bash
# What the test suite needs from the operating system, checked before `make test` runs.
#
# - R with the survival and MatchIt packages: the reference tests re-derive the
#   golden values with R, so agreement is checked, not assumed; haven, with which R
#   reads the Stata files of `desist export` (tests/export/test_export_refit.py).
# - Debian's Chromium: the real-browser tests drive it through Playwright
#   (nothing is downloaded at run time).
# - Fonts that cover Arabic and Cyrillic, so screenshots and PDFs show the text.
# - poppler-utils (pdftotext, pdfinfo, pdffonts): the PDF report tests read back the
#   text, page count and fonts of the PDFs they print.
#
# Missing pieces are installed with apt-get when running as root (CI, a fresh
# server); otherwise the script stops at once and prints the one command that
# installs them. Exit status: 0 all present, 1 something is missing.
set -u

missing() {
  local need=()
  command -v Rscript >/dev/null 2>&1 || need+=(r-base-core)
  if command -v Rscript >/dev/null 2>&1; then
    Rscript -e 'library(survival)' >/dev/null 2>&1 || need+=(r-cran-survival)
    Rscript -e 'library(MatchIt)' >/dev/null 2>&1 || need+=(r-cran-matchit)
    Rscript -e 'library(haven)' >/dev/null 2>&1 || need+=(r-cran-haven)
  else
    need+=(r-cran-survival r-cran-matchit r-cran-haven)
  fi
  [ -x "${DESIST_CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
  command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
  if command -v fc-list >/dev/null 2>&1; then
    # By name: DejaVu Sans also claims Arabic, but the PDF report prints Arabic in
    # Noto Sans Arabic (tests/impact/test_pdf_report.py checks the embedded font).
    [ -n "$(fc-list 'Noto Sans Arabic' family 2>/dev/null)" ] || need+=(fonts-noto-core)
    [ -n "$(fc-list :lang=ru family 2>/dev/null)" ] || need+=(fonts-dejavu-core)
  else
    need+=(fontconfig fonts-noto-core fonts-dejavu-core)
  fi
  printf '%s\n' "${need[@]}" | awk 'NF && !seen[$0]++'
}

need=$(missing)
[ -z "$need" ] && exit 0
# shellcheck disable=SC2086
need_line=$(echo $need)

if [ "$(id -u)" -ne 0 ]; then
  echo "make test needs these system packages: $need_line" >&2
  echo "Install them once with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $need_line" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "make test needs these Debian packages, and this machine has no apt-get: $need_line" >&2
  echo "(R with survival, MatchIt and haven, Chromium, poppler-utils, and fonts covering Arabic and Cyrillic)." >&2
  exit 1
fi

echo "Installing the system packages the tests need: $need_line"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $need_line >/dev/null; }; then
  echo "apt-get could not install: $need_line" >&2
  exit 1
fi
still=$(missing)
if [ -n "$still" ]; then
  echo "still missing after apt-get: $(echo $still)" >&2
  exit 1
fi
