"""Streamlit parts of the Compare page: `panels` (seed groups, the Curves tab, store look-ups), reproduced tables,
what-ifs, and `stats` (a change against the baseline with its interval, test images, small-test warning)."""
