"""HARVEST's Streamlit entry page: sign in with a token and see whether the platform is healthy.

The labeling, training and monitoring pages arrive with the UI issue; this page already talks to the
services only through `harvest.client`.
"""

from __future__ import annotations

import streamlit as st

from harvest.client import HarvestClient
from harvest.common.settings import UISettings

settings = UISettings()
st.set_page_config(page_title=settings.title, layout="wide")
st.title(settings.title)
st.caption("Label a few images per class, train a semi-supervised classifier on your cluster, repeat.")

with HarvestClient() as client:
    health = client.health()
st.subheader("Services")
st.table({"service": list(health), "status": list(health.values())})

token = st.text_input("Access token", type="password", key="token",
                      help="Ask your administrator, or read $HARVEST_HOME/admin-token on this host.")
if token:
    st.session_state["harvest_token"] = token
    st.success("Token saved for this browser session.")
