// The customer API of routing_data: store must fail closed on records it cannot vouch
// for, as the script route does (validScriptRecord). Run by test_store_records_js.py.
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
  admin_token_sha256: null,
  routing_data: { mode: "store", binding: "ROUTES", cache_ttl: 30, plain_binding: "DISPATCHER", d1: null },
};

const good = {
  [`t:${sha("acme-token")}`]: { v: 1, customer: "acme" },
  "c:acme": { v: 1, customer: "acme", suspended: false, keys: [],
              scripts: [{ name: "hello", fingerprint: "f1", limits: {}, access: "public" }] },
  "c:beta": { v: 1, customer: "beta", suspended: false, keys: [],
              scripts: [{ name: "beta-secret", fingerprint: "f9", limits: {}, access: "token" }] },
};

async function api(records) {
  const data = new Map(Object.entries(records).map(([k, v]) => [k, JSON.stringify(v)]));
  const kv = { async get(key) { return data.has(key) ? data.get(key) : null; } };
  const d = core.createDispatcher(manifest);
  const res = await d.fetch(
    new Request("http://x/_platform/v1/scripts", { headers: { "x-customer-token": "acme-token" } }),
    { ROUTES: kv, DISPATCHER: {} },
  );
  return { status: res.status, body: await res.json() };
}

test("the intact records answer 200", async () => {
  const { status, body } = await api(good);
  assert.equal(status, 200);
  assert.equal(body.customer, "acme");
});

for (const [what, change] of [
  ["a token record of another version", (r) => { r[`t:${sha("acme-token")}`].v = 2; }],
  ["a customer record of another version", (r) => { r["c:acme"].v = 2; }],
  ["a customer record without its suspension flag", (r) => { delete r["c:acme"].suspended; }],
  ["a customer record naming another customer", (r) => { r["c:acme"] = { ...r["c:beta"] }; }],
  ["a customer record with a script entry that is not an object", (r) => { r["c:acme"].scripts = [null]; }],
]) {
  test(`${what} is a 503, never a listing`, async () => {
    const records = structuredClone(good);
    change(records);
    const { status, body } = await api(records);
    assert.equal(status, 503, JSON.stringify(body));
    assert.equal(body.error, "routing_unavailable");
  });
}
