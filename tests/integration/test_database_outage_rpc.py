"""A database that drops its connections makes a call fail with UNAVAILABLE (which clients retry), not
INTERNAL, and the service recovers on the next call without a restart."""

from __future__ import annotations

import grpc
import psycopg
import pytest

from harvest.common.auth import Role
from harvest.common.errors import DATABASE_UNAVAILABLE
from harvest.v1 import labels_pb2
from tests.integration.labels_server import running_labels

pytestmark = pytest.mark.integration


def _terminate_all(url: str) -> int:
    admin = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        rows = connection.execute(  # waits (up to 5 s) until each backend has exited
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'").fetchall()
    return len(rows)


def test_dropped_database_connections_give_unavailable_then_the_service_recovers(postgres_url: str) -> None:
    # Idle connections are never pinged here, so the dropped connection is certainly the one used next.
    with running_labels(postgres_url, idle_ping_s=3600) as labels:
        client = labels.client(labels.user("eve", Role.EXPERT)).labels
        client.CreateProject(labels_pb2.CreateProjectRequest(name="rocks", classes=[labels_pb2.NewClass(name="x")]))
        assert _terminate_all(postgres_url) >= 1

        with pytest.raises(grpc.RpcError) as failed:
            client.ListProjects(labels_pb2.ListProjectsRequest())
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
        assert failed.value.details() == DATABASE_UNAVAILABLE

        listed = client.ListProjects(labels_pb2.ListProjectsRequest())  # the pool replaced its connections
        assert [p.name for p in listed.projects] == ["rocks"]
