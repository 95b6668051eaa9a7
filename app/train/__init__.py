"""Streamlit parts of the Train page: the advanced method editor."""
