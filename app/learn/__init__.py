"""Streamlit parts of the Learn page: a lesson's charts."""
