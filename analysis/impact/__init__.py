"""Programme impact evaluation: who is compared, how they are adjusted, how results are worded.

Building blocks (propensity scores, matching, balance, planning aid) live in
their own modules; they work on plain DataFrames and know nothing of the database.
"""
