"""The R and Stata lines, written into the data dictionary, that refit an export.

* Episodes: R ``survfit(Surv(time, event) ~ group, conf.type = "log-log")`` gives
  ``desist km``'s curves (survival, Greenwood SE on the survival scale, log-log CIs,
  numbers at risk); Stata ``sts list``.
* Counting-process rows: R ``coxph(Surv(start, stop, event) ~ ..., ties = "efron",
  cluster = person_id)`` gives ``desist cox``'s coefficients, ``se_robust`` (R's
  ``fit$var``) and ``se_model`` (``fit$naive.var``); each categorical covariate gets the
  reference level the engine chose (``relevel``). Stata ``stset stop, time0(start)`` and
  ``stcox ..., efron vce(cluster person_id)``; ``encode`` numbers text levels in
  sorted order, so the reference is ``ib(#)`` with its position.

The R lines are run by the tests (tests/reference/export_refit.R); the Stata lines are
not (no Stata here), which docs/export.md says.
"""

from __future__ import annotations

import pandas as pd

from analysis.constants import DEFAULT_HORIZONS
from analysis.export.formats import Format
from analysis.export.rows import GROUP_COLUMN, ExportRows


def r_string(text: str) -> str:
    """An R (and Stata) double-quoted string literal.

    Examples
    --------
    >>> r_string('a "b" \\\\ c')
    '"a \\\\"b\\\\" \\\\\\\\ c"'
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _level_literal(column: pd.Series, level: str) -> str:
    """The reference level as R's ``relevel`` needs it (``as.character`` of a number)."""
    if pd.api.types.is_numeric_dtype(column):
        number = float(level)
        return f"as.character({int(number) if number.is_integer() else number!r})"
    return r_string(level)


def _r_read(file_name: str, fmt: Format, text_columns: list[str]) -> str:
    if fmt == "csv":
        classes = ", ".join(f"{c} = \"character\"" for c in text_columns)
        return (f"d <- read.csv({r_string(file_name)}, na.strings = \"\", "
                f"colClasses = c({classes}))")
    if fmt == "dta":
        return f"d <- as.data.frame(haven::read_dta({r_string(file_name)}))"
    return f"d <- as.data.frame(arrow::read_parquet({r_string(file_name)}))"


def r_lines(rows: ExportRows, file_name: str, fmt: Format, portable: dict[str, str],
            text_columns: list[str]) -> list[str]:
    """The R code that refits the export (run in the folder that holds the file).

    ``portable`` maps column names to their names in the file; ``text_columns`` are
    the file's text columns (read as text, whatever they look like).
    """
    lines = ["library(survival)", _r_read(file_name, fmt, text_columns)]
    if rows.kind == "episodes":
        group = GROUP_COLUMN if GROUP_COLUMN in rows.frame.columns else "1"
        lines += [
            f"horizons <- c({', '.join(map(str, _horizons()))})",
            f"km <- survfit(Surv(time, event) ~ {group}, data = d, conf.type = \"log-log\")",
            "summary(km, times = horizons, extend = TRUE)  # desist km: survival, se, "
            "lower, upper, n_risk",
            "# desist cif (Aalen-Johansen, competing ends): survfit(Surv(time, "
            "factor(cause, 0:2, c(\"censored\", \"reoffence\", \"competing\"))) ~ "
            f"{group}, data = d)",
        ]
        return lines
    for column, level in rows.categorical.items():
        name = portable[column]
        literal = _level_literal(rows.frame[column], level)
        lines.append(f"d${name} <- relevel(factor(d${name}), ref = {literal})")
    terms = [portable[c] for c in (*rows.covariates, *rows.programs)]
    if rows.strata:
        terms.append(f"strata({portable[rows.strata]})")
    lines += [
        f"fit <- coxph(Surv(start, stop, event) ~ {' + '.join(terms)}, data = d, "
        "ties = \"efron\", cluster = person_id)  # desist cox --ties breslow: "
        "ties = \"breslow\"",
        "summary(fit)  # robust SE = desist cox se_robust; "
        "sqrt(diag(fit$naive.var)) = se_model",
    ]
    return lines


def _horizons() -> tuple[int, ...]:
    return DEFAULT_HORIZONS  # desist km's default --horizons


def _stata_read(file_name: str, fmt: Format, columns: list[str],
                text_columns: list[str]) -> list[str]:
    if fmt == "dta":
        return [f"use {r_string(file_name)}, clear"]
    if fmt == "csv":
        positions = " ".join(str(columns.index(c) + 1) for c in text_columns)
        return [f"import delimited using {r_string(file_name)}, varnames(1) "
                f"case(preserve) encoding(\"utf-8\") stringcols({positions}) clear"]
    return ["* Stata does not read Parquet: export again with --format dta"]


def _encoded(name: str) -> str:
    return f"{name[:29]}_c"


def stata_lines(rows: ExportRows, file_name: str, fmt: Format, portable: dict[str, str],
                text_columns: list[str]) -> list[str]:
    """The Stata code that refits the export (not run by the tests: no Stata here)."""
    columns = [portable[c] for c in rows.frame.columns]
    lines = _stata_read(file_name, fmt, columns, text_columns)
    if rows.kind == "episodes":
        by = ""
        if GROUP_COLUMN in rows.frame.columns:
            lines.append(f"encode {GROUP_COLUMN}, generate({_encoded(GROUP_COLUMN)})")
            by = f" by({_encoded(GROUP_COLUMN)})"
        lines += ["stset time, failure(event)",
                  f"sts list, at({' '.join(map(str, _horizons()))}){by}"]
        return lines
    terms = []
    for column in rows.covariates:
        name = portable[column]
        if column not in rows.categorical:
            terms.append(name)
            continue
        level = rows.categorical[column]
        if name in text_columns:
            lines.append(f"encode {name}, generate({_encoded(name)})")
            levels = sorted(rows.frame[column].dropna().astype(str).unique())
            terms.append(f"ib({levels.index(level) + 1}).{_encoded(name)}")
        else:
            number = float(level)
            terms.append(f"ib({int(number) if number.is_integer() else level}).{name}")
    terms += [portable[p] for p in rows.programs]
    strata = ""
    if rows.strata:
        name = portable[rows.strata]
        if name in text_columns:
            lines.append(f"encode {name}, generate({_encoded(name)})")
            name = _encoded(name)
        strata = f" strata({name})"
    lines += ["stset stop, time0(start) failure(event)",
              f"stcox {' '.join(terms)}, efron vce(cluster person_id){strata}"]
    return lines
