// Unit tests of the dispatcher's routing, customer API and error mapping, run by
// tests/dispatcher/test_dispatcher_core_js.py with `node --test`. The namespace binding is a
// stand-in that throws the messages Cloudflare's runtime throws.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";

const core = await import(pathToFileURL(process.env.WFP_DISPATCHER_CORE).href);
const sp = await import(new URL("status-page.mjs", pathToFileURL(process.env.WFP_DISPATCHER_CORE)).href);
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

// -- status page (/_platform/) ---------------------------------------------------------------

const ADMIN = "the-admin-token";
const withAdmin = {
  ...manifest,
  admin_token_sha256: sha(ADMIN),
  customers: {
    ...manifest.customers,
    evil: { name: "<script>alert(1)</script>", plan: "free", suspended: false, tokens: [sha("e")],
            outbound_worker: null, tail: [], logpush: false },
  },
  scripts: {
    ...manifest.scripts,
    "evil-x": { customer: "evil", access: "public", binding: "DISPATCHER", fingerprint: "\"><img>",
                limits: {} },
  },
};
const statusPage = (init = {}, m = withAdmin, url = "http://x/_platform/") => run(url, ok, init, m);

test("status page is 404 when no admin token hash is configured", async () => {
  const { res } = await statusPage({ headers: { authorization: `Bearer ${ADMIN}` } }, manifest);
  assert.equal(res.status, 404);
});

test("status page refuses a request without a token (401) and a wrong one (403)", async () => {
  const none = await statusPage();
  assert.equal(none.res.status, 401);
  assert.match(none.res.headers.get("www-authenticate"), /^Bearer/);
  const wrong = await statusPage({ headers: { "x-admin-token": "nope" } });
  assert.equal(wrong.res.status, 403);
  assert.ok(!wrong.text.includes("Customers"));
});

test("status page accepts the token as a bearer token or in X-Admin-Token", async () => {
  for (const headers of [{ authorization: `Bearer ${ADMIN}` }, { "x-admin-token": ADMIN }]) {
    const { res, text } = await statusPage({ headers });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-frame-options"), "DENY");
    assert.match(res.headers.get("content-security-policy"), /frame-ancestors 'none'/);
    assert.ok(text.includes('href="/hello/"'));
  }
});

test("status page escapes every value and never shows a token hash", async () => {
  const { text } = await statusPage({ headers: { "x-admin-token": ADMIN } });
  assert.ok(!text.includes("<script>alert(1)</script>"));
  assert.ok(text.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  assert.ok(!text.includes('"><img>'));
  for (const c of Object.values(withAdmin.customers)) {
    for (const h of c.tokens) assert.ok(!text.includes(h));
  }
  assert.ok(!text.includes(sha(ADMIN)));
});

test("?token= sets an HttpOnly cookie and redirects to a URL without the token", async () => {
  const { res } = await statusPage({ redirect: "manual" }, withAdmin,
    `http://x/_platform/?token=${ADMIN}`);
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/_platform/");
  const cookie = res.headers.get("set-cookie");
  assert.match(cookie, /^wfp_admin=/);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.match(cookie, /Path=\/_platform/);
});

const pageLoad = { "sec-fetch-dest": "document", "sec-fetch-site": "same-origin" };

test("the cookie opens the page only for page loads, never for fetch() or frames", async () => {
  const cookie = `wfp_admin=${ADMIN}`;
  for (const site of ["same-origin", "none"]) {
    const page = await statusPage({ headers: { cookie, ...pageLoad, "sec-fetch-site": site } });
    assert.equal(page.res.status, 200);
  }
  for (const dest of ["empty", "iframe"]) {
    const other = await statusPage({ headers: { cookie, ...pageLoad, "sec-fetch-dest": dest } });
    assert.equal(other.res.status, 401);
  }
});

test("the cookie is refused when the browser does not label the request a page load", async () => {
  const cookie = `wfp_admin=${ADMIN}`;
  for (const headers of [
    { cookie },
    { cookie, "sec-fetch-dest": "document" },
    { cookie, "sec-fetch-site": "same-origin" },
    { cookie, "sec-fetch-dest": "document", "sec-fetch-site": "same-site" },
    { cookie, "sec-fetch-dest": "document", "sec-fetch-site": "cross-site" },
  ]) {
    const { res, text } = await statusPage({ headers });
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.ok(!text.includes("Customers"));
  }
  // Header and bearer authentication do not depend on the browser's labels.
  assert.equal((await statusPage({ headers: { "x-admin-token": ADMIN } })).res.status, 200);
});

test("status pages cut off their opener and clear the origin's service workers", async () => {
  const cases = [
    await statusPage({ headers: { "x-admin-token": ADMIN } }),
    await statusPage(),
    await statusPage({ method: "POST" }, withAdmin, "http://x/_platform/logout"),
    await statusPage({ redirect: "manual" }, withAdmin, `http://x/_platform/?token=${ADMIN}`),
  ];
  for (const { res } of cases) {
    assert.equal(res.headers.get("cross-origin-opener-policy"), "same-origin", String(res.status));
    assert.equal(res.headers.get("clear-site-data"), '"storage"', String(res.status));
  }
});

test("a planted wfp_admin cookie does not lock the admin out", async () => {
  for (const cookie of [
    `wfp_admin=junk; wfp_admin=${ADMIN}`,
    `wfp_admin=${ADMIN}; wfp_admin=junk`,
    `wfp_admin=%zz; wfp_admin=${ADMIN}`,
  ]) {
    const { res } = await statusPage({ headers: { cookie, ...pageLoad } });
    assert.equal(res.status, 200, cookie);
  }
  const junk = await statusPage({ headers: { cookie: "wfp_admin=a; wfp_admin=b", ...pageLoad } });
  assert.equal(junk.res.status, 403);
});

test("customer responses cannot set the admin cookie, in any case or with any attributes", async () => {
  const planted = [
    "wfp_admin=junk; Path=/_platform/",
    "WFP_ADMIN=junk; Path=/_platform",
    " wfp_admin = junk; HttpOnly",
    "Wfp_Admin=",
  ];
  const kept = ["session=1; Path=/hello/", "wfp_admin_x=2", "other=wfp_admin=3"];
  const respond = () => {
    const headers = new Headers({ "content-type": "text/plain" });
    for (const c of [...planted, ...kept]) headers.append("set-cookie", c);
    return new Response("hi", { headers });
  };
  for (const m of [manifest, { ...manifest, routing: { mode: "host", domain: "x" } }]) {
    const host = m.routing.mode === "host" ? "http://hello.x/" : "http://x/hello/";
    const { res } = await run(host, respond, {}, m);
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers.getSetCookie(), kept);
  }
});

test("path routing refuses service worker scripts and strips scope and opener headers", async () => {
  const respond = () =>
    new Response("self.onfetch = () => {}", {
      headers: {
        "content-type": "text/javascript",
        "service-worker-allowed": "/",
        "cross-origin-opener-policy": "same-origin",
        "x-custom": "kept",
      },
    });
  for (const headers of [{ "service-worker": "script" }, { "sec-fetch-dest": "serviceworker" }]) {
    for (const url of ["http://x/hello", "http://x/hello/sw.js", "http://x/_platform/"]) {
      const { res, text, calls } = await run(url, respond, { headers });
      assert.equal(res.status, 403, url);
      assert.equal(JSON.parse(text).error, "service_worker_refused");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(calls.length, 0);
    }
  }
  const { res } = await run("http://x/hello/", respond);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("service-worker-allowed"), null);
  assert.equal(res.headers.get("cross-origin-opener-policy"), null);
  assert.equal(res.headers.get("x-custom"), "kept");
});

test("host routing gives each script its own origin, so its service worker headers stay", async () => {
  const hosted = { ...manifest, routing: { mode: "host", domain: "apps.example.com" } };
  const respond = () =>
    new Response("x", { headers: { "service-worker-allowed": "/", "cross-origin-opener-policy": "same-origin" } });
  const { res } = await run("http://hello.apps.example.com/sw.js", respond,
    { headers: { "service-worker": "script" } }, hosted);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("service-worker-allowed"), "/");
  assert.equal(res.headers.get("cross-origin-opener-policy"), "same-origin");
});

test("a suspended customer's token is refused by the customer API", async () => {
  const suspended = {
    ...manifest,
    customers: { ...manifest.customers, gone: { ...manifest.customers.gone, tokens: [sha("gone-token")] } },
  };
  const { res, text } = await run("http://x/_platform/v1/scripts", ok,
    { headers: { "x-customer-token": "gone-token" } }, suspended);
  assert.equal(res.status, 403);
  assert.equal(JSON.parse(text).error, "customer_suspended");
  assert.ok(!text.includes("old"));
});

test("the 404 without an admin hash is nosniff and no-store", async () => {
  const { res } = await statusPage({}, manifest);
  assert.equal(res.status, 404);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("cache-control"), "no-store");
});

test("customerForToken returns the owning customer for every token and null otherwise", async () => {
  const many = { customers: {} };
  for (let i = 0; i < 200; i++) {
    many.customers[`c${i}`] = { tokens: [sha(`t${i}-a`), sha(`t${i}-b`)] };
  }
  for (const i of [0, 1, 99, 199]) {
    assert.equal(await core.customerForToken(many, `t${i}-a`), `c${i}`);
    assert.equal(await core.customerForToken(many, `t${i}-b`), `c${i}`);
  }
  assert.equal(await core.customerForToken(many, "t0"), null);
  assert.equal(await core.customerForToken(many, sha("t0-a")), null); // the hash is no token
  // A different manifest object (a new deploy) is indexed afresh, not served from the old one.
  const next = { customers: { c0: { tokens: [sha("fresh")] } } };
  assert.equal(await core.customerForToken(next, "t0-a"), null);
  assert.equal(await core.customerForToken(next, "fresh"), "c0");
});

test("the status page renders 10k customers and 50k scripts in linear time", async () => {
  const build = (customers, scripts) => {
    const big = { ...withAdmin, customers: {}, scripts: {} };
    for (let i = 0; i < customers; i++) {
      big.customers[`c${i}`] = { name: `C${i}`, plan: "free", suspended: false, tokens: [] };
    }
    for (let i = 0; i < scripts; i++) {
      big.scripts[`s${i}`] = { customer: `c${i % customers}`, access: "public", limits: {} };
    }
    return big;
  };
  const timed = (m) => {
    const started = performance.now();
    const html = sp.renderStatusBody(m);
    return { html, elapsed: performance.now() - started };
  };
  const small = build(1_000, 5_000);
  timed(small); // warm-up
  const smallMs = Math.min(timed(small).elapsed, timed(small).elapsed);
  const { html, elapsed } = timed(build(10_000, 50_000));
  assert.match(html, /data-customer="c9999">.*<td>5<\/td><\/tr>/);
  // Ten times the input: linear is ~10x the time, the quadratic version was ~100x (8 s).
  // A ratio, not a wall-clock bound, so a loaded CI machine does not fail it.
  assert.ok(elapsed < 30 * smallMs + 50, `${elapsed} ms for 10x the input of ${smallMs} ms`);
});

test("host routing links scripts by host name", async () => {
  const hosted = { ...withAdmin, routing: { mode: "host", domain: "apps.example.com" } };
  const { text } = await statusPage({ headers: { "x-admin-token": ADMIN } }, hosted,
    "http://apps.example.com/_platform/");
  assert.ok(text.includes('href="//hello.apps.example.com/"'));
});

test("the admin token header never reaches customer code", async () => {
  const { calls } = await run("http://x/hello/", ok, { headers: { "x-admin-token": ADMIN } });
  assert.equal(calls[0].request.headers.get("x-admin-token"), null);
});

test("GET and HEAD with an empty body stream are forwarded without a body", () => {
  // workerd hands the dispatcher a GET carrying "Content-Length: 0" with an empty body
  // stream; copying it with new Request(request, init) throws, so the dispatcher rebuilds it.
  for (const method of ["GET", "HEAD"]) {
    const incoming = {
      method,
      url: "https://example.com/hello/x?q=1",
      redirect: "manual",
      headers: new Headers({ "content-length": "0", "x-wfp-internal": "spoof", accept: "*/*" }),
      body: new ReadableStream(),
    };
    const forwarded = core.forwardedRequest(incoming);
    assert.equal(forwarded.method, method);
    assert.equal(forwarded.url, incoming.url);
    assert.equal(forwarded.body, null);
    assert.equal(forwarded.redirect, "manual");
    assert.equal(forwarded.headers.get("x-wfp-internal"), null);
    assert.equal(forwarded.headers.get("accept"), "*/*");
  }
});

test("other methods keep their body", async () => {
  const incoming = new Request("https://example.com/hello/", { method: "POST", body: "payload" });
  const forwarded = core.forwardedRequest(incoming);
  assert.equal(forwarded.method, "POST");
  assert.equal(await forwarded.text(), "payload");
});

// Node's Response refuses status 101; workerd makes one for every WebSocket upgrade.
class UpgradeResponse extends Response {
  constructor(body, init = {}) {
    const upgrade = init.status === 101;
    super(upgrade ? null : body, upgrade ? { ...init, status: 200 } : init);
    this.upgrade = upgrade ? { webSocket: init.webSocket ?? null } : null;
  }
  get status() {
    return this.upgrade ? 101 : super.status;
  }
  get webSocket() {
    return this.upgrade ? this.upgrade.webSocket : null;
  }
}

test("WebSocket upgrades (101) get the same header hygiene as every other response", async () => {
  const RealResponse = globalThis.Response;
  globalThis.Response = UpgradeResponse;
  try {
    const socket = { fake: "websocket" };
    const respond = () => {
      const headers = new Headers({ "service-worker-allowed": "/", upgrade: "websocket" });
      headers.append("set-cookie", "wfp_admin=; Path=/_platform; Max-Age=0");
      headers.append("set-cookie", "WFP_ADMIN=planted; Path=/_platform/");
      headers.append("set-cookie", "chat=1; Path=/hello/");
      return new UpgradeResponse(null, { status: 101, webSocket: socket, headers });
    };
    const init = { headers: { upgrade: "websocket", connection: "Upgrade" } };
    for (const m of [manifest, { ...manifest, routing: { mode: "host", domain: "x" } }]) {
      const url = m.routing.mode === "host" ? "http://hello.x/ws" : "http://x/hello/ws";
      const res = await core.createDispatcher(m).fetch(new Request(url, init), {
        DISPATCHER_OUT: standIn(respond).binding,
      });
      assert.equal(res.status, 101);
      assert.equal(res.webSocket, socket, "the customer's WebSocket is passed on");
      assert.deepEqual(res.headers.getSetCookie(), ["chat=1; Path=/hello/"]);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("x-wfp-script"), "hello");
      const sharedOrigin = m.routing.mode !== "host";
      assert.equal(res.headers.has("service-worker-allowed"), !sharedOrigin);
    }
  } finally {
    globalThis.Response = RealResponse;
  }
});

const adminCookie = `wfp_admin=${ADMIN}`;
const signOutPost = (headers, body) =>
  statusPage(
    { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body },
    withAdmin,
    "http://x/_platform/logout",
  );

test("sign-out is only a POST: a GET, from an image or a link, keeps the cookie", async () => {
  for (const method of ["GET", "HEAD"]) {
    const { res } = await statusPage(
      { method, headers: { cookie: adminCookie, ...pageLoad } }, withAdmin, "http://x/_platform/logout");
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get("allow"), "POST");
    assert.equal(res.headers.get("set-cookie"), null);
  }
});

test("the status page signs out with a same-origin POST carrying its form's proof", async () => {
  const page = await statusPage({ headers: { cookie: adminCookie, ...pageLoad } });
  assert.equal(page.res.status, 200);
  const proof = /name="signout" value="([0-9a-f]{64})"/.exec(page.text)?.[1];
  assert.ok(proof, "the page has a sign-out form");
  assert.equal(proof, await sp.signOutProof(ADMIN));
  assert.ok(!page.text.includes(sha(ADMIN)));
  assert.match(page.res.headers.get("content-security-policy"), /form-action 'self'/);
  const form = { cookie: adminCookie, origin: "http://x", ...pageLoad };
  const { res } = await signOutPost(form, `signout=${proof}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("set-cookie"), /^wfp_admin=; Path=\/_platform; .*Max-Age=0/);
  // Header-authenticated views have no cookie, hence no form.
  const header = await statusPage({ headers: { "x-admin-token": ADMIN } });
  assert.ok(!header.text.includes('name="signout"'));
});

test("sign-out refuses other sites, sibling subdomains and same-origin customer pages", async () => {
  const proof = await sp.signOutProof(ADMIN);
  const attempts = [
    // Another site, or a customer's host under the platform's domain (same site).
    [{ cookie: adminCookie, origin: "https://evil.example", "sec-fetch-site": "cross-site" }, `signout=${proof}`],
    [{ cookie: adminCookie, origin: "http://hello.x", "sec-fetch-site": "same-site" }, `signout=${proof}`],
    [{ cookie: adminCookie }, `signout=${proof}`],
    // A customer page on the same origin (path routing) does not have the proof...
    [{ cookie: adminCookie, origin: "http://x", "sec-fetch-site": "same-origin" }, ""],
    [{ cookie: adminCookie, origin: "http://x", "sec-fetch-site": "same-origin" }, "signout=00"],
    // ...and one it computes for a cookie it planted is not the admin's.
    [{ cookie: "wfp_admin=planted", origin: "http://x" }, `signout=${await sp.signOutProof("planted")}`],
    [{ cookie: adminCookie, origin: "http://x" }, `signout=${proof}&x=${"a".repeat(2000)}`],
  ];
  for (const [headers, body] of attempts) {
    const { res } = await signOutPost(headers, body);
    assert.equal(res.status, 403, JSON.stringify(headers) + body.slice(0, 80));
    assert.equal(res.headers.get("set-cookie"), null);
  }
});

const withHostnames = (mode, domain = null) => ({
  ...manifest,
  routing: { mode, domain },
  hostnames: { "shop.example.com": "hello", "*.acme.test": "hello", "zed.example.org": "zz" },
});

test("a customer's own hostname reaches its script in every routing mode", async () => {
  for (const m of [withHostnames("path"), withHostnames("host", "x"), withHostnames("host")]) {
    for (const url of ["http://shop.example.com/", "http://SHOP.example.com/a?b", "http://eu.acme.test/"]) {
      const { res, calls } = await run(url, ok, {}, m);
      assert.equal(res.status, 200, `${m.routing.mode} ${url}`);
      assert.equal(calls[0].name, "hello");
      // The script sees the request unchanged: the hostname and the path as sent.
      assert.equal(new URL(calls[0].request.url).pathname, new URL(url).pathname);
      assert.equal(res.headers.get("x-wfp-script"), "hello");
    }
  }
});

test("on a customer hostname everything is the script's: no /_platform/, its own origin", async () => {
  const m = { ...withHostnames("path"), admin_token_sha256: sha(ADMIN) };
  const seen = [];
  for (const path of ["/_platform/", "/_platform/health", "/_platform/logout"]) {
    const { res, calls } = await run(`http://shop.example.com${path}`, ok,
      { headers: { "x-admin-token": ADMIN } }, m);
    assert.equal(res.status, 200, path);
    assert.equal(calls[0].name, "hello");
    assert.equal(calls[0].request.headers.get("x-admin-token"), null);
    seen.push(path);
  }
  // Its own origin: service workers and opener policy are the customer's business.
  const sw = await run("http://shop.example.com/sw.js",
    () => new Response("sw", { headers: { "service-worker-allowed": "/" } }),
    { headers: { "service-worker": "script" } }, m);
  assert.equal(sw.res.status, 200);
  assert.equal(sw.res.headers.get("service-worker-allowed"), "/");
  // ...but the admin cookie is still never set by customer code.
  const cookie = await run("http://shop.example.com/",
    () => new Response("c", { headers: { "set-cookie": "wfp_admin=x; Path=/_platform" } }), {}, m);
  assert.deepEqual(cookie.res.headers.getSetCookie(), []);
});

test("unknown hosts get a clean 404 and a hostname maps only to its listed script", async () => {
  for (const [m, url] of [
    [withHostnames("host"), "http://other.example.com/"],
    [withHostnames("host"), "http://acme.test/"],
    [withHostnames("host"), "http://a.b.acme.test/"],
    [withHostnames("host", "x"), "http://example.com/"],
  ]) {
    const { res, text, calls } = await run(url, ok, {}, m);
    assert.equal(res.status, 404, url);
    assert.equal(JSON.parse(text).error, "not_found");
    assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(calls.length, 0);
  }
  // Path routing still serves other hosts by path (workers.dev, the platform's own host).
  const path = await run("http://platform.example.net/zz/", ok, {}, withHostnames("path"));
  assert.equal(path.calls[0].name, "zz");
});

test("a hostname of a suspended customer's script or a token script keeps those rules", async () => {
  const m = { ...withHostnames("host"), hostnames: { "old.example.com": "old", "s.example.com": "secret" } };
  assert.equal((await run("http://old.example.com/", ok, {}, m)).res.status, 403);
  assert.equal((await run("http://s.example.com/", ok, {}, m)).res.status, 401);
  const own = await run("http://s.example.com/", ok, { headers: { "x-customer-token": "acme-token" } }, m);
  assert.equal(own.res.status, 200);
});

// -- routing_data: store ----------------------------------------------------------------

const storeManifest = {
  version: 1,
  commit: "abc123",
  namespace: "ns",
  routing: { mode: "path", domain: null },
  admin_token_sha256: sha("admin"),
  routing_data: { mode: "store", binding: "ROUTES", cache_ttl: 30, plain_binding: "DISPATCHER", d1: null },
};

const acmeTokens = [sha("acme-token")];
const records = {
  "s:hello": { v: 1, customer: "acme", access: "public", binding: "DISPATCHER_OUT", fingerprint: "f1",
               limits: { cpuMs: 50, subRequests: 5 }, outbound: { customer_id: "acme", tier: "pro" },
               suspended: false, tokens: acmeTokens },
  "s:secret": { v: 1, customer: "acme", access: "token", binding: "DISPATCHER", fingerprint: "f2",
                limits: { cpuMs: 10 }, outbound: null, suspended: false, tokens: acmeTokens },
  "s:old": { v: 1, customer: "gone", access: "public", binding: "DISPATCHER", fingerprint: "f3",
             limits: {}, outbound: null, suspended: true, tokens: [] },
  [`t:${sha("acme-token")}`]: { v: 1, customer: "acme" },
  "c:acme": { v: 1, customer: "acme", suspended: false, keys: [],
              scripts: [{ name: "hello", fingerprint: "f1", limits: { cpuMs: 50, subRequests: 5 }, access: "public" }] },
  "i:00": { v: 1, customers: { acme: "d1" } },
  "i:3f": { v: 1, customers: { gone: "d2" } },
};

/** A stand-in KV binding: values are JSON text, reads are counted, failures on demand. */
function standInKv(values = records) {
  const kv = {
    reads: [],
    fail: false,
    data: new Map(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
    async get(key, options) {
      kv.reads.push({ key, options });
      if (kv.fail) throw new Error("KV GET failed: 503");
      return kv.data.has(key) ? kv.data.get(key) : null;
    },
  };
  return kv;
}

async function runStore(url, { kv = standInKv(), behaviour = ok, init = {}, dispatcher = null, env = {} } = {}) {
  const { binding, calls } = standIn(behaviour);
  const fullEnv = { DISPATCHER: binding, DISPATCHER_OUT: binding, ROUTES: kv, ...env };
  const d = dispatcher ?? core.createDispatcher(storeManifest);
  const res = await d.fetch(new Request(url, init), fullEnv);
  const text = await res.text();
  return { res, text, calls, kv };
}

test("store: a script runs with its record's limits, outbound and binding", async () => {
  const { res, text, calls, kv } = await runStore("http://x/hello/");
  assert.equal(res.status, 200);
  assert.equal(text, "hi");
  assert.deepEqual(calls[0].options, {
    limits: { cpuMs: 50, subRequests: 5 },
    outbound: { customer_id: "acme", tier: "pro" },
  });
  assert.deepEqual(kv.reads, [{ key: "s:hello", options: { type: "text", cacheTtl: 30 } }]);
});

test("store: no record is a 503 with Retry-After and the namespace is never called", async () => {
  const { res, text, calls } = await runStore("http://x/nobody/");
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "10");
  assert.equal(JSON.parse(text).error, "routing_unavailable");
  assert.equal(calls.length, 0);
});

for (const [what, change] of [
  ["without limits", (r) => { delete r.limits; }],
  ["with null limits", (r) => { r.limits = null; }],
  ["without the outbound key", (r) => { delete r.outbound; }],
  ["with outbound null on an outbound binding", (r) => { r.outbound = null; }],
  ["naming a binding the Worker does not have", (r) => { r.binding = "DISPATCHER_OTHER"; }],
  ["with an unknown access mode", (r) => { r.access = "private"; }],
  ["of another version", (r) => { r.v = 2; }],
  ["without tokens", (r) => { delete r.tokens; }],
]) {
  test(`store: a record ${what} is refused with 503`, async () => {
    const record = structuredClone(records["s:hello"]);
    change(record);
    const kv = standInKv({ ...records, "s:hello": record });
    const { res, text, calls } = await runStore("http://x/hello/", { kv });
    assert.equal(res.status, 503);
    assert.equal(JSON.parse(text).error, "routing_unavailable");
    assert.equal(calls.length, 0);
  });
}

test("store: outbound parameters on the plain binding are refused", async () => {
  const record = { ...records["s:secret"], access: "public", outbound: { customer_id: "acme" } };
  const { res, calls } = await runStore("http://x/secret/", { kv: standInKv({ "s:secret": record }) });
  assert.equal(res.status, 503);
  assert.equal(calls.length, 0);
});

test("store: a record that is not JSON and a KV error are 503s", async () => {
  const garbled = await runStore("http://x/hello/", { kv: standInKv({ "s:hello": "{not json" }) });
  assert.equal(garbled.res.status, 503);
  const kv = standInKv();
  kv.fail = true;
  const failing = await runStore("http://x/hello/", { kv });
  assert.equal(failing.res.status, 503);
  assert.equal(failing.calls.length, 0);
  const noBinding = await runStore("http://x/hello/", { env: { ROUTES: undefined } });
  assert.equal(noBinding.res.status, 503);
});

test("store: records are cached in the isolate, misses are not", async () => {
  const kv = standInKv();
  const dispatcher = core.createDispatcher(storeManifest);
  await runStore("http://x/hello/", { kv, dispatcher });
  await runStore("http://x/hello/", { kv, dispatcher });
  await runStore("http://x/nobody/", { kv, dispatcher });
  await runStore("http://x/nobody/", { kv, dispatcher });
  assert.deepEqual(kv.reads.map((r) => r.key), ["s:hello", "s:nobody", "s:nobody"]);
  // Written later: seen on the next request (no negative caching).
  kv.data.set("s:nobody", JSON.stringify({ ...records["s:secret"], access: "public" }));
  const later = await runStore("http://x/nobody/", { kv, dispatcher });
  assert.equal(later.res.status, 200);
});

test("store: the cache expires after its TTL", async () => {
  let now = 1000;
  const store = core.createRecordStore(storeManifest.routing_data, () => now);
  const kv = standInKv();
  const env = { ROUTES: kv };
  await store.get(env, "s:hello");
  await store.get(env, "s:hello");
  now += 29_000;
  await store.get(env, "s:hello");
  assert.equal(kv.reads.length, 1);
  now += 2_000;
  await store.get(env, "s:hello");
  assert.equal(kv.reads.length, 2);
});

test("store: concurrent first requests share one KV read", async () => {
  const kv = standInKv();
  const dispatcher = core.createDispatcher(storeManifest);
  await Promise.all([1, 2, 3].map(() => runStore("http://x/hello/", { kv, dispatcher })));
  assert.equal(kv.reads.length, 1);
});

test("store: token access and suspension come from the record", async () => {
  const none = await runStore("http://x/secret/");
  assert.equal(none.res.status, 401);
  const wrong = await runStore("http://x/secret/", { init: { headers: { "x-customer-token": "zed-token" } } });
  assert.equal(wrong.res.status, 403);
  const right = await runStore("http://x/secret/", { init: { headers: { "x-customer-token": "acme-token" } } });
  assert.equal(right.res.status, 200);
  assert.equal(right.calls[0].request.headers.get("x-customer-token"), null);
  assert.deepEqual(right.calls[0].options, { limits: { cpuMs: 10 } });
  const suspended = await runStore("http://x/old/");
  assert.equal(suspended.res.status, 403);
  assert.equal(JSON.parse(suspended.text).error, "customer_suspended");
  assert.equal(suspended.calls.length, 0);
});

test("store: the customer API reads the token and customer records", async () => {
  const { res, text } = await runStore("http://x/_platform/v1/scripts", {
    init: { headers: { "x-customer-token": "acme-token" } },
  });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(text), {
    customer: "acme",
    commit: "abc123",
    scripts: [{ name: "hello", fingerprint: "f1", limits: { cpuMs: 50, subRequests: 5 }, access: "public" }],
  });
  const bad = await runStore("http://x/_platform/v1/scripts", { init: { headers: { "x-customer-token": "nope" } } });
  assert.equal(bad.res.status, 403);
  const kv = standInKv();
  kv.fail = true;
  const down = await runStore("http://x/_platform/v1/scripts", { kv, init: { headers: { "x-customer-token": "acme-token" } } });
  assert.equal(down.res.status, 503);
});

test("store: health does not claim a script count", async () => {
  const { res, text } = await runStore("http://x/_platform/health");
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(text), { status: "ok", commit: "abc123", scripts: null, routing_data: "store" });
});

test("store: the status page lists the index's customers, or the D1 mirror's fleet", async () => {
  const admin = { headers: { "x-admin-token": "admin" } };
  const kvOnly = await runStore("http://x/_platform/", { init: admin });
  assert.equal(kvOnly.res.status, 200);
  assert.match(kvOnly.text, /data-customer="acme"/);
  assert.match(kvOnly.text, /data-customer="gone"/);
  assert.match(kvOnly.text, /customers of the routing index only/);
  const anonymous = standInKv();
  await runStore("http://x/_platform/", { kv: anonymous });
  assert.equal(anonymous.reads.length, 0, "no reads before the admin is known");

  const d1 = {
    prepare(sql) {
      return {
        async all() {
          if (sql.includes("FROM customers")) return { results: [{ id: "acme", name: "Acme <Inc>", plan: "pro", suspended: 0 }] };
          return { results: [{ script: "hello", customer_id: "acme", access: "public", cpu_ms: 50, subrequests: 5,
                               outbound_params: '{"tier":"pro"}', fingerprint: "f1" }] };
        },
      };
    },
  };
  const m = { ...storeManifest, routing_data: { ...storeManifest.routing_data, d1: "DB" } };
  const page = await runStore("http://x/_platform/", { init: admin, env: { DB: d1 }, dispatcher: core.createDispatcher(m) });
  assert.equal(page.res.status, 200);
  assert.match(page.text, /data-script="hello"/);
  assert.match(page.text, /Acme &lt;Inc&gt;/);
  assert.match(page.text, /tier=pro/);
  assert.ok(!page.text.includes(sha("acme-token")));
});

test("store: host routing and custom hostnames look the script's record up too", async () => {
  const m = {
    ...storeManifest,
    routing: { mode: "host", domain: "apps.example.com" },
    hostnames: { "shop.example.org": "hello" },
  };
  const dispatcher = core.createDispatcher(m);
  const viaDomain = await runStore("https://hello.apps.example.com/", { dispatcher });
  assert.equal(viaDomain.res.status, 200);
  assert.deepEqual(viaDomain.calls[0].options.limits, { cpuMs: 50, subRequests: 5 });
  const custom = await runStore("https://shop.example.org/", { dispatcher });
  assert.equal(custom.res.status, 200);
  assert.equal(custom.calls[0].name, "hello");
  const unrouted = await runStore("https://nobody.apps.example.com/", { dispatcher });
  assert.equal(unrouted.res.status, 503);
});
