"""Streamlit parts of the Compare page: curves, seed groups, store look-ups, reproduced tables, what-ifs,
the statistics of a change against the baseline (`stats`)."""
