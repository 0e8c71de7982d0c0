// Unit tests of the dispatcher's routing, customer API and error mapping, run by
// tests/dispatcher/test_dispatcher_core_js.py with `node --test`. The namespace binding is a
// stand-in that throws the messages Cloudflare's runtime throws.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";

const core = await import(pathToFileURL(process.env.WFP_DISPATCHER_CORE).href);
const sha = (t) => createHash("sha256").update(t).digest("hex");

const manifest = {
  version: 1,
  commit: "abc123",
  namespace: "ns",
  routing: { mode: "path", domain: null },
  customers: {
    acme: { name: "Acme", plan: "pro", suspended: false, tokens: [sha("acme-token")] },
    gone: { name: "Gone", plan: "free", suspended: true, tokens: [] },
    zed: { name: "Zed", plan: "free", suspended: false, tokens: [sha("zed-token")] },
  },
  scripts: {
    hello: { customer: "acme", access: "public", binding: "DISPATCHER_OUT", fingerprint: "f1",
             limits: { cpuMs: 50, subRequests: 5 }, outbound: { customer_id: "acme", tier: "pro" } },
    secret: { customer: "acme", access: "token", binding: "DISPATCHER", fingerprint: "f2", limits: {} },
    old: { customer: "gone", access: "public", binding: "DISPATCHER", fingerprint: "f3", limits: {} },
    zz: { customer: "zed", access: "public", binding: "DISPATCHER", fingerprint: "f4", limits: {} },
  },
};

function standIn(behaviour) {
  const calls = [];
  const binding = {
    get(name, args, options) {
      calls.push({ name, args, options });
      return {
        async fetch(request) {
          calls.at(-1).request = request;
          return behaviour(request);
        },
      };
    },
  };
  return { binding, calls };
}

function throwing(message) {
  return standIn(() => {
    const e = new Error(message);
    e.stack = `Error: ${message}\n    at secretFunction (customer.js:1:1)`;
    throw e;
  });
}

async function run(url, behaviour, init = {}, m = manifest) {
  const { binding, calls } = typeof behaviour === "function" ? standIn(behaviour) : behaviour;
  const env = { DISPATCHER: binding, DISPATCHER_OUT: binding };
  const res = await core.createDispatcher(m).fetch(new Request(url, init), env);
  const text = await res.text();
  return { res, text, calls };
}

const ok = () => new Response("hi");

test("worker not found from the namespace maps to 404", async () => {
  const { res, text } = await run("http://x/hello/", throwing("Worker not found: 'hello' in dispatch namespace 'ns'"));
  assert.equal(res.status, 404);
  assert.equal(JSON.parse(text).error, "script_not_found");
});

for (const message of [
  "Worker exceeded CPU time limit.",
  "Exceeded CPU time limit",
  "Too many subrequests.",
  "Worker exceeded resource limits",
]) {
  test(`limit message '${message}' maps to 503`, async () => {
    const { res, text } = await run("http://x/hello/", throwing(message));
    assert.equal(res.status, 503);
    assert.equal(JSON.parse(text).error, "limit_exceeded");
  });
}

test("any other exception maps to 502 without detail", async () => {
  const { res, text } = await run("http://x/hello/", throwing("TypeError: db password is hunter2"));
  assert.equal(res.status, 502);
  assert.ok(!text.includes("hunter2"));
  assert.ok(!text.includes("secretFunction"));
  assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
});

test("non-Error throw maps to 502", async () => {
  const { res } = await run("http://x/hello/", standIn(() => { throw "boom"; }));
  assert.equal(res.status, 502);
});

test("limits and outbound parameters are passed to the binding", async () => {
  const { res, calls } = await run("http://x/hello/a/b?q=1", ok);
  assert.equal(res.status, 200);
  assert.equal(calls[0].name, "hello");
  assert.deepEqual(calls[0].options, { limits: { cpuMs: 50, subRequests: 5 }, outbound: { customer_id: "acme", tier: "pro" } });
  assert.equal(new URL(calls[0].request.url).pathname, "/hello/a/b");
  assert.equal(res.headers.get("x-wfp-script"), "hello");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
});

test("internal headers are stripped before customer code", async () => {
  const { calls } = await run("http://x/hello/", ok, {
    headers: { "x-customer-token": "acme-token", "x-wfp-customer": "zed", "X-Platform-Admin": "1",
               "cf-access-jwt-assertion": "j", accept: "text/plain" },
  });
  const seen = Object.fromEntries(calls[0].request.headers);
  assert.deepEqual(seen, { accept: "text/plain" });
});

test("unknown script is 404 and never reaches the binding", async () => {
  const { res, calls } = await run("http://x/nope/", ok);
  assert.equal(res.status, 404);
  assert.equal(calls.length, 0);
});

for (const path of ["/%2e%2e/", "/", "/Hello/", "/he%20llo/", "/a.b/", "/" + "a".repeat(64) + "/", "//"]) {
  test(`malformed or empty path ${path.slice(0, 20)} is a clean 4xx`, async () => {
    const { res, text, calls } = await run("http://x" + path, ok);
    assert.ok(res.status === 400 || res.status === 404, `status ${res.status}`);
    assert.ok(JSON.parse(text).error);
    assert.equal(calls.length, 0);
  });
}

test("suspended customer's script is refused", async () => {
  const { res, calls } = await run("http://x/old/", ok);
  assert.equal(res.status, 403);
  assert.equal(calls.length, 0);
});

test("token script needs its own customer's token", async () => {
  assert.equal((await run("http://x/secret/", ok)).res.status, 401);
  assert.equal((await run("http://x/secret/", ok, { headers: { "x-customer-token": "zed-token" } })).res.status, 403);
  const good = await run("http://x/secret/", ok, { headers: { "x-customer-token": "acme-token" } });
  assert.equal(good.res.status, 200);
  assert.equal(good.calls[0].request.headers.get("x-customer-token"), null);
});

test("customer API lists only the token owner's scripts", async () => {
  const { res, text } = await run("http://x/_platform/v1/scripts", ok, { headers: { "X-Customer-Token": "acme-token" } });
  assert.equal(res.status, 200);
  const body = JSON.parse(text);
  assert.equal(body.customer, "acme");
  assert.equal(body.commit, "abc123");
  assert.deepEqual(body.scripts.map((s) => s.name).sort(), ["hello", "secret"]);
  assert.equal(body.scripts.find((s) => s.name === "hello").fingerprint, "f1");
});

test("customer API rejects missing and wrong tokens", async () => {
  assert.equal((await run("http://x/_platform/v1/scripts", ok)).res.status, 401);
  const wrong = await run("http://x/_platform/v1/scripts", ok, { headers: { "X-Customer-Token": "nope" } });
  assert.equal(wrong.res.status, 403);
  assert.ok(!wrong.text.includes("nope"));
});

test("health endpoint answers", async () => {
  const { res, text } = await run("http://x/_platform/health", ok);
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(text).status, "ok");
});

test("host routing picks the first label under the domain", async () => {
  const m = { ...manifest, routing: { mode: "host", domain: "apps.example.com" } };
  const hit = await run("http://hello.apps.example.com/x", ok, {}, m);
  assert.equal(hit.res.status, 200);
  assert.equal(hit.calls[0].name, "hello");
  assert.equal((await run("http://apps.example.com/hello/", ok, {}, m)).res.status, 404);
  assert.equal((await run("http://a.hello.apps.example.com/", ok, {}, m)).res.status, 404);
  assert.equal((await run("http://evil.com/", ok, {}, m)).res.status, 404);
});

test("constant-time comparison agrees with equality", () => {
  assert.equal(core.constantTimeEqual(sha("a"), sha("a")), true);
  assert.equal(core.constantTimeEqual(sha("a"), sha("b")), false);
  assert.equal(core.constantTimeEqual("ab", "abc"), false);
});
