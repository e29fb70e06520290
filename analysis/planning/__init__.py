"""Looking forward: what planners ask of the records.

* :mod:`~analysis.planning.forecast` — expected first reoffences and returns to custody
  in the next months, from the people already released and the upcoming releases, with
  90% prediction intervals, and the backtest that says how far to trust them;
* :mod:`~analysis.planning.hazard` — when support matters: the monthly hazard of
  reoffending after release (life table);
* :mod:`~analysis.planning.scenario` — what scaling a programme up would change:
  reoffences and returns avoided, prison-bed-years saved, net cost, Monte Carlo.

The methods are defined, with worked examples, in ``docs/planning.md``.
"""
