// The pre-flight Worker (runs inside workerd, started by preflight-launcher.mjs).
//
// POST /check with {"workers": [...], "concurrency": N} loads every bundle with workerd's
// Worker Loader, as Cloudflare loads an upload to validate it, and answers one result per
// Worker: {"id", "ok", "stage", "message", "ms", "handlers"}. A bundle's main module is
// wrapped by a probe module that re-exports everything (so workerd checks the named
// exports exactly as for the real main module) and names the default export's handlers.
// No bundle ever reaches the network: globalOutbound is null, bindings are stubs.
import { WorkerEntrypoint } from "cloudflare:workers";

const PROBE_MODULE = "__wfp_preflight_probe.mjs";
const HANDLERS = ["fetch", "tail", "trace", "scheduled", "queue", "email", "alarm", "test"];
const STARTUP_FAILED = "Failed to start Worker:";

function probeSource(mainModule) {
  const spec = JSON.stringify("./" + mainModule);
  return `
import { WorkerEntrypoint } from "cloudflare:workers";
import * as main from ${spec};
export * from ${spec};
export class WfpPreflightProbe extends WorkerEntrypoint {
  probe() {
    const entry = main.default;
    const target = typeof entry === "function" ? entry.prototype : entry;
    const handlers = [];
    if (target) {
      for (const name of ${JSON.stringify(HANDLERS)}) {
        if (typeof target[name] === "function") handlers.push(name);
      }
    }
    return { hasDefault: entry !== undefined, handlers };
  }
}
`;
}

function decodeBase64(b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

// Upload content types (Cloudflare's multipart API) -> Worker Loader module kinds, the
// same mapping as runtime-worker.mjs.
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

// Bindings as Cloudflare provides them: values for vars, an object for everything else.
// The objects are RPC stubs that refuse every call: pre-flight only loads the code.
function bindingEnv(ctx, bindings) {
  const env = {};
  for (const b of bindings || []) {
    if (b.type === "plain_text" || b.type === "secret_text") env[b.name] = b.text ?? "";
    else if (b.type === "json") env[b.name] = b.json;
    else env[b.name] = ctx.exports.BindingStub({ props: { name: b.name, type: b.type } });
  }
  return env;
}

function workerCode(ctx, spec) {
  const modules = Object.create(null);
  for (const m of spec.modules) {
    const converted = toLoaderModule(m);
    if (converted) modules[m.name] = converted;
  }
  // A name no module of the bundle has: the probe must never stand in for the customer's
  // code (a module named like it would go unchecked, and apply uploads it). No prototype:
  // a module may be called "__proto__".
  let probe = PROBE_MODULE;
  while (Object.hasOwn(modules, probe)) probe = "_" + probe;
  modules[probe] = { js: probeSource(spec.main_module) };
  return {
    compatibilityDate: spec.compatibility_date,
    compatibilityFlags: spec.compatibility_flags || [],
    mainModule: probe,
    modules,
    env: bindingEnv(ctx, spec.bindings),
    globalOutbound: null,
  };
}

let generation = 0;

async function checkOne(env, ctx, spec) {
  // A fresh isolate every time: a cached one would hide the start-up being measured.
  const id = `preflight:${spec.id}#${++generation}`;
  const started = Date.now();
  try {
    const worker = env.LOADER.get(id, () => workerCode(ctx, spec));
    const probe = await worker.getEntrypoint("WfpPreflightProbe").probe();
    // The probe ran in the customer's isolate: take only its two fields (the Python side
    // checks their types), never let them stand in for ours.
    const ms = Date.now() - started;
    return { id: spec.id, ok: true, ms, hasDefault: probe.hasDefault, handlers: probe.handlers };
  } catch (error) {
    const message = String((error && error.message) || error);
    const startup = message.startsWith(STARTUP_FAILED);
    return {
      id: spec.id,
      ok: false,
      stage: startup ? "startup" : "load",
      message: startup ? message.slice(STARTUP_FAILED.length).trim() : message,
      ms: Date.now() - started,
    };
  }
}

async function checkAll(env, ctx, specs, concurrency) {
  const results = new Array(specs.length);
  let next = 0;
  async function lane() {
    while (next < specs.length) {
      const index = next++;
      results[index] = await checkOne(env, ctx, specs[index]);
    }
  }
  const lanes = Math.max(1, Math.min(concurrency || 1, specs.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}

export class BindingStub extends WorkerEntrypoint {
  fetch() {
    const { name, type } = this.ctx.props;
    return new Response(`pre-flight: binding ${name} (${type}) is a stub`, { status: 503 });
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/check") {
      const body = await request.json();
      const results = await checkAll(env, ctx, body.workers || [], body.concurrency);
      return Response.json({ results });
    }
    if (url.pathname === "/health") return Response.json({ ok: true });
    return new Response("not found", { status: 404 });
  },
};
