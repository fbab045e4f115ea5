"""The Streamlit front end: a gRPC client of the services, nothing more."""
