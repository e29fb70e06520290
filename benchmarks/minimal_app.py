"""The smallest honest Streamlit page: a sidebar filter, one plotly chart and one table.

The yardstick of ``benchmarks/bench_browser.py``: whatever a dashboard page costs beyond
this page is the project's own work (queries, models, figures, tables), not Streamlit's
start-up, the browser or plotly. It is served with the dashboard's own settings
(:func:`analysis.cli.dashboard_commands.streamlit_arguments`) and reads no database: its
data are made up, a few dozen numbers like a dashboard chart's.

Its filter is a sidebar multiselect labelled "Sex", like the dashboard's, so the benchmark
changes it the same way; like the dashboard, it writes the choice to the URL.

    .venv/bin/python -m streamlit run benchmarks/minimal_app.py
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(layout="wide", page_title="Minimal")
sexes = st.sidebar.multiselect("Sex", ["F", "M"], placeholder="All")
st.query_params["sex"] = ",".join(sexes)

# 37 monthly points per group: a few dozen numbers, drawn as lines.
rows = [{"group": sex, "month": month,
         "rate": (0.30 if sex == "M" else 0.22) * (1 - 0.97 ** month)}
        for sex in (sexes or ["F", "M"]) for month in range(37)]
frame = pd.DataFrame(rows)

st.title("Minimal page")
figure = go.Figure([go.Scatter(x=part["month"], y=part["rate"], name=group, mode="lines")
                    for group, part in frame.groupby("group")])
figure.update_layout(height=420, xaxis_title="Months since release",
                     yaxis_title="Share reoffended")
st.plotly_chart(figure, theme=None, config={"displaylogo": False})
st.dataframe(frame[frame["month"] % 12 == 0], hide_index=True)
