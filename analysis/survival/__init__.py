"""Survival engine: episodes, Kaplan–Meier, log-rank, competing risks and Cox models.

Heavy aggregation runs inside DuckDB; statsmodels does the model fitting, wrapped
so that its silent traps (Breslow ties by default, ignored weights, entry-time
boundary, lagged baseline hazard) cannot reach a user.
"""
