"""HARVEST's Streamlit entry: sign-in until a token is accepted, then the project pages.

The app is a gRPC client and nothing more: every page talks to the services through
`harvest.client` (via `harvest.ui.session`), never to a service's core.
"""

from __future__ import annotations

import streamlit as st

from harvest.common.settings import UISettings
from harvest.ui import session
from harvest.ui.components import sidebar
from harvest.ui.pages import admin, data, jobs, labeling, projects, results, review, signin, training
from harvest.v1 import common_pb2

st.set_page_config(page_title=UISettings().title, layout="wide")

client = session.client()
if client is None:
    navigation = st.navigation([st.Page(signin.render, title="Sign in", url_path="signin", default=True)])
else:
    sidebar.render(client)
    pages = [
        st.Page(projects.render, title="Projects", url_path="projects", default=True),
        st.Page(data.render, title="Data", url_path="data"),
        st.Page(labeling.render, title="Labeling", url_path="labeling"),
    ]
    if session.is_at_least(common_pb2.ROLE_EXPERT):
        pages.append(st.Page(review.render, title="Review", url_path="review"))
    pages += [
        st.Page(training.render, title="Training", url_path="training"),
        st.Page(jobs.render, title="Jobs", url_path="jobs"),
        st.Page(results.render, title="Results", url_path="results"),
    ]
    if session.is_at_least(common_pb2.ROLE_ADMIN):
        pages.append(st.Page(admin.render, title="Admin", url_path="admin"))
    navigation = st.navigation(pages)
    if flash := st.session_state.pop("flash", None):
        st.success(flash)
navigation.run()
