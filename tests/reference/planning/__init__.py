"""Reference values for the planning estimators (analysis/planning), computed with R."""
