"""A corpus of broken repositories: each has one defect and one precise message."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from wfp_reconcile.cli import main

from .conftest import snapshot

Mutation = Callable[[Path], None]


def edit(rel: str, old: str, new: str) -> Mutation:
    def apply(root: Path) -> None:
        path = root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


def write(rel: str, content: str | bytes) -> Mutation:
    def apply(root: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")

    return apply


def remove(rel: str) -> Mutation:
    def apply(root: Path) -> None:
        path = root / rel
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()

    return apply


def both(*mutations: Mutation) -> Mutation:
    def apply(root: Path) -> None:
        for mutation in mutations:
            mutation(root)

    return apply


def symlink(rel: str, target: str) -> Mutation:
    def apply(root: Path) -> None:
        path = root / rel
        if path.exists():
            path.unlink()
        path.symlink_to(target)

    return apply


def make_dir(rel: str) -> Mutation:
    def apply(root: Path) -> None:
        (root / rel).mkdir(parents=True)

    return apply


A = "customers/alpha/customer.yaml"
B = "customers/beta/customer.yaml"
P = "platform.yaml"
TOKEN_HINT = (
    "plaintext tokens never belong in git: create a token with "
    "`wfp-reconcile token create CUSTOMER NAME`, which stores only its SHA-256"
)

DB_ID = "0f4b5e2a-9c1d-4e7f-8a6b-3c2d1e0f9a8b"


def with_d1(lines: str) -> Mutation:
    """Beta's script with these lines under ``d1:`` (line 8 onwards)."""
    return edit(B, "    main_module: hello.mjs", "    main_module: hello.mjs\n    d1:\n" + lines)


TAIL_WORKER = "tail_workers:\n  trace:\n    main_module: platform/trace.mjs\n"
TRACE_FILE = write("platform/trace.mjs", "export default { tail() {} };\n")


def with_tail(*mutations: Mutation) -> Mutation:
    return both(edit(P, "default_limits:", TAIL_WORKER + "default_limits:"), TRACE_FILE, *mutations)


CASES = [
    pytest.param(
        edit(P, "namespace: test-ns", "namespace: [test-ns"),
        "platform.yaml:3:19: YAML syntax error: expected ',' or ']', but got ':' "
        "while parsing a flow sequence",
        id="yaml-syntax-error",
    ),
    pytest.param(
        edit(A, "name: Alpha\n", "name: Alpha\nname: Again\n"),
        "customers/alpha/customer.yaml:3:1: duplicate key 'name' (first defined at line 2); "
        "YAML keeps only the last one, so remove or rename one of them",
        id="duplicate-key",
    ),
    pytest.param(
        write(B, b"id: beta\nname: B\xe9ta\n"),
        "customers/beta/customer.yaml:2:8: is not valid UTF-8; save the file as UTF-8",
        id="not-utf8",
    ),
    pytest.param(
        both(remove(B), make_dir(B)),
        "customers/beta/customer.yaml: is a directory, but must be a YAML file",
        id="yaml-file-is-a-directory",
    ),
    pytest.param(
        both(remove("customers/alpha"), remove("customers/beta")),
        "customers: has no customers; add one with `wfp-reconcile new customer ID` "
        "(an empty repository would delete every managed script)",
        id="empty-customers-dir",
    ),
    pytest.param(
        make_dir("customers/gamma"),
        "customers/gamma: customer directory has no customer.yaml; add one "
        "(`wfp-reconcile new customer gamma`) or remove the directory",
        id="customer-dir-without-yaml",
    ),
    pytest.param(
        edit(B, "id: beta", "id: betta"),
        "customers/beta/customer.yaml:1:5: id 'betta' differs from its directory name 'beta'; "
        "the id must equal the directory (customers/betta/)",
        id="id-differs-from-directory",
    ),
    pytest.param(
        edit(P, "cpu_ms: 50", 'cpu_ms: "50"'),
        'platform.yaml:12:11: default_limits.cpu_ms: must be an integer, not the string "50"',
        id="string-where-integer-expected",
    ),
    pytest.param(
        edit(A, "scripts:", "scrips:"),
        "customers/alpha/customer.yaml:11:1: unknown key 'scrips'; did you mean 'scripts'?",
        id="unknown-key-did-you-mean",
    ),
    pytest.param(
        edit(B, "    main_module: hello.mjs", "    main_module: hello.mjs\n    protec: true"),
        "customers/beta/customer.yaml:7:5: unknown key 'protec' in scripts.beta-hello; "
        "did you mean 'protect'?",
        id="unknown-nested-key",
    ),
    pytest.param(
        edit(P, 'compatibility_date: "2024-09-23"\n', ""),
        "platform.yaml:1:1: compatibility_date is required",
        id="missing-required-field",
    ),
    pytest.param(
        edit(P, '"0123456789abcdef0123456789abcdef"', "${WFP_TEST_UNSET_ACCOUNT}"),
        "platform.yaml:1:13: account_id: environment variable WFP_TEST_UNSET_ACCOUNT not set; "
        "export WFP_TEST_UNSET_ACCOUNT or write ${WFP_TEST_UNSET_ACCOUNT:-default} "
        "to give a default",
        id="unset-environment-variable",
    ),
    pytest.param(
        edit(A, "  alpha-hello:", "  Alpha_Hello:"),
        "customers/alpha/customer.yaml:12:3: scripts: key 'Alpha_Hello' is not a valid Worker "
        "name: use lowercase letters, digits, '-' and '_' (not '-' first), at most 63 characters",
        id="invalid-script-name",
    ),
    pytest.param(
        edit(A, "  alpha-hello:", "  " + "a" * 64 + ":"),
        f"customers/alpha/customer.yaml:12:3: scripts: key '{'a' * 64}' is too long "
        "(at most 63 characters)",
        id="script-name-too-long",
    ),
    pytest.param(
        edit(B, "  beta-hello:", "  alpha-hello:"),
        "customers/beta/customer.yaml:5:3: script name 'alpha-hello' is already used in "
        "customers/alpha/customer.yaml:12; script names are unique across the namespace, "
        "rename one",
        id="script-name-collision-across-customers",
    ),
    pytest.param(
        edit(B, "  beta-hello:", "  wfp-dispatcher:"),
        "customers/beta/customer.yaml:5:3: script name 'wfp-dispatcher' is the dispatcher's "
        "name (platform.yaml dispatcher.name); choose another name",
        id="script-named-like-dispatcher",
    ),
    pytest.param(
        edit(B, "  beta-hello:", "  egress:"),
        "customers/beta/customer.yaml:5:3: script name 'egress' is the name of an outbound "
        "Worker in platform.yaml; choose another name",
        id="script-named-like-outbound-worker",
    ),
    pytest.param(
        edit(B, "  beta-hello:", "  _platform:"),
        "customers/beta/customer.yaml:5:3: script name '_platform' is reserved: the dispatcher "
        "serves /_platform/... itself; choose another name",
        id="script-named-like-platform-api",
    ),
    pytest.param(
        edit(A, "worker: egress", "worker: egres"),
        "customers/alpha/customer.yaml:8:11: outbound Worker 'egres' is not declared in "
        "platform.yaml outbound_workers (declared: egress)",
        id="unknown-outbound-worker",
    ),
    pytest.param(
        edit(A, "allow_hosts: [a.example]", "allow_host: [a.example]"),
        "customers/alpha/customer.yaml:10:5: outbound Worker 'egress' does not declare "
        "parameter 'allow_host' (declared: allow_hosts); add it to its parameters in "
        "platform.yaml",
        id="undeclared-outbound-parameter",
    ),
    pytest.param(
        edit(A, "allow_hosts: [a.example]", "allow_hosts: [a.example]\n    customer_id: beta"),
        "customers/alpha/customer.yaml:11:5: parameter 'customer_id' is reserved: the "
        "dispatcher always sets it itself",
        id="reserved-outbound-parameter",
    ),
    pytest.param(
        edit(
            B,
            "    main_module: hello.mjs",
            "    main_module: hello.mjs\n    protect: true\n    tags: [t1, t2, t3, t4]",
        ),
        "customers/beta/customer.yaml:8:11: script 'beta-hello' has 4 tags but at most 3 are "
        "allowed: Cloudflare keeps 8 per script and the reconciler uses 5",
        id="too-many-tags",
    ),
    pytest.param(
        edit(B, "    main_module: hello.mjs", "    main_module: hello.mjs\n    tags: [plan-gold]"),
        "customers/beta/customer.yaml:7:12: tag 'plan-gold' starts with a reserved prefix "
        "('fp-', 'plan-' or 'as-'); choose another tag",
        id="reserved-tag-prefix",
    ),
    pytest.param(
        edit(B, "    main_module: hello.mjs", "    main_module: hello.mjs\n    tags: [alpha]"),
        "customers/beta/customer.yaml:7:12: tag 'alpha' is a customer id (it would list the "
        "script as theirs); choose another tag",
        id="tag-equal-to-another-customer-id",
    ),
    pytest.param(
        both(
            remove("customers/beta"),
            write("customers/fp-beta/customer.yaml", "id: fp-beta\nname: B\nplan: basic\n"),
        ),
        "customers/fp-beta/customer.yaml:1:5: customer id 'fp-beta' starts with a reserved tag "
        "prefix ('fp-', 'plan-' or 'as-'); customer ids become script tags, so rename the customer "
        "and its directory",
        id="customer-id-with-reserved-prefix",
    ),
    pytest.param(
        edit(A, "main_module: hello.mjs", "main_module: ../beta/hello.mjs"),
        "customers/alpha/customer.yaml:13:18: module path '../beta/hello.mjs' contains '..'; "
        "modules must stay inside their directory",
        id="module-path-with-dotdot",
    ),
    pytest.param(
        edit(A, "main_module: hello.mjs", "main_module: /etc/hostname"),
        "customers/alpha/customer.yaml:13:18: module path '/etc/hostname' is absolute; write "
        "it relative to its directory",
        id="module-path-absolute",
    ),
    pytest.param(
        symlink("customers/alpha/hello.mjs", "../beta/hello.mjs"),
        "customers/alpha/customer.yaml:13:18: module 'customers/alpha/hello.mjs' is a symlink "
        "that leaves customers/alpha/",
        id="module-symlink-leaves-directory",
    ),
    pytest.param(
        edit(A, "main_module: hello.mjs", "main_module: nope.mjs"),
        "customers/alpha/customer.yaml:13:18: module 'customers/alpha/nope.mjs' does not exist",
        id="module-missing",
    ),
    pytest.param(
        write("customers/alpha/hello.mjs", ""),
        "customers/alpha/customer.yaml:13:18: module 'customers/alpha/hello.mjs' is empty",
        id="module-empty",
    ),
    pytest.param(
        both(remove("customers/alpha/hello.mjs"), make_dir("customers/alpha/hello.mjs")),
        "customers/alpha/customer.yaml:13:18: module 'customers/alpha/hello.mjs' is a "
        "directory, not a file",
        id="module-is-a-directory",
    ),
    pytest.param(
        write("customers/alpha/hello.mjs", "//" + "x" * 1000 + "\n"),
        "customers/alpha/customer.yaml:12:3: script 'alpha-hello' bundles 1035 bytes (with "
        "platform modules), more than max_bundle_bytes (1000); make it smaller",
        id="bundle-too-large",
    ),
    pytest.param(
        both(
            write("customers/alpha/platform_module.mjs", "export const x = 1;\n"),
            edit(
                A,
                "main_module: hello.mjs",
                "main_module: hello.mjs\n    modules: [platform_module.mjs]",
            ),
        ),
        "customers/alpha/customer.yaml:14:15: module 'platform_module.mjs' has the name of a "
        "platform module; rename the file",
        id="module-shadows-platform-module",
    ),
    pytest.param(
        edit(B, "plan: advanced\n", "plan: advanced\ntokens:\n  - name: ci\n    sha256: a1b2c3\n"),
        "customers/beta/customer.yaml:6:13: tokens[0].sha256: must be a SHA-256 digest "
        f"(64 lowercase hex characters); {TOKEN_HINT}",
        id="plaintext-token",
    ),
    pytest.param(
        edit(P, "cpu_ms: 50", "cpu_ms: 400000"),
        "platform.yaml:12:11: default_limits.cpu_ms: must be at most 300000, not the integer "
        "400000",
        id="limit-above-cloudflare-bound",
    ),
    pytest.param(
        edit(A, "plan: basic\n", "plan: basic\nlimits:\n  subrequests: 0\n"),
        "customers/alpha/customer.yaml:5:16: limits.subrequests: must be greater than 0, not "
        "the integer 0",
        id="limit-zero",
    ),
    pytest.param(
        edit(P, '"2024-09-23"', '"2024-02-30"'),
        "platform.yaml:3:21: '2024-02-30' is not a real date (YYYY-MM-DD)",
        id="compatibility-date-not-a-date",
    ),
    pytest.param(
        edit(B, "    main_module: hello.mjs", '    main_module: hello.mjs\n    protect: "yes"'),
        "customers/beta/customer.yaml:7:14: scripts.beta-hello.protect: must be a boolean "
        '(true or false), not the string "yes"',
        id="string-where-boolean-expected",
    ),
    pytest.param(
        edit(B, "    main_module: hello.mjs", "    main_module: hello.mjs\n    access: private"),
        "customers/beta/customer.yaml:7:13: scripts.beta-hello.access: must be 'public' or "
        "'token', not the string \"private\"",
        id="unknown-access-mode",
    ),
    pytest.param(
        remove(P),
        "platform.yaml: not found: is this the root of a platform repository? Start one with "
        "`wfp-reconcile new platform DIR`",
        id="platform-yaml-missing",
    ),
    pytest.param(
        write(B, "- id: beta\n"),
        "customers/beta/customer.yaml:1:1: is not a mapping; it must be a mapping of keys to "
        "values",
        id="customer-file-not-a-mapping",
    ),
    pytest.param(
        write("customers/notes.txt", "hello\n"),
        "customers/notes.txt: customers/ may only contain customer directories "
        "(customers/<id>/customer.yaml); move or remove this file",
        id="stray-file-in-customers",
    ),
    pytest.param(
        edit(P, "default_limits:", "dispatcher:\n  routing: host\ndefault_limits:"),
        "platform.yaml:12:12: dispatcher.routing is 'host' but dispatcher.domain is not set; "
        "set the domain that scripts are served under (<script>.<domain>) "
        "or configure custom_hostnames",
        id="host-routing-without-domain",
    ),
    pytest.param(
        edit(P, "default_limits:", "dispatcher:\n  routing_data: store\ndefault_limits:"),
        "platform.yaml:12:17: dispatcher.routing_data is 'store' but "
        "dispatcher.routing_store is not set; name the Workers KV namespace "
        "(routing_store.kv_namespace_id)",
        id="store-routing-without-namespace",
    ),
    pytest.param(
        edit(
            P,
            "default_limits:",
            "dispatcher:\n  routing_store:\n    kv_namespace_id: " + "a" * 32 + "\ndefault_limits:",
        ),
        "platform.yaml:12:3: dispatcher.routing_store is set but dispatcher.routing_data is "
        "'manifest'; set routing_data: store to use it, or remove it",
        id="routing-store-without-store-mode",
    ),
    pytest.param(
        edit(
            P,
            "default_limits:",
            "dispatcher:\n  routing_data: store\n  routing_store:\n    kv_namespace_id: nope"
            "\ndefault_limits:",
        ),
        "platform.yaml:14:22: dispatcher.routing_store.kv_namespace_id: must be a Workers KV "
        "namespace id, 32 lowercase hex digits (`wrangler kv namespace list` shows them), "
        "or ${VAR} to read it from the environment",
        id="routing-store-bad-namespace-id",
    ),
    pytest.param(
        edit(A, "allow_hosts: [a.example]", "allow_hosts: {a: b}"),
        "customers/alpha/customer.yaml:10:18: outbound.params.allow_hosts: must be a string, "
        "an integer, a boolean or a list of strings, not a mapping",
        id="parameter-of-unsupported-type",
    ),
    pytest.param(
        edit(P, "  - allow_hosts", "  - allow_hosts\n      - cf_zone"),
        "platform.yaml:11:9: parameter 'cf_zone' is reserved: names starting with 'cf_' "
        "belong to the platform; remove it from the list",
        id="reserved-declared-parameter",
    ),
    pytest.param(
        with_tail(edit(B, "plan: advanced\n", "plan: advanced\ntail: [trace, tracer]\n")),
        "customers/beta/customer.yaml:4:15: tail Worker 'tracer' is not declared in "
        "platform.yaml tail_workers (declared: trace)",
        id="tail-worker-not-declared",
    ),
    pytest.param(
        with_tail(edit(B, "plan: advanced\n", "plan: advanced\ntail: [trace, trace]\n")),
        "customers/beta/customer.yaml:4:15: tail Worker 'trace' is listed twice",
        id="tail-worker-listed-twice",
    ),
    pytest.param(
        with_tail(edit(B, "plan: advanced\n", "plan: advanced\ntail: true\n")),
        "customers/beta/customer.yaml:4:7: tail: must be a list of names or false, "
        "not the boolean true",
        id="tail-true-is-not-a-choice",
    ),
    pytest.param(
        with_tail(edit(P, "  trace:\n", "  egress:\n")),
        "platform.yaml:12:3: tail Worker 'egress' has the name of an outbound Worker; "
        "Worker names must be unique",
        id="tail-worker-named-like-an-outbound-worker",
    ),
    pytest.param(
        with_tail(edit(B, "  beta-hello:", "  trace:")),
        "customers/beta/customer.yaml:5:3: script name 'trace' is the name of a tail Worker "
        "in platform.yaml; choose another name",
        id="script-named-like-a-tail-worker",
    ),
    pytest.param(
        both(edit(P, "default_limits:", TAIL_WORKER + "default_limits:")),
        "platform.yaml:13:18: module 'platform/trace.mjs' does not exist",
        id="tail-worker-module-missing",
    ),
    pytest.param(
        with_tail(
            edit(
                P,
                "main_module: platform/trace.mjs",
                'main_module: platform/trace.mjs\n    compatibility_date: "2024-02-30"',
            )
        ),
        "platform.yaml:14:25: '2024-02-30' is not a real date (YYYY-MM-DD)",
        id="tail-worker-impossible-date",
    ),
    pytest.param(
        with_d1(f"      my-db: {DB_ID}"),
        "customers/beta/customer.yaml:8:7: scripts.beta-hello.d1: key 'my-db' must be an "
        "identifier (letters, digits and '_', not starting with a digit)",
        id="d1-binding-name-not-an-identifier",
    ),
    pytest.param(
        both(
            edit(
                B,
                "    main_module: hello.mjs",
                "    main_module: hello.mjs\n    vars:\n      DB: x",
            ),
            edit(B, "      DB: x", f"      DB: x\n    d1:\n      DB: {DB_ID}"),
        ),
        "customers/beta/customer.yaml:10:7: D1 binding 'DB' has the name of a var of script "
        "'beta-hello' (customers/beta/customer.yaml:8); both become env.DB, so rename one",
        id="d1-binding-named-like-a-var",
    ),
    pytest.param(
        with_d1(f"      __wfp_d1_DB: {DB_ID}"),
        "customers/beta/customer.yaml:8:7: D1 binding name '__wfp_d1_DB' is reserved: names "
        "starting with '__' belong to the platform; choose another name",
        id="d1-binding-name-reserved",
    ),
    pytest.param(
        both(
            edit(
                P,
                "max_bundle_bytes: 1000",
                f"max_bundle_bytes: 1000\nd1:\n  name: mirror\n  database_id: {DB_ID}",
            ),
            with_d1(f"      MIRROR: {DB_ID}"),
        ),
        "customers/beta/customer.yaml:8:15: D1 binding 'MIRROR' names the platform's own "
        "database (platform.yaml d1, which holds every customer's tokens); customer scripts "
        "may not bind it",
        id="d1-binding-of-the-platform-database",
    ),
    pytest.param(
        both(
            edit(
                A,
                "    main_module: hello.mjs",
                f"    main_module: hello.mjs\n    d1:\n      DATA: {DB_ID}",
            ),
            with_d1(f"      STOLEN: {DB_ID}"),
        ),
        f"customers/beta/customer.yaml:8:15: D1 database {DB_ID} is already bound by customer "
        "'alpha' (customers/alpha/customer.yaml:15); a database belongs to one customer, so "
        "create another one for this script",
        id="d1-database-of-another-customer",
    ),
    pytest.param(
        with_d1("      DB: platform-db"),
        "customers/beta/customer.yaml:8:11: scripts.beta-hello.d1.DB: must be a D1 database id, "
        "a UUID such as 0f4b5e2a-9c1d-4e7f-8a6b-3c2d1e0f9a8b (`wrangler d1 list` shows them), "
        "or ${D1_NAME} to read it from the environment",
        id="d1-database-id-not-a-uuid",
    ),
    pytest.param(
        with_d1("      DB: ${WFP_TEST_UNSET_ACCOUNT}"),
        "customers/beta/customer.yaml:8:11: scripts.beta-hello.d1.DB: "
        "'${WFP_TEST_UNSET_ACCOUNT}' may not be used here: only variables whose names start "
        "with D1_ can be referenced; export the value as D1_WFP_TEST_UNSET_ACCOUNT",
        id="d1-database-id-from-a-variable-customers-may-not-read",
    ),
    pytest.param(
        with_d1("      DB: ${D1_WFP_TEST_UNSET}"),
        "customers/beta/customer.yaml:8:11: scripts.beta-hello.d1.DB: environment variable "
        "D1_WFP_TEST_UNSET not set; export D1_WFP_TEST_UNSET or write "
        "${D1_WFP_TEST_UNSET:-default} to give a default",
        id="d1-database-id-variable-unset",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), CASES)
def test_bad_repository_fails_with_one_precise_problem(
    repo: Path,
    mutate: Mutation,
    expected: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WFP_TEST_UNSET_ACCOUNT", raising=False)
    monkeypatch.delenv("D1_WFP_TEST_UNSET", raising=False)
    mutate(repo)
    before = snapshot(repo)

    code = main(["validate", "--repo", str(repo)])

    err = capsys.readouterr().err
    problems = [
        line.removeprefix("error: ") for line in err.splitlines() if line.startswith("error: ")
    ]
    assert code == 1
    assert problems == [expected]
    assert snapshot(repo) == before
