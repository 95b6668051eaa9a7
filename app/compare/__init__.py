"""Streamlit parts of the Compare page: `panels` (seed groups, the Curves tab, store look-ups), reproduced tables, what-ifs."""
