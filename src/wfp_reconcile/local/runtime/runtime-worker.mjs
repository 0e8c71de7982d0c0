// The one static Worker of the local runtime (runs inside workerd, started by launcher.mjs).
//
// It emulates a Workers for Platforms account on top of workerd's Worker Loader:
// - the default export serves eyeballs by running the dispatch Worker exactly as uploaded to
//   the local API emulator (a regular Worker), reloaded whenever its etag changes;
// - `Namespace` is what the dispatcher's dispatch_namespace bindings talk to: it loads the
//   customer script from the emulator and runs it in its own isolate;
// - `Outbound` is every customer script's globalOutbound when its binding has an outbound
//   Worker: it runs that Worker with the dispatch's outbound parameters on `env`.
// - `D1Bridge` runs the SQL of customer scripts' D1 bindings in the emulator (d1.mjs).
// - `Tail` receives the trace events of a Worker that names tail consumers (Worker Loader
//   `tails`): it prints one `wfp-tail {...}` line per event (what `wfp-reconcile dev`
//   shows) and runs the tail Worker's `tail()` handler with the events, as Cloudflare does.
// Code is read from the emulator's /__emulator endpoints; a cheap state counter tells when
// anything changed, so uploads go live without restarting workerd.
import { WorkerEntrypoint } from "cloudflare:workers";
import {
  D1_ENTRY_MODULE,
  D1_ENV_PREFIX,
  D1_FACADE_MODULE,
  FACADE_SOURCE,
  d1Bindings,
  d1Entry,
} from "./d1.mjs";

// `D1Bridge` serves the D1 bindings of customer scripts (see d1.mjs).
export { D1Bridge } from "./d1.mjs";
// `KvBridge` serves the dispatcher's Workers KV binding (routing_data: store, kv.mjs).
export { KvBridge } from "./kv.mjs";
import { KV_ENV_PREFIX, KV_FACADE_SOURCE, kvBindings } from "./kv.mjs";
// `AssetsBinding` is the ASSETS binding of customer scripts with static assets (assets.mjs).
export { AssetsBinding } from "./assets.mjs";
import { routeWithAssets } from "./assets.mjs";

const STATE_TTL_MS = 250;
const DISPATCH_HEADER = "x-wfp-runtime-dispatch";
let state = { at: 0, version: null, pending: null };
const records = new Map(); // "<kind>:<path>" -> { version, rec }

// GETs are idempotent; a pooled connection the emulator already closed is worth a retry.
async function emulatorGet(env, path) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(env.EMULATOR_URL + path, {
        headers: { accept: "application/json", "x-wfp-emulator-secret": env.EMULATOR_SECRET },
      });
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}

async function stateVersion(env) {
  const now = Date.now();
  if (state.version !== null && now - state.at < STATE_TTL_MS) return state.version;
  if (!state.pending) {
    state.pending = (async () => {
      try {
        const res = await emulatorGet(env, "/__emulator/state");
        if (!res.ok) throw new Error(`local API emulator answered ${res.status} for its state`);
        const body = await res.json();
        state = { at: Date.now(), version: body.version, pending: null };
      } catch (error) {
        state.pending = null;
        throw error;
      }
      return state.version;
    })();
  }
  return state.pending;
}

async function loadRecord(env, path) {
  const version = await stateVersion(env);
  const hit = records.get(path);
  if (hit && hit.version === version) return hit.rec;
  const res = await emulatorGet(env, path);
  let rec = null;
  if (res.ok) rec = await res.json();
  else if (res.status !== 404) throw new Error(`local API emulator answered ${res.status}`);
  else await res.body?.cancel();
  records.set(path, { version, rec });
  return rec;
}

const seg = encodeURIComponent;
const bundlePath = (env, namespace, name) =>
  `/__emulator/bundles/${seg(env.ACCOUNT_ID)}/${seg(namespace)}/${seg(name)}`;
const workerPath = (env, name) => `/__emulator/workers/${seg(env.ACCOUNT_ID)}/${seg(name)}`;

function stableKey(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return JSON.stringify(value ?? null);
  }
  return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + stableKey(value[k])).join(",") + "}";
}

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function decodeBase64(b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

// Upload content types (Cloudflare's multipart API) -> Worker Loader module kinds.
function toLoaderModule(module) {
  const bytes = decodeBase64(module.content_b64);
  const text = () => new TextDecoder().decode(bytes);
  const type = (module.content_type || "").split(";")[0].trim();
  switch (type) {
    case "application/javascript+module":
    case "text/javascript+module":
      return { js: text() };
    case "application/javascript":
    case "text/javascript":
      return { cjs: text() };
    case "text/plain":
      return { text: text() };
    case "application/json":
      return { json: JSON.parse(text()) };
    case "application/wasm":
      return { wasm: bytes.buffer };
    case "text/x-python":
      return { py: text() };
    case "application/source-map":
      return null;
    default:
      return { data: bytes.buffer };
  }
}

function compatDate(env, rec) {
  const wanted = rec.compatibility_date || env.DEFAULT_COMPAT_DATE;
  // workerd refuses dates newer than its own build.
  return wanted > env.MAX_COMPAT_DATE ? env.MAX_COMPAT_DATE : wanted;
}

function plainEnv(rec) {
  const out = {};
  for (const b of rec.bindings || []) {
    if (b.type === "plain_text" || b.type === "secret_text") out[b.name] = b.text;
    else if (b.type === "json") out[b.name] = b.json;
  }
  return out;
}

// Request headers that carry credentials never reach a tail Worker or the log.
const REDACTED_HEADERS = new Set([
  "authorization",
  "cookie",
  "set-cookie",
  "x-customer-token",
  "x-admin-token",
  "cf-access-jwt-assertion",
  "cf-access-client-secret",
]);

function redactUrl(raw) {
  try {
    const url = new URL(raw);
    for (const key of [...url.searchParams.keys()]) {
      if (/token|secret|password|key/i.test(key)) url.searchParams.set(key, "REDACTED");
    }
    return url.href;
  } catch {
    return String(raw);
  }
}

function plainTraceEvent(item, who) {
  const event = item.event ?? null;
  let plainEvent = null;
  if (event && event.request) {
    const headers = {};
    for (const [k, v] of Object.entries(event.request.headers || {})) {
      headers[k] = REDACTED_HEADERS.has(k.toLowerCase()) ? "REDACTED" : v;
    }
    plainEvent = {
      request: { url: redactUrl(event.request.url), method: event.request.method, headers },
      response: event.response ? { status: event.response.status } : undefined,
    };
  } else if (event) {
    plainEvent = JSON.parse(JSON.stringify(event));
  }
  // workerd does not know which script a dynamically loaded Worker is; the runtime does.
  return {
    scriptName: who.script,
    dispatchNamespace: who.namespace ?? null,
    scriptTags: who.tags ?? [],
    outcome: item.outcome,
    cpuTime: item.cpuTime ?? 0,
    wallTime: item.wallTime ?? 0,
    eventTimestamp: item.eventTimestamp ?? Date.now(),
    truncated: Boolean(item.truncated),
    exceptions: (item.exceptions || []).map((e) => ({
      name: e.name,
      message: e.message,
      timestamp: e.timestamp,
    })),
    logs: (item.logs || []).map((l) => ({
      level: l.level,
      message: JSON.parse(JSON.stringify(l.message ?? [])),
      timestamp: l.timestamp,
    })),
    event: plainEvent,
  };
}

// The tail Worker's tail() behind a fetch(), so plain JSON crosses the isolate boundary.
function tailEntry(mainModule) {
  return `
import * as main from ${JSON.stringify("./" + mainModule)};
export default {
  async fetch(request, env, ctx) {
    const handler = main.default;
    if (!handler || typeof handler.tail !== "function") {
      return new Response("this Worker has no tail() handler", { status: 501 });
    }
    await handler.tail(await request.json(), env, ctx);
    return new Response(null, { status: 204 });
  },
};
`;
}

function tailStubs(ctx, rec, namespace) {
  const consumers = Array.isArray(rec.tail_consumers) ? rec.tail_consumers : [];
  return consumers
    .filter((c) => c && typeof c.service === "string")
    .map((c) =>
      ctx.exports.Tail({
        props: { service: c.service, script: rec.name, namespace, tags: rec.tags ?? [] },
      }),
    );
}

function workerCode(env, rec, extra = {}) {
  const modules = {};
  for (const m of rec.modules) {
    const converted = toLoaderModule(m);
    if (converted) modules[m.name] = converted;
  }
  return {
    compatibilityDate: compatDate(env, rec),
    compatibilityFlags: rec.compatibility_flags || [],
    mainModule: rec.main_module,
    modules,
    env: plainEnv(rec),
    ...extra,
  };
}

// Gives the dispatch Worker real `env.<BINDING>.get(name, args, options)` objects: get() is
// synchronous and never throws, errors surface on fetch(), as on Cloudflare.
function dispatcherEntry(mainModule, namespaceBindings, kvNames = []) {
  return `
import * as main from ${JSON.stringify("./" + mainModule)};
const NAMES = ${JSON.stringify(namespaceBindings)};
const KV_NAMES = ${JSON.stringify(kvNames)};
${KV_FACADE_SOURCE}
function namespace(stub) {
  return {
    get(name, args = {}, options = {}) {
      return {
        fetch(input, init) {
          // A fetch, not an RPC call: RPC cannot carry the WebSocket of a 101 response.
          const request = new Request(input, init);
          const headers = new Headers(request.headers);
          headers.set(${JSON.stringify(DISPATCH_HEADER)}, JSON.stringify({ name: String(name), options: options ?? {} }));
          return stub.fetch(new Request(request, { headers }));
        },
        connect() {
          throw new Error("connect() is not available in the local runtime");
        },
      };
    },
  };
}
const wrapped = new WeakMap();
function wrapEnv(env) {
  let out = wrapped.get(env);
  if (!out) {
    out = { ...env };
    for (const n of NAMES) {
      out[n] = namespace(env["__wfp_ns_" + n]);
      delete out["__wfp_ns_" + n];
    }
    for (const n of KV_NAMES) {
      out[n] = kvNamespace(env[${JSON.stringify(KV_ENV_PREFIX)} + n]);
      delete out[${JSON.stringify(KV_ENV_PREFIX)} + n];
    }
    wrapped.set(env, out);
  }
  return out;
}
const handler = main.default;
export default {
  fetch(request, env, ctx) {
    return handler.fetch(request, wrapEnv(env), ctx);
  },
};
`;
}

function jsonError(status, error, message) {
  return Response.json({ error, message }, { status, headers: { "cache-control": "no-store" } });
}

async function serveDispatcher(request, env, ctx) {
  const rec = await loadRecord(env, workerPath(env, env.DISPATCHER_NAME));
  if (!rec) {
    return jsonError(
      503,
      "dispatcher_not_deployed",
      `The dispatch Worker '${env.DISPATCHER_NAME}' is not deployed to the local API yet.`,
    );
  }
  const nsBindings = (rec.bindings || []).filter((b) => b.type === "dispatch_namespace");
  const kv = kvBindings(rec);
  // The etag covers modules only: another KV namespace must load a new isolate too.
  const kvKey = kv.map((b) => `${b.name}=${b.id}`).join(",");
  const worker = env.LOADER.get(`dispatcher:${rec.name}@${rec.etag}#${kvKey}`, async () => {
    const tails = tailStubs(ctx, rec, null);
    const code = workerCode(env, rec, tails.length ? { tails } : {});
    for (const b of nsBindings) {
      code.env["__wfp_ns_" + b.name] = ctx.exports.Namespace({
        props: { namespace: b.namespace, outbound: b.outbound ?? null },
      });
    }
    for (const b of kv) {
      code.env[KV_ENV_PREFIX + b.name] = ctx.exports.KvBridge({ props: { namespace: b.id } });
    }
    code.modules["__wfp_entry.mjs"] = {
      js: dispatcherEntry(rec.main_module, nsBindings.map((b) => b.name), kv.map((b) => b.name)),
    };
    code.mainModule = "__wfp_entry.mjs";
    return code;
  });
  return worker.getEntrypoint().fetch(request);
}

// Runs customer scripts of one dispatch_namespace binding.
export class Namespace extends WorkerEntrypoint {
  // The dispatcher's get(name).fetch(): the script and options travel in a header that the
  // dispatcher's own header hygiene keeps eyeballs from sending (x-wfp-*), removed here.
  async fetch(request) {
    const spec = JSON.parse(request.headers.get(DISPATCH_HEADER) ?? "null");
    if (!spec) return jsonError(400, "bad_request", "Not a dispatch.");
    const headers = new Headers(request.headers);
    headers.delete(DISPATCH_HEADER);
    return this.dispatch(spec.name, spec.options, new Request(request, { headers }));
  }

  async dispatch(name, options, request) {
    const { namespace, outbound } = this.ctx.props;
    const rec = await loadRecord(this.env, bundlePath(this.env, namespace, name));
    if (!rec) throw new Error(`Worker not found: '${name}' in dispatch namespace '${namespace}'`);
    const service = outbound?.worker?.service ?? null;
    const declared = (outbound?.params ?? []).map((p) => (typeof p === "string" ? p : p.name));
    const given = options?.outbound ?? {};
    const params = {};
    for (const p of declared) if (Object.hasOwn(given, p)) params[p] = given[p];
    const limits = options?.limits;
    const d1 = d1Bindings(rec);
    // The etag covers modules only: a changed D1 binding, variable or secret must load a
    // new isolate too. Hashed, so no secret value is ever part of an isolate id.
    const d1Key = stableKey(Object.fromEntries(d1.map((b) => [b.name, b.id])));
    const assetsKey = stableKey(rec.assets?.config ?? null);
    const envKey = await sha256Hex(stableKey(plainEnv(rec)) + "#" + d1Key + "#" + assetsKey);
    const id = `ns:${namespace}/${name}@${rec.etag}#${service ?? ""}#${stableKey(params)}#${envKey}`;
    const load = () => this.env.LOADER.get(id, async () => {
      const extra = service
        ? { globalOutbound: this.ctx.exports.Outbound({ props: { service, params } }) }
        : {};
      // Passed on like Cloudflare does; open-source workerd does not enforce them.
      if (limits) extra.limits = limits;
      const tails = tailStubs(this.ctx, rec, namespace);
      if (tails.length) extra.tails = tails;
      const code = workerCode(this.env, rec, extra);
      if (d1.length) {
        for (const b of d1) {
          code.env[D1_ENV_PREFIX + b.name] = this.ctx.exports.D1Bridge({ props: { database: b.id } });
        }
        code.modules[D1_FACADE_MODULE] = { js: FACADE_SOURCE };
        code.modules[D1_ENTRY_MODULE] = { js: d1Entry(rec.main_module, d1.map((b) => b.name)) };
        code.mainModule = D1_ENTRY_MODULE;
      }
      for (const b of rec.bindings || []) {
        if (b.type === "assets" && rec.assets) {
          code.env[b.name] = this.ctx.exports.AssetsBinding({ props: { namespace, site: rec.assets } });
        }
      }
      return code;
    });
    const run = (req) => load().getEntrypoint().fetch(req);
    // A script with static assets: Cloudflare decides between its assets and its code.
    if (rec.assets) return routeWithAssets(this.env, namespace, rec, request, run);
    return run(request);
  }
}

export class Outbound extends WorkerEntrypoint {
  async fetch(request) {
    const { service, params } = this.ctx.props;
    const rec = await loadRecord(this.env, workerPath(this.env, service));
    if (!rec) throw new Error(`Outbound Worker '${service}' is not deployed to the local API.`);
    const id = `outbound:${service}@${rec.etag}#${stableKey(params)}`;
    const worker = this.env.LOADER.get(id, async () => {
      const code = workerCode(this.env, rec);
      Object.assign(code.env, params);
      return code;
    });
    return worker.getEntrypoint().fetch(request);
  }
}

export class Tail extends WorkerEntrypoint {
  async tail(events) {
    const { service, script, namespace, tags } = this.ctx.props;
    const plain = events.map((item) => plainTraceEvent(item, { script, namespace, tags }));
    for (const e of plain) {
      console.log(
        "wfp-tail " +
          JSON.stringify({
            consumer: service,
            at: e.eventTimestamp,
            script: e.scriptName,
            namespace: e.dispatchNamespace,
            tags: e.scriptTags,
            outcome: e.outcome,
            cpu_ms: e.cpuTime,
            wall_ms: e.wallTime,
            status: e.event?.response?.status ?? null,
            method: e.event?.request?.method ?? null,
            url: e.event?.request?.url ?? null,
            exceptions: e.exceptions.map((x) => `${x.name}: ${x.message}`),
          }),
      );
    }
    const rec = await loadRecord(this.env, workerPath(this.env, service));
    if (!rec) {
      console.error(`wfp runtime: tail Worker '${service}' is not deployed to the local API`);
      return;
    }
    const worker = this.env.LOADER.get(`tail:${service}@${rec.etag}`, async () => {
      const code = workerCode(this.env, rec);
      code.modules["__wfp_tail_entry.mjs"] = { js: tailEntry(rec.main_module) };
      code.mainModule = "__wfp_tail_entry.mjs";
      return code;
    });
    const res = await worker.getEntrypoint().fetch("http://tail.internal/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(plain),
    });
    if (!res.ok) {
      console.error(`wfp runtime: tail Worker '${service}' failed (${res.status}): ${await res.text()}`);
    } else {
      await res.body?.cancel();
    }
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (env.DIRECT_ROUTE && url.pathname.startsWith("/__wfp_direct/")) {
      // Benchmark aid: a customer script without the dispatcher in front, same runtime.
      const [, , namespace, name] = url.pathname.split("/");
      return ctx.exports.Namespace({ props: { namespace, outbound: null } }).dispatch(name, {}, request);
    }
    try {
      return await serveDispatcher(request, env, ctx);
    } catch (error) {
      console.error(`wfp runtime: ${error && error.message}`);
      return jsonError(502, "runtime_error", "The local runtime could not run the dispatch Worker.");
    }
  },
};
