"""``wfp-reconcile dev`` as a user runs it: a real process on the example repository."""

from __future__ import annotations

import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import requires_node

pytestmark = [requires_node, pytest.mark.workerd, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_TEXT = "This module is provided by the platform"


class DevProcess:
    def __init__(self, repo: Path, state: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wfp_reconcile", "dev", "--repo", str(repo), "--port", "0"]
            + ["--state", str(state)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Not the project root: the runtime must not depend on the caller's directory.
            cwd=state.parent,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=20)
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no {pattern!r} in dev output:\n{''.join(self.output)}")


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "platform.yaml", repo)
    for name in ("platform", "customers"):
        shutil.copytree(ROOT / name, repo / name)
    return repo


@pytest.fixture
def dev(example_repo: Path, tmp_path: Path) -> Iterator[DevProcess]:
    proc = DevProcess(example_repo, tmp_path / "state")
    try:
        yield proc
    finally:
        proc.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_dev_serves_reapplies_changes_within_5s_and_leaves_no_process_on_sigterm(
    dev: DevProcess, example_repo: Path
) -> None:
    url = dev.wait_for(r"Dispatcher on (http://127\.0\.0\.1:\d+)").group(1)
    dev.wait_for("Watching for changes")
    with httpx.Client(base_url=url, timeout=10) as http:
        first = http.get("/basic-hello/")
        assert first.status_code == 200
        assert PLATFORM_TEXT in first.text
        # The example's static site (customers/studio/public) at its path (docs/assets.md).
        site = http.get("/studio-site/")
        assert site.status_code == 200 and "<h1>Studio</h1>" in site.text
        css = http.get("/studio-site/style.css")
        assert css.headers["content-type"] == "text/css; charset=utf-8"
        assert css.content == (example_repo / "customers/studio/public/style.css").read_bytes()
        missing = http.get("/studio-site/nowhere")
        assert missing.status_code == 404 and "Not found" in missing.text
        assert http.get("/studio-site/api/time").json()["now"]

        script = example_repo / "customers" / "basic" / "basic-hello.mjs"
        script.write_text(
            'export default { fetch() { return new Response("changed while dev runs"); } };\n'
        )
        changed_at = time.monotonic()
        while time.monotonic() - changed_at < 5:
            if http.get("/basic-hello/").text == "changed while dev runs":
                break
            time.sleep(0.1)
        assert http.get("/basic-hello/").text == "changed while dev runs"
        assert time.monotonic() - changed_at < 5

        customer_yaml = example_repo / "customers" / "basic" / "customer.yaml"
        customer_yaml.write_text(customer_yaml.read_text() + "\nunknown_key: 1\n")
        dev.wait_for(r"unknown_key|problem", timeout=10)
        assert http.get("/basic-hello/").text == "changed while dev runs"

    children = _descendants(dev.process.pid)
    assert any("workerd" in Path(f"/proc/{p}/cmdline").read_text() for p in children if _alive(p))
    dev.process.send_signal(signal.SIGTERM)
    assert dev.process.wait(timeout=20) == 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(p) for p in children):
        time.sleep(0.1)
    assert [p for p in children if _alive(p)] == []
