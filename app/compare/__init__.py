"""Streamlit parts of the Compare page: curves, seed groups, store look-ups, reproduced tables, what-ifs."""
