// Measures the generated dispatch Worker in workerd (through miniflare) at fleet scale.
// Started by scripts/bench_dispatcher.py --fleet with a JSON config in WFP_BENCH_CONFIG:
//   {installDir, compatibilityDate, requests, runs, parses, cases: [{label, dir, probe}]}
// where each dir holds the dispatcher's uploaded modules. For each case it reports the time
// workerd needs to start the Worker (module evaluation, which parses the manifest) and the
// latency of dispatched requests. The namespace is a stand-in inside the same isolate that
// refuses a call without limits, so only the dispatcher's own work is timed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const config = JSON.parse(process.env.WFP_BENCH_CONFIG);
const require = createRequire(path.join(config.installDir, "package.json"));
const { Miniflare, Log, LogLevel } = await import(pathToFileURL(require.resolve("miniflare")).href);

// Worker code cannot time itself (workerd's clock stands still while code runs), so the
// manifest parse is timed from outside: a request that parses it again, minus one that
// does not.
const ENTRY = `
import dispatcher from "./dispatcher.mjs";
import manifestText from "./wfp-manifest.json";
import { parseManifest } from "./dispatcher-core.mjs";
const worker = {
  fetch: async () => new Response("ok"),
};
const namespace = {
  get(name, args, options) {
    if (!options || !options.limits) throw new Error("dispatched without limits");
    return worker;
  },
};
const env = new Proxy({}, { get: (_, key) => (String(key).startsWith("DISPATCHER") ? namespace : undefined) });
export default {
  fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/noop") return new Response("0");
    if (url.pathname === "/__bench/parse") {
      const manifest = parseManifest(manifestText);
      return new Response(String(Object.keys(manifest.scripts).length));
    }
    return dispatcher.fetch(request, env);
  },
};
`;

// The store design (routing_data: store): the generated Worker as uploaded, whose small
// manifest names the KV binding; one record per script in miniflare's KV (the ones the
// run asks for), read on a cache miss and kept in the isolate for the record TTL.
const KV_ENTRY = `
import dispatcher from "./dispatcher.mjs";
import manifestText from "./wfp-manifest.json";
import { parseManifest } from "./dispatcher-core.mjs";
const worker = { fetch: async () => new Response("ok") };
const namespace = {
  get(name, args, options) {
    if (!options || !options.limits) throw new Error("dispatched without limits");
    return worker;
  },
};
export default {
  fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/noop") return new Response("0");
    if (url.pathname === "/__bench/parse") {
      return new Response(String(Object.keys(parseManifest(manifestText)).length));
    }
    return dispatcher.fetch(request, {
      DISPATCHER: namespace,
      DISPATCHER_EGRESS: namespace,
      ROUTES: env.ROUTES,
    });
  },
};
`;

function kvModulesOf(dir) {
  const js = (name) => ({ type: "ESModule", path: path.join(dir, name), contents: readFileSync(path.join(dir, name), "utf8") });
  return [
    { type: "ESModule", path: path.join(dir, "bench-kv-entry.mjs"), contents: KV_ENTRY },
    js("dispatcher.mjs"),
    js("dispatcher-core.mjs"),
    js("status-page.mjs"),
    { type: "Text", path: path.join(dir, "wfp-manifest.json"), contents: readFileSync(path.join(dir, "wfp-manifest.json"), "utf8") },
  ];
}

function modulesOf(dir) {
  const js = (name) => ({ type: "ESModule", path: path.join(dir, name), contents: readFileSync(path.join(dir, name), "utf8") });
  return [
    { type: "ESModule", path: path.join(dir, "bench-entry.mjs"), contents: ENTRY },
    js("dispatcher.mjs"),
    js("dispatcher-core.mjs"),
    js("status-page.mjs"),
    { type: "Text", path: path.join(dir, "wfp-manifest.json"), contents: readFileSync(path.join(dir, "wfp-manifest.json"), "utf8") },
  ];
}

const percentile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function start(c) {
  const begun = performance.now();
  const kv = c.kind === "kv";
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    log: new Log(LogLevel.WARN),
    modules: kv ? kvModulesOf(c.dir) : modulesOf(c.dir),
    modulesRoot: c.dir,
    compatibilityDate: config.compatibilityDate,
    ...(kv ? { kvNamespaces: ["ROUTES"], kvPersist: false } : {}),
  });
  const url = await mf.ready;
  const ms = performance.now() - begun;
  if (kv) {
    const store = await mf.getKVNamespace("ROUTES");
    const lines = readFileSync(path.join(c.dir, "records.jsonl"), "utf8").split("\n").filter(Boolean);
    for (const line of lines) {
      const { key, value } = JSON.parse(line);
      await store.put(key, typeof value === "string" ? value : JSON.stringify(value));
    }
  }
  return { mf, url, ms };
}

// Requests to scripts not seen yet by this isolate: each one is a store read.
async function coldLookups(url, names) {
  const out = [];
  for (const name of names) {
    const t = performance.now();
    const res = await fetch(new URL(`/${name}/`, url).href);
    await res.text();
    if (res.status !== 200) throw new Error(`/${name}/ answered ${res.status}`);
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

const results = [];
for (const c of config.cases) {
  const starts = [];
  let latencies = [];
  let firstMs = null;
  let parseMs = null;
  let coldP50 = null;
  for (let run = 0; run < config.runs; run++) {
    const { mf, url, ms } = await start(c);
    starts.push(ms);
    try {
      const target = new URL(`/${c.probe}/`, url).href;
      const t0 = performance.now();
      const first = await fetch(target);
      await first.text();
      if (first.status !== 200) throw new Error(`${c.label}: ${target} answered ${first.status}`);
      if (run === 0) firstMs = performance.now() - t0;
      if (run === config.runs - 1) {
        for (let i = 0; i < 100; i++) await (await fetch(target)).text();
        for (let i = 0; i < config.requests; i++) {
          const t = performance.now();
          const res = await fetch(target);
          await res.text();
          latencies.push(performance.now() - t);
          if (res.status !== 200) throw new Error(`${c.label}: answered ${res.status}`);
        }
        const timed = async (p) => {
          const t = performance.now();
          await (await fetch(new URL(p, url).href)).text();
          return performance.now() - t;
        };
        const noop = [];
        const parse = [];
        for (let i = 0; i < config.parses; i++) {
          noop.push(await timed("/__bench/noop"));
          parse.push(await timed("/__bench/parse"));
        }
        parseMs = median(parse) - median(noop);
        const cold = await coldLookups(url, c.cold || []);
        if (cold.length) coldP50 = percentile(cold, 0.5);
      }
    } finally {
      await mf.dispose();
    }
  }
  latencies.sort((a, b) => a - b);
  results.push({
    label: c.label,
    start_ms: Math.round(median(starts)),
    start_runs_ms: starts.map(Math.round),
    first_request_ms: Number(firstMs.toFixed(2)),
    parse_ms: Number(parseMs.toFixed(2)),
    p50_ms: Number(percentile(latencies, 0.5).toFixed(3)),
    cold_lookup_p50_ms: coldP50 === null ? null : Number(coldP50.toFixed(3)),
    p99_ms: Number(percentile(latencies, 0.99).toFixed(3)),
    requests: latencies.length,
  });
}
process.stdout.write(JSON.stringify(results) + "\n");
