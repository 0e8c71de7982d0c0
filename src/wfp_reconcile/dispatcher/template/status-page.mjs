// The platform status page at /_platform/: an HTML overview of what the manifest says is
// deployed, for platform operators. Token hashes are never rendered.
//
// Authentication: the admin token, whose SHA-256 is in the manifest, is accepted as
// `Authorization: Bearer <token>`, `X-Admin-Token: <token>`, or the `wfp_admin` cookie that
// `?token=<token>` sets (then redirects to a URL without the token). The cookie is only
// honoured for top-level page loads, so a customer script served from the same origin
// cannot read the page with fetch() or a frame.

const COOKIE = "wfp_admin";
const COOKIE_MAX_AGE = 8 * 3600;
const PAGE_PATHS = new Set(["/_platform", "/_platform/"]);

const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
};

const HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

export function isStatusPagePath(pathname) {
  return PAGE_PATHS.has(pathname) || pathname === "/_platform/logout";
}

function page(status, title, body, extraHeaders = {}) {
  const html =
    "<!doctype html>\n" +
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    "<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}" +
    "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;" +
    "text-align:left;vertical-align:top}th{background:#f4f4f4}code{font-size:12px}" +
    ".suspended{color:#a00}</style></head><body>" +
    body +
    "</body></html>\n";
  return new Response(html, { status, headers: { ...PAGE_HEADERS, ...extraHeaders } });
}

function cookieValue(header, name) {
  for (const part of (header || "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** The token a request presents, and how: {token, via} or null. */
export function presentedToken(request, url) {
  const auth = request.headers.get("authorization") || "";
  const bearer = /^Bearer\s+(.+)$/i.exec(auth);
  if (bearer) return { token: bearer[1].trim(), via: "header" };
  const header = request.headers.get("x-admin-token");
  if (header) return { token: header, via: "header" };
  const query = url.searchParams.get("token");
  if (query) return { token: query, via: "query" };
  const cookie = cookieValue(request.headers.get("cookie"), COOKIE);
  if (cookie) {
    const dest = request.headers.get("sec-fetch-dest");
    // Browsers label fetch() and frames; only a page load may use the cookie.
    if (dest && dest !== "document") return { token: null, via: "cookie-refused" };
    return { token: cookie, via: "cookie" };
  }
  return null;
}

function limitsText(limits) {
  const parts = [];
  if (limits && limits.cpuMs !== undefined) parts.push(`${limits.cpuMs} ms CPU`);
  if (limits && limits.subRequests !== undefined) parts.push(`${limits.subRequests} subrequests`);
  return parts.length ? parts.join(", ") : "platform default";
}

function outboundText(params) {
  if (!params) return "none";
  return Object.entries(params)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("|") : v}`)
    .join(", ");
}

function scriptHref(manifest, name) {
  if (manifest.routing.mode === "host" && manifest.routing.domain) {
    return `//${encodeURIComponent(name)}.${manifest.routing.domain}/`;
  }
  return `/${encodeURIComponent(name)}/`;
}

/** The page's HTML body for a manifest (exported for tests). */
export function renderStatusBody(manifest) {
  const customers = Object.entries(manifest.customers);
  const scripts = Object.entries(manifest.scripts);
  const out = [];
  out.push("<h1>Platform status</h1>");
  out.push(
    "<p>" +
      `Namespace <code>${escapeHtml(manifest.namespace)}</code>, ` +
      `deployed commit <code id="commit">${escapeHtml(manifest.commit || "(work tree)")}</code>, ` +
      `${customers.length} customers, ${scripts.length} scripts.</p>`,
  );
  out.push('<h2>Customers</h2><table id="customers"><thead><tr>');
  out.push(
    "<th>Id</th><th>Name</th><th>Plan</th><th>Status</th><th>Outbound Worker</th>" +
      "<th>Tail Workers</th><th>Logpush</th><th>Scripts</th></tr></thead><tbody>",
  );
  for (const [id, c] of customers) {
    const own = scripts.filter(([, s]) => s.customer === id).length;
    out.push(
      `<tr data-customer="${escapeHtml(id)}"><td><code>${escapeHtml(id)}</code></td>` +
        `<td>${escapeHtml(c.name)}</td><td>${escapeHtml(c.plan)}</td>` +
        (c.suspended ? '<td class="suspended">suspended</td>' : "<td>active</td>") +
        `<td>${escapeHtml(c.outbound_worker || "none")}</td>` +
        `<td>${escapeHtml((c.tail || []).join(", ") || "none")}</td>` +
        `<td>${c.logpush ? "on" : "off"}</td><td>${own}</td></tr>`,
    );
  }
  out.push("</tbody></table>");
  out.push('<h2>Scripts</h2><table id="scripts"><thead><tr>');
  out.push(
    "<th>Script</th><th>Customer</th><th>Access</th><th>Limits</th><th>Outbound</th>" +
      "<th>Fingerprint</th></tr></thead><tbody>",
  );
  for (const [name, s] of scripts) {
    out.push(
      `<tr data-script="${escapeHtml(name)}">` +
        `<td><a href="${escapeHtml(scriptHref(manifest, name))}">${escapeHtml(name)}</a></td>` +
        `<td>${escapeHtml(s.customer)}</td><td>${escapeHtml(s.access)}</td>` +
        `<td>${escapeHtml(limitsText(s.limits))}</td>` +
        `<td>${escapeHtml(outboundText(s.outbound))}</td>` +
        `<td><code>${escapeHtml(s.fingerprint || "not deployed")}</code></td></tr>`,
    );
  }
  out.push("</tbody></table>");
  out.push('<p><a href="/_platform/logout">Sign out</a></p>');
  return out.join("\n");
}

function cookieHeader(url, value, maxAge) {
  const secure = url.protocol === "https:" ? "; Secure" : "";
  return `${COOKIE}=${encodeURIComponent(value)}; Path=/_platform; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}

function refusal(status, message, extraHeaders = {}) {
  const headers = { ...extraHeaders };
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="wfp-platform"';
  return page(
    status,
    status === 401 ? "Admin token required" : "Admin token not valid",
    `<h1>${status === 401 ? "Admin token required" : "Admin token not valid"}</h1>` +
      `<p>${escapeHtml(message)}</p>`,
    headers,
  );
}

/**
 * Serves /_platform/ and /_platform/logout. `checkToken(token)` resolves to whether the
 * token's SHA-256 equals the configured hash (compared in constant time by the caller).
 */
export async function serveStatusPage(manifest, request, url, checkToken) {
  if (!manifest.admin_token_sha256) {
    return new Response(
      JSON.stringify({ error: "not_found", message: "Unknown platform endpoint." }) + "\n",
      { status: 404, headers: { "content-type": "application/json; charset=utf-8" } },
    );
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    return page(405, "Method not allowed", "<h1>Use GET.</h1>", { allow: "GET, HEAD" });
  }
  if (url.pathname === "/_platform/logout") {
    return page(200, "Signed out", "<h1>Signed out</h1>", {
      "set-cookie": cookieHeader(url, "", 0),
    });
  }
  const presented = presentedToken(request, url);
  if (presented === null || presented.via === "cookie-refused") {
    return refusal(
      401,
      "Open /_platform/?token=<admin token> in a browser, or send the token as " +
        "'Authorization: Bearer <token>' or 'X-Admin-Token'.",
    );
  }
  if (!(await checkToken(presented.token))) {
    const clear = presented.via === "cookie" ? { "set-cookie": cookieHeader(url, "", 0) } : {};
    return refusal(403, "The admin token is not valid.", clear);
  }
  if (presented.via === "query") {
    // Trade the token in the URL (history, logs) for an HttpOnly cookie at once.
    return new Response(null, {
      status: 303,
      headers: {
        location: "/_platform/",
        "set-cookie": cookieHeader(url, presented.token, COOKIE_MAX_AGE),
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
      },
    });
  }
  return page(200, "Platform status", renderStatusBody(manifest));
}
