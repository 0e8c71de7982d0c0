"""Fixtures for tests that run real workerd: a stand-in for the emulator's internal
``/__emulator`` endpoints (docs/CONTRACTS.md) and one runtime per module."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from wfp_reconcile.bundle import ScriptUpload

requires_node = pytest.mark.skipif(
    shutil.which("node") is None, reason="Node.js is not installed (CI installs it)"
)


class InternalEndpoints:
    """Serves bundles the way the emulator's internal endpoints do, from memory."""

    def __init__(self) -> None:
        self.version = 0
        self.bundles: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def put(self, path: str, name: str, upload: ScriptUpload) -> None:
        metadata = upload.metadata
        modules = [
            {
                "name": m.name,
                "content_type": m.content_type,
                "content_b64": base64.b64encode(m.content).decode(),
            }
            for m in upload.modules
        ]
        record = {
            "name": name,
            "main_module": metadata["main_module"],
            "compatibility_date": metadata.get("compatibility_date"),
            "compatibility_flags": metadata.get("compatibility_flags", []),
            "bindings": metadata.get("bindings", []),
            "tags": list(metadata.get("tags", [])),
            "limits": None,
            "logpush": bool(metadata.get("logpush", False)),
            "tail_consumers": list(metadata.get("tail_consumers", [])),
            "modules": modules,
        }
        record["etag"] = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
        with self._lock:
            self.bundles[path] = record
            self.version += 1

    def put_namespaced(self, account: str, namespace: str, name: str, upload: ScriptUpload) -> None:
        self.put(f"/__emulator/bundles/{account}/{namespace}/{name}", name, upload)

    def put_worker(self, account: str, name: str, upload: ScriptUpload) -> None:
        self.put(f"/__emulator/workers/{account}/{name}", name, upload)

    def delete(self, path: str) -> None:
        with self._lock:
            self.bundles.pop(path, None)
            self.version += 1

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoints = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with endpoints._lock:
                    if self.path == "/__emulator/state":
                        body: Any = {"version": endpoints.version}
                    else:
                        body = endpoints.bundles.get(self.path)
                data = json.dumps(body).encode()
                self.send_response(404 if body is None else 200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def js_upload(source: str, *, bindings: Sequence[dict[str, Any]] = ()) -> ScriptUpload:
    from wfp_reconcile.bundle import Module

    return ScriptUpload(
        metadata={
            "main_module": "index.mjs",
            "compatibility_date": "2026-01-01",
            "bindings": list(bindings),
        },
        modules=(Module("index.mjs", source.encode(), "application/javascript+module"),),
    )


@pytest.fixture(scope="module")
def endpoints() -> Iterator[InternalEndpoints]:
    server = InternalEndpoints()
    yield server
    server.close()
