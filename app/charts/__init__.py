"""Figure builders: pure functions from numbers and RunResults to plotly Figures. No streamlit here."""
