"""Streamlit parts of the Sweep page: starting sweeps (local queue or Ray)."""
