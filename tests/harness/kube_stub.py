"""A small HTTP stand-in for the Kubernetes API (no cluster can run here): PyTorchJob create/get/delete and
pod list/log, enough for the Kubeflow launcher's code path through the real `kubernetes` client. Every
request is recorded so tests read exactly what the client sent."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JOBS = re.compile(r"^/apis/kubeflow\.org/v1/namespaces/([^/]+)/pytorchjobs(?:/([^/?]+))?")
PODS = re.compile(r"^/api/v1/namespaces/([^/]+)/pods(?:/([^/?]+)/log)?")


@dataclass
class KubeStub:
    jobs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def set_conditions(self, namespace: str, name: str, *types: str) -> None:
        self.jobs[(namespace, name)]["status"] = {"conditions": [{"type": t, "status": "True"} for t in types]}

    def start(self) -> KubeStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def _send(self, code: int, body: Any, text: bool = False) -> None:
                data = body.encode() if text else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain" if text else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _status(self, code: int, reason: str, message: str) -> None:
                self._send(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
                                  "message": message, "code": code})

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                stub.requests.append((method, self.path, body))
                if match := JOBS.match(self.path):
                    namespace, name = match.groups()
                    if method == "POST":
                        key = (namespace, body["metadata"]["name"])
                        if key in stub.jobs:
                            return self._status(409, "AlreadyExists", f"pytorchjobs {key[1]} already exists")
                        stub.jobs[key] = {**body, "status": {"conditions": [{"type": "Created", "status": "True"}]}}
                        return self._send(201, stub.jobs[key])
                    if (namespace, name) not in stub.jobs:
                        return self._status(404, "NotFound", f"pytorchjobs {name} not found")
                    if method == "DELETE":
                        stub.jobs.pop((namespace, name))
                        return self._send(200, {"kind": "Status", "status": "Success"})
                    return self._send(200, stub.jobs[(namespace, name)])
                if match := PODS.match(self.path):
                    namespace, pod = match.groups()
                    if pod:
                        return self._send(200, stub.logs.get(pod, ""), text=True)
                    items = [{"metadata": {"name": f"{name}-master-0", "namespace": ns}}
                             for (ns, name) in stub.jobs if ns == namespace and name in self.path]
                    return self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})
                return self._status(404, "NotFound", self.path)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

            def do_DELETE(self) -> None:  # noqa: N802
                self._handle("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
