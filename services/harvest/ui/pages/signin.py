"""Sign-in: platform health (no token needed) and a token or a username/password exchanged for one."""

from __future__ import annotations

import grpc
import streamlit as st

from harvest.client import HarvestClient
from harvest.common.settings import UISettings
from harvest.ui import session


def render() -> None:
    st.title(UISettings().title)
    st.caption("Label a few images per class, train a semi-supervised classifier on your cluster, repeat.")
    with HarvestClient() as anonymous:
        health = anonymous.health()
    st.subheader("Services")
    st.table({"service": list(health), "status": list(health.values())})

    st.subheader("Sign in")
    with_token, with_password = st.tabs(["Token", "Username and password"])
    with with_token:
        token = st.text_input("Access token", type="password", key="token_input",
                              help="Ask your administrator, or read $HARVEST_HOME/admin-token on this host.")
        if st.button("Sign in with token", key="token_sign_in") and token:
            _attempt(lambda: session.sign_in(token.strip()))
    with with_password:
        username = st.text_input("Username", key="username")
        password = st.text_input("Password", type="password", key="password")
        if st.button("Sign in", key="password_sign_in") and username and password:
            _attempt(lambda: session.login(username.strip(), password))


def _attempt(action: object) -> None:
    try:
        action()  # type: ignore[operator]
    except grpc.RpcError as exc:
        st.error(f"Sign-in failed: {exc.details()}")
        return
    st.rerun()
