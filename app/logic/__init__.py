"""The dashboard's state and numbers (URL state, lessons, labels, tables, two-stage records, memos):
no streamlit here, unit-testable."""
