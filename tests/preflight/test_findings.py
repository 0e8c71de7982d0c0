"""Broken bundles, loaded in real workerd, are reported at the right file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from wfp_reconcile.desired import WorkerKind, build_desired
from wfp_reconcile.errors import RuntimeSetupError
from wfp_reconcile.local.runtime.preflight_process import memory_limit_bytes
from wfp_reconcile.preflight import PreflightReport, PreflightSession, Reason, run_preflight
from wfp_reconcile.preflight.render import render_github, render_text

from .conftest import HELLO, load, requires_node, write_repo

pytestmark = [requires_node, pytest.mark.workerd]


def preflight(root: Path, session: PreflightSession, **kwargs: object) -> PreflightReport:
    repo = load(root)
    desired = build_desired(repo)
    scripts = [w for w in desired.all() if w.kind is WorkerKind.SCRIPT]
    return run_preflight(repo, scripts, session=session, **kwargs)  # type: ignore[arg-type]


def only(report: PreflightReport) -> tuple[str, int, int, Reason, str]:
    assert len(report.findings) == 1, report.findings
    f = report.findings[0]
    return f.path, f.line, f.column, f.reason, f.message


def test_a_clean_repository_passes(tmp_path: Path, preflight_session: PreflightSession) -> None:
    root = write_repo(
        tmp_path,
        {"hello": {"main_module": "hello.mjs", "modules": ["lib/greet.mjs"]}},
        {
            "hello.mjs": (
                'import { platformThing } from "./platform_module.mjs";\n'
                'import { greet } from "./lib/greet.mjs";\n'
                "export default { fetch() { return new Response(greet() + platformThing); } };\n"
            ),
            "lib/greet.mjs": "export function greet() { return 'hi'; }\n",
        },
    )
    report = preflight(root, preflight_session)
    assert report.ok, report.findings
    assert [(c.name, c.ok) for c in report.checked] == [("hello", True)]
    assert "1 Worker load in workerd" in render_text(report)


def test_a_module_that_is_not_javascript(
    tmp_path: Path, preflight_session: PreflightSession
) -> None:
    root = write_repo(
        tmp_path,
        {"good": {"main_module": "good.mjs"}, "broken": {"main_module": "broken.mjs"}},
        {"good.mjs": HELLO, "broken.mjs": "// replaced by a new user\n\n  oops\n"},
    )
    report = preflight(root, preflight_session)
    path, line, column, reason, message = only(report)
    assert (path, line, column) == ("customers/acme/broken.mjs", 3, 3)
    assert reason is Reason.STARTUP
    assert "ReferenceError: oops is not defined" in message
    assert report.failed() == {("script", "broken")}
    assert {c.name: c.ok for c in report.checked} == {"good": True, "broken": False}


def test_a_syntax_error_in_an_extra_module(
    tmp_path: Path, preflight_session: PreflightSession
) -> None:
    root = write_repo(
        tmp_path,
        {"app": {"main_module": "app.mjs", "modules": ["lib/util.mjs"]}},
        {
            "app.mjs": 'import { x } from "./lib/util.mjs";\n' + HELLO,
            "lib/util.mjs": "export const x = 1;\nexport const y = = 2;\n",
        },
    )
    path, line, column, reason, message = only(preflight(root, preflight_session))
    assert (path, line, column, reason) == ("customers/acme/lib/util.mjs", 2, 18, Reason.SYNTAX)
    assert "SyntaxError" in message


def test_an_import_of_a_module_that_is_not_in_the_bundle(
    tmp_path: Path, preflight_session: PreflightSession
) -> None:
    root = write_repo(
        tmp_path,
        {"app": {"main_module": "app.mjs"}},
        # A typo in the platform module's name.
        {"app.mjs": '// hi\nimport { platformThing } from "./platform_modul.mjs";\n' + HELLO},
    )
    path, line, column, reason, message = only(preflight(root, preflight_session))
    assert (path, line, column, reason) == ("customers/acme/app.mjs", 2, 31, Reason.IMPORT)
    assert 'No such module "platform_modul.mjs"' in message
    assert "modules: in customers/acme/customer.yaml" in message


def test_a_top_level_throw(tmp_path: Path, preflight_session: PreflightSession) -> None:
    root = write_repo(
        tmp_path,
        {"app": {"main_module": "app.mjs"}},
        {
            "app.mjs": "const config = {};\nif (!config.key) {\n  throw new Error('no key');\n}\n"
            + HELLO
        },
    )
    path, line, column, reason, message = only(preflight(root, preflight_session))
    assert (path, line, column, reason) == ("customers/acme/app.mjs", 3, 9, Reason.STARTUP)
    assert "Uncaught Error: no key" in message


def test_a_node_import_without_nodejs_compat(
    tmp_path: Path, preflight_session: PreflightSession
) -> None:
    source = 'import { Buffer } from "node:buffer";\n' + HELLO
    root = write_repo(
        tmp_path,
        {
            "without": {"main_module": "without.mjs"},
            "with": {"main_module": "with.mjs", "compatibility_flags": ["nodejs_compat"]},
        },
        {"without.mjs": source, "with.mjs": source},
    )
    path, line, column, reason, message = only(preflight(root, preflight_session))
    assert (path, line, column, reason) == ("customers/acme/without.mjs", 1, 24, Reason.COMPAT)
    assert "nodejs_compat" in message


def test_a_main_module_without_a_fetch_handler(
    tmp_path: Path, preflight_session: PreflightSession
) -> None:
    root = write_repo(
        tmp_path,
        {"none": {"main_module": "none.mjs"}, "tail": {"main_module": "tail.mjs"}},
        {"none.mjs": "export const x = () => 1;\n", "tail.mjs": "export default { tail() {} };\n"},
    )
    report = preflight(root, preflight_session)
    assert {f.name: f.reason for f in report.findings} == {
        "none": Reason.ENTRY,
        "tail": Reason.ENTRY,
    }
    assert any("no fetch() handler" in f.message for f in report.findings)


def test_start_up_over_the_limit(tmp_path: Path, preflight_session: PreflightSession) -> None:
    root = write_repo(
        tmp_path,
        {"slow": {"main_module": "slow.mjs"}, "fast": {"main_module": "fast.mjs"}},
        {
            "slow.mjs": "let n = 0;\nfor (let i = 0; i < 1e8; i++) n += Math.sqrt(i);\n" + HELLO,
            "fast.mjs": HELLO,
        },
    )
    # 100 ms stands in for Cloudflare's 1 s, to keep the test short; the measurement is
    # the same (a slow-looking start-up is measured again on its own before it counts).
    report = preflight(root, preflight_session, startup_limit_ms=100)
    path, _, _, reason, message = only(report)
    assert (path, reason) == ("customers/acme/slow.mjs", Reason.STARTUP_CPU)
    assert "start-up limit is 100 ms" in message
    fast = next(c for c in report.checked if c.name == "fast")
    assert fast.ok and fast.startup_ms < 100


def test_a_worker_over_the_size_limit(tmp_path: Path, preflight_session: PreflightSession) -> None:
    root = write_repo(
        tmp_path,
        {"big": {"main_module": "big.mjs"}, "small": {"main_module": "small.mjs"}},
        {"big.mjs": HELLO + "// " + "x" * 2000 + "\n", "small.mjs": HELLO},
    )
    # 1,500 bytes stands in for Cloudflare's 64 MiB (the platform module and small.mjs
    # together stay below it); the big bundle is refused without being loaded.
    report = preflight(root, preflight_session, size_limit=1500)
    path, line, _, reason, message = only(report)
    assert (path, line, reason) == ("customers/acme/customer.yaml", 0, Reason.SIZE)
    assert "over 1500 bytes (10027)" in message
    assert {c.name: c.ok for c in report.checked} == {"big": False, "small": True}


def test_github_annotations_point_at_the_line(
    tmp_path: Path, preflight_session: PreflightSession
) -> None:
    root = write_repo(
        tmp_path, {"broken": {"main_module": "broken.mjs"}}, {"broken.mjs": "\noops, 100%\n"}
    )
    report = preflight(root, preflight_session)
    lines = render_github(report, root).splitlines()
    assert lines[0].startswith("::error file=")
    assert "customers/acme/broken.mjs,line=3," in lines[0]
    assert ",title=pre-flight%3A script broken of customer acme::Uncaught SyntaxError" in lines[0]
    assert "\n" not in lines[0]
    assert lines[-1].startswith("Pre-flight: 1 of 1 Worker would be rejected")


def test_a_session_starts_a_fresh_workerd_once_enough_workers_were_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """workerd keeps every Worker it loaded: a long run is spread over several, each
    finding still reported where it is."""
    from wfp_reconcile.preflight import runner

    monkeypatch.setattr(runner, "_BATCH", 2)
    monkeypatch.setattr(runner, "RECYCLE_AFTER", 3)
    names = [f"s{i}" for i in range(5)]
    files = {f"{n}.mjs": HELLO for n in names}
    files["s4.mjs"] = "const x = ;\n" + HELLO  # in the last batch, after a restart
    root = write_repo(tmp_path, {n: {"main_module": f"{n}.mjs"} for n in names}, files)
    session = PreflightSession()  # workerd starts on the first load
    started: list[None] = []
    start = session._start

    def counted() -> None:
        started.append(start())

    monkeypatch.setattr(session, "_start", counted)
    try:
        path, line, _, reason, _ = only(preflight(root, session))
    finally:
        session.close()
    # Batches of 2, 2 and 1: the second would make 4 > 3 in one workerd.
    assert len(started) == 2
    assert (path, line, reason) == ("customers/acme/s4.mjs", 1, Reason.SYNTAX)


def test_a_global_scope_that_allocates_without_bound_is_stopped_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 100 GB of array buffers, never touched: without a cap the kernel grants them (they
    # take no memory until written), so the Worker would pass. Its own session: the cap is
    # set as workerd starts.
    monkeypatch.setenv("WFP_PREFLIGHT_MEMORY_MB", "1024")
    root = write_repo(
        tmp_path,
        {
            "hog": {"main_module": "hog.mjs"},
            "fine": {"main_module": "fine.mjs"},
            "wasm": {"main_module": "wasm.mjs"},
        },
        {
            "hog.mjs": "const kept = [];\nfor (let i = 0; i < 1000; i++) {\n"
            "  kept.push(new ArrayBuffer(100 * 1024 * 1024));\n}\n" + HELLO,
            "fine.mjs": "const table = new Uint8Array(16 * 1024 * 1024).fill(1);\n" + HELLO,
            "wasm.mjs": "const kept = [];\nfor (let i = 0; i < 1000; i++) {\n"
            "  kept.push(new WebAssembly.Memory({ initial: 1600, maximum: 1600 }));\n}\n" + HELLO,
        },
    )
    with PreflightSession() as session:
        report = preflight(root, session)
    found = {f.name: f for f in report.findings}
    assert set(found) == {"hog", "wasm"}, report.findings
    for name, words in (("hog", "Array buffer allocation failed"), ("wasm", "could not allocate")):
        f = found[name]
        assert (f.path, f.line, f.reason) == (f"customers/acme/{name}.mjs", 3, Reason.STARTUP)
        assert words in f.message
        assert "128 MB" in f.message and "WFP_PREFLIGHT_MEMORY_MB" in f.message


@pytest.mark.parametrize("raw", ["lots", "512", "-1", "1.5"])
def test_a_memory_cap_that_is_not_megabytes_is_refused(raw: str) -> None:
    with pytest.raises(RuntimeSetupError, match="WFP_PREFLIGHT_MEMORY_MB"):
        memory_limit_bytes({"WFP_PREFLIGHT_MEMORY_MB": raw})
    assert memory_limit_bytes({}) == 4096 * 1024 * 1024
    assert memory_limit_bytes({"WFP_PREFLIGHT_MEMORY_MB": "1024"}) == 1024 * 1024 * 1024


def test_a_memory_cap_the_system_refuses_is_said_not_hidden(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import resource

    from wfp_reconcile.local.runtime import preflight_process

    def refuse(*args: object) -> None:
        raise PermissionError("not permitted")

    monkeypatch.setattr(resource, "prlimit", refuse, raising=False)
    preflight_process._cap_memory(1, 1024 * 1024 * 1024)
    assert "without a memory cap: not permitted" in caplog.text
