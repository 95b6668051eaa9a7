import streamlit as st
st.title("geometry")
