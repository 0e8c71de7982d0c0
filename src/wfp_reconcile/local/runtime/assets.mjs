// Static assets of customer scripts in the local runtime, as Cloudflare serves them.
//
// What it follows (docs/assets.md): the routing decision diagram of cloudflare-docs
// (partials/workers/static_asset_routing_reference), the html_handling tables
// (static-assets/routing/advanced/html-handling), single-page-application and
// navigation requests (assets_navigation_prefers_asset_serving, on from 2025-04-01),
// and run_worker_first (static-assets/binding, routing/worker-script).
//
// The site is the manifest stored with the script in the emulator ({"/path": {hash, size}});
// bytes come from the emulator by hash. Paths are matched exactly as the request reaching
// the customer script has them: with path routing the manifest's paths already carry the
// /<script> prefix (wfp_reconcile.assets.desired), so nothing here knows about prefixes.
import { WorkerEntrypoint } from "cloudflare:workers";

const NAVIGATION_DATE = "2025-04-01";
const BLOB_CACHE_LIMIT = 512;
const blobs = new Map(); // "<namespace>/<hash>" -> { type, bytes }

function has(manifest, path) {
  return Object.hasOwn(manifest, path);
}

function decodePath(pathname) {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

function stripSuffix(path, suffix) {
  return path.endsWith(suffix) ? path.slice(0, -suffix.length) : null;
}

// -> { asset: "/path" } | { redirect: "/path" } | null, per html_handling.
export function resolveAsset(manifest, path, handling) {
  if (has(manifest, path) && !path.endsWith(".html")) return { asset: path };
  if (handling === "none") return has(manifest, path) ? { asset: path } : null;
  if (handling === "auto-trailing-slash" || !handling) return resolveAuto(manifest, path);
  // force/drop: one canonical URL per page, the file or the folder index behind it.
  let base = path;
  for (const suffix of ["/index.html", "/index", ".html", "/"]) {
    const stripped = stripSuffix(path, suffix);
    if (stripped !== null) {
      base = stripped;
      break;
    }
  }
  const folder = base + "/index.html";
  const file = base + ".html";
  const target = has(manifest, folder) ? folder : has(manifest, file) && base !== "" ? file : null;
  if (!target) return null;
  const canonical = handling === "force-trailing-slash" || base === "" ? base + "/" : base;
  return path === canonical ? { asset: target } : { redirect: canonical };
}

function resolveAuto(manifest, path) {
  if (path.endsWith("/")) {
    if (has(manifest, path + "index.html")) return { asset: path + "index.html" };
    const base = path.slice(0, -1);
    return base && has(manifest, base + ".html") ? { redirect: base } : null;
  }
  for (const suffix of ["/index.html", "/index"]) {
    const base = stripSuffix(path, suffix);
    if (base !== null) {
      if (has(manifest, base + "/index.html")) return { redirect: base || "/" };
      if (base && has(manifest, base + ".html")) return { redirect: base };
      return null;
    }
  }
  const base = stripSuffix(path, ".html");
  if (base !== null) {
    if (has(manifest, path) || has(manifest, base + "/index.html")) return { redirect: base || "/" };
    return null;
  }
  if (has(manifest, path + ".html")) return { asset: path + ".html" };
  if (has(manifest, path + "/index.html")) return { redirect: path + "/" };
  return null;
}

// not_found_handling -> { asset, status } | null
export function notFoundAsset(manifest, path, handling) {
  if (handling === "single-page-application") {
    return has(manifest, "/index.html") ? { asset: "/index.html", status: 200 } : null;
  }
  if (handling === "404-page") {
    let dir = path.slice(0, path.lastIndexOf("/"));
    for (;;) {
      if (has(manifest, dir + "/404.html")) return { asset: dir + "/404.html", status: 404 };
      if (dir === "") return null;
      dir = dir.slice(0, dir.lastIndexOf("/"));
    }
  }
  return null;
}

function globToRegExp(rule) {
  const escaped = rule.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp("^" + escaped + "$");
}

// true (run the Worker), false (serve assets), or null (no rule says).
export function workerFirst(config, path) {
  const rules = config.run_worker_first;
  if (rules === true) return true;
  if (!Array.isArray(rules)) return null;
  if (rules.some((r) => r.startsWith("!/") && globToRegExp(r.slice(1)).test(path))) return false;
  if (rules.some((r) => r.startsWith("/") && globToRegExp(r).test(path))) return true;
  return null;
}

async function blob(env, namespace, hash) {
  const key = `${namespace}/${hash}`;
  const hit = blobs.get(key);
  if (hit) return hit;
  const path = `/__emulator/assets/${encodeURIComponent(env.ACCOUNT_ID)}/${encodeURIComponent(namespace)}/${hash}`;
  const res = await fetch(env.EMULATOR_URL + path, {
    headers: { "x-wfp-emulator-secret": env.EMULATOR_SECRET },
  });
  if (!res.ok) throw new Error(`local API emulator has no asset ${hash} (${res.status})`);
  const found = { type: res.headers.get("content-type"), bytes: await res.arrayBuffer() };
  if (blobs.size >= BLOB_CACHE_LIMIT) blobs.delete(blobs.keys().next().value);
  blobs.set(key, found);
  return found;
}

async function assetResponse(env, namespace, site, path, status, request) {
  const entry = site.manifest[path];
  const { type, bytes } = await blob(env, namespace, entry.hash);
  const headers = new Headers({
    etag: `"${entry.hash}"`,
    "cache-control": "public, max-age=0, must-revalidate",
  });
  // "application/null" at upload time means: serve without a Content-Type.
  if (type && type !== "application/null") headers.set("content-type", type);
  if (status === 200 && request.headers.get("if-none-match") === `"${entry.hash}"`) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === "HEAD" ? null : bytes, { status, headers });
}

function redirect(url, target) {
  return new Response(null, { status: 307, headers: { location: target + url.search } });
}

// The "asset serving" box of Cloudflare's diagram: a matching asset, a redirect to the
// canonical URL, or not_found_handling.
export async function serveAsset(env, namespace, site, request) {
  const url = new URL(request.url);
  const path = decodePath(url.pathname);
  const config = site.config || {};
  if (request.method === "GET" || request.method === "HEAD") {
    const found = resolveAsset(site.manifest, path, config.html_handling);
    if (found?.redirect) return redirect(url, found.redirect);
    if (found?.asset) return assetResponse(env, namespace, site, found.asset, 200, request);
    const fallback = notFoundAsset(site.manifest, path, config.not_found_handling);
    if (fallback) return assetResponse(env, namespace, site, fallback.asset, fallback.status, request);
  }
  return new Response(null, { status: 404 });
}

// The whole decision for a request to a script with assets (the diagram, top to bottom).
export async function routeWithAssets(env, namespace, rec, request, runWorker) {
  const site = rec.assets;
  const config = site.config || {};
  const url = new URL(request.url);
  const path = decodePath(url.pathname);
  const first = workerFirst(config, path);
  if (first === true) return runWorker(request);
  if (first === false) return serveAsset(env, namespace, site, request);
  if (request.method === "GET" || request.method === "HEAD") {
    if (resolveAsset(site.manifest, path, config.html_handling)) {
      return serveAsset(env, namespace, site, request);
    }
    const navigation =
      request.headers.get("sec-fetch-mode") === "navigate" &&
      !Array.isArray(config.run_worker_first) &&
      (config.not_found_handling ?? "none") !== "none" &&
      (rec.compatibility_date ?? "") >= NAVIGATION_DATE &&
      !(rec.compatibility_flags ?? []).includes("assets_navigation_has_no_effect");
    if (navigation) return serveAsset(env, namespace, site, request);
  }
  return runWorker(request);
}

// The ASSETS binding of a customer script: env.ASSETS.fetch(request) serves its site.
export class AssetsBinding extends WorkerEntrypoint {
  async fetch(request) {
    const { namespace, site } = this.ctx.props;
    return serveAsset(this.env, namespace, site, request);
  }
}
