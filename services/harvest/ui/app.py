"""HARVEST's Streamlit entry page: platform health, and sign-in with a token or a password.

The labeling, training and monitoring pages arrive with the UI issue; this page already talks to the
services only through `harvest.client`.
"""

from __future__ import annotations

import grpc
import streamlit as st

from harvest.client import HarvestClient
from harvest.common.settings import UISettings
from harvest.v1 import common_pb2, labels_pb2

settings = UISettings()
st.set_page_config(page_title=settings.title, layout="wide")
st.title(settings.title)
st.caption("Label a few images per class, train a semi-supervised classifier on your cluster, repeat.")

with HarvestClient() as anonymous:
    health = anonymous.health()
st.subheader("Services")
st.table({"service": list(health), "status": list(health.values())})


def _whoami(token: str) -> labels_pb2.WhoAmIResponse | None:
    with HarvestClient(token=token) as client:
        try:
            return client.labels.WhoAmI(labels_pb2.WhoAmIRequest(), timeout=5)
        except grpc.RpcError as exc:
            st.error(f"Sign-in failed: {exc.details()}")
            return None


st.subheader("Sign in")
with_token, with_password = st.tabs(["Token", "Username and password"])
with with_token:
    token = st.text_input("Access token", type="password", key="token_input",
                          help="Ask your administrator, or read $HARVEST_HOME/admin-token on this host.")
    if st.button("Sign in with token", key="token_sign_in") and token:
        st.session_state["harvest_token"] = token.strip()
with with_password:
    username = st.text_input("Username", key="username")
    password = st.text_input("Password", type="password", key="password")
    if st.button("Sign in", key="password_sign_in") and username and password:
        with HarvestClient() as anonymous:
            try:
                reply = anonymous.labels.Login(labels_pb2.LoginRequest(username=username, password=password))
                st.session_state["harvest_token"] = reply.token
            except grpc.RpcError as exc:
                st.error(f"Sign-in failed: {exc.details()}")

if st.session_state.get("harvest_token"):
    me = _whoami(st.session_state["harvest_token"])
    if me is None:
        st.session_state.pop("harvest_token")
    else:
        role = common_pb2.Role.Name(me.user.role).removeprefix("ROLE_").lower()
        st.success(f"Signed in as {me.user.display_name or me.user.username} ({role}).")
