"""Pre-flight's answers come out of the customer's own isolate: they are untrusted data.

The probe that names the default export's handlers runs in the customer's isolate, after
the customer's global scope, so the customer's code can replace the built-ins it uses
(``Array.prototype.push``) and make the probe return anything structured clone carries.
A non-string "handler" used to crash pre-flight (``", ".join``) and with it the apply of
every customer. And a message the customer's code throws is printed in the pre-flight
report and in apply's summary: with a newline in it, a customer could start a line of its
own in the CI log (``::error file=customers/victim/...``, ``::add-mask::``,
``::stop-commands::``), or print terminal escapes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from tests.preflight.conftest import HELLO, load, requires_node, write_repo

from wfp_reconcile.desired import WorkerKind, build_desired
from wfp_reconcile.preflight import PreflightReport, PreflightSession, run_preflight
from wfp_reconcile.preflight.apply_gate import skip_reasons
from wfp_reconcile.preflight.render import render_text

pytestmark = [requires_node, pytest.mark.workerd]


@pytest.fixture(scope="module")
def session() -> PreflightSession:
    with PreflightSession() as fresh:
        yield fresh  # type: ignore[misc]


def _preflight(root: Path, session: PreflightSession) -> PreflightReport:
    repo = load(root)
    scripts = [w for w in build_desired(repo).all() if w.kind is WorkerKind.SCRIPT]
    return run_preflight(repo, scripts, session=session)


def test_a_probe_made_to_return_non_strings_is_a_finding_not_a_crash(
    tmp_path: Path, session: PreflightSession
) -> None:
    tamper = (
        "const push = Array.prototype.push;\n"
        "Array.prototype.push = function () { return push.call(this, 42, { x: 1 }); };\n"
        "export default { fetch() { return new Response('x'); } };\n"
    )
    root = write_repo(
        tmp_path,
        {"tamper": {"main_module": "tamper.mjs"}, "good": {"main_module": "good.mjs"}},
        {"tamper.mjs": tamper, "good.mjs": HELLO},
    )
    report = _preflight(root, session)  # used to raise TypeError
    assert {f.name for f in report.findings} == {"tamper"}
    assert {c.name: c.ok for c in report.checked} == {"tamper": False, "good": True}


def test_a_thrown_message_cannot_start_a_line_of_its_own(
    tmp_path: Path, session: PreflightSession
) -> None:
    # The probe reads the default export's handlers after start-up: a Proxy's trap throws
    # a message of the customer's choosing from there (the "load" stage).
    forged = "::error file=customers/victim/app.mjs,line=1::forged\\n::stop-commands::x"
    evil = (
        "export default new Proxy({}, { get() {\n"
        f"  throw new Error('boom\\n{forged}\\x1b[2K\\u2028::add-mask::y');\n"
        "} });\n"
    )
    start = f"throw new Error('start\\n{forged}');\n"
    root = write_repo(
        tmp_path,
        {"evil": {"main_module": "evil.mjs"}, "start": {"main_module": "start.mjs"}},
        {"evil.mjs": evil, "start.mjs": start},
    )
    report = _preflight(root, session)
    assert {f.name for f in report.findings} == {"evil", "start"}
    for text in (render_text(report), *skip_reasons(report).values()):
        for line in text.splitlines():
            assert not line.lstrip().startswith("::"), text
        assert "\x1b" not in text, text


def test_a_start_up_that_never_ends_is_skipped_and_the_others_still_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Open-source workerd has no CPU limit: the loop holds its only thread. The batch
    # times out, workerd restarts and each Worker is loaded alone (shorter waits here).
    import wfp_reconcile.preflight.runner as runner

    monkeypatch.setattr(runner, "_BATCH_SECONDS", 4.0)
    monkeypatch.setattr(runner, "_SINGLE_SECONDS", 3.0)
    root = write_repo(
        tmp_path,
        {"spin": {"main_module": "spin.mjs"}, "good": {"main_module": "good.mjs"}},
        {"spin.mjs": "for (;;) {}\n" + HELLO, "good.mjs": HELLO},
    )
    with PreflightSession() as fresh:
        report = _preflight(root, fresh)
    assert {f.name: f.reason.value for f in report.findings} == {"spin": "startup_cpu"}
    assert {c.name: c.ok for c in report.checked} == {"spin": False, "good": True}
    assert report.seconds < 30


def _workerd_dirs() -> list[Path]:
    """The working directories of the workerd processes this test process started."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid():
                found.append((stat.parent / "cwd").readlink())
        except (OSError, IndexError, ValueError):
            continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_console_output_cannot_fill_the_apply_jobs_disk(tmp_path: Path) -> None:
    # workerd prints a loaded Worker's console.log: at a few hundred MB a second, a
    # global scope that logs in a loop filled the apply job's disk (workerd.log) for as
    # long as pre-flight waits for it.
    loud = (
        "const line = 'x'.repeat(10000);\n"
        "for (let i = 0; i < 10000; i++) console.log(line);\n" + HELLO
    )
    root = write_repo(tmp_path, {"loud": {"main_module": "loud.mjs"}}, {"loud.mjs": loud})
    with PreflightSession() as fresh:
        _preflight(root, fresh)
        dirs = _workerd_dirs()
        assert dirs, "no workerd of this test process found"
        stored = sum(f.stat().st_size for d in dirs for f in d.rglob("*") if f.is_file())
    assert stored < 1_000_000, f"{stored} bytes of workerd output kept on disk"


def test_a_module_named_like_the_probe_is_still_checked(
    tmp_path: Path, session: PreflightSession
) -> None:
    # The probe module is added to the bundle under a fixed name: a customer module of
    # that name was replaced by it, so pre-flight checked other code than apply uploads
    # (here: a module that throws on Cloudflare passed).
    name = "__wfp_preflight_probe.mjs"
    root = write_repo(
        tmp_path,
        {"masked": {"main_module": "main.mjs", "modules": [name]}},
        {
            "main.mjs": f'import "./{name}";\n' + HELLO,
            name: "throw new Error('broken on Cloudflare');\n",
        },
    )
    report = _preflight(root, session)
    assert [f.name for f in report.findings] == ["masked"], report
    assert "broken on Cloudflare" in report.findings[0].message


def test_one_customers_hanging_workers_cost_a_bounded_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every Worker whose start-up never ends costs a full wait (10 s alone, after the
    # batch's 60 s): a customer with hundreds of them held every customer's apply for
    # an hour. After a few, the customer's remaining Workers are not loaded (skipped).
    import yaml

    import wfp_reconcile.preflight.runner as runner

    monkeypatch.setattr(runner, "_BATCH_SECONDS", 3.0)
    monkeypatch.setattr(runner, "_SINGLE_SECONDS", 1.5)
    spin = "for (;;) {}\n" + HELLO
    scripts = {f"spin{i}": {"main_module": f"spin{i}.mjs"} for i in range(8)}
    root = write_repo(tmp_path, scripts, {f"spin{i}.mjs": spin for i in range(8)})
    beta = root / "customers" / "beta"
    beta.mkdir()
    (beta / "good.mjs").write_text(HELLO)
    good = {"good": {"main_module": "good.mjs"}}
    doc = {"id": "beta", "name": "Beta", "plan": "basic", "scripts": good}
    (beta / "customer.yaml").write_text(yaml.safe_dump(doc))

    alone: list[str] = []
    real = runner.PreflightSession._load_alone

    def counted(self: runner.PreflightSession, body: dict[str, object]) -> dict[str, object]:
        alone.append(str(body["id"]))
        return real(self, body)  # type: ignore[arg-type]

    monkeypatch.setattr(runner.PreflightSession, "_load_alone", counted)
    with PreflightSession() as fresh:
        report = _preflight(root, fresh)
    assert {c.name: c.ok for c in report.checked} == {**{s: False for s in scripts}, "good": True}
    waited = [i for i in alone if i.startswith("script:spin")]
    assert len(waited) <= 3, waited
