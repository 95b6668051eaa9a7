"""Streamlit parts every page shares: the frame (sidebar, URL), the job system as the UI sees it, widgets,
the run monitor and table."""
