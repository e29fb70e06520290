"""Desistance analysis library: data access, import and survival statistics.

This package never imports streamlit; the dashboard, the CLI and the notebooks
all call it.
"""

__version__ = "0.1.0"
