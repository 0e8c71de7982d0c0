// The platform status page at /_platform/: an HTML overview of what the manifest says is
// deployed, for platform operators. Token hashes are never rendered.
//
// Authentication: the admin token, whose SHA-256 is in the manifest, is accepted as
// `Authorization: Bearer <token>`, `X-Admin-Token: <token>`, or the `wfp_admin` cookie that
// `?token=<token>` sets (then redirects to a URL without the token). The cookie is only
// honoured for top-level page loads the browser labels as such (Sec-Fetch-Dest: document,
// from the same origin or typed in), so a customer script served from the same origin
// cannot read the page with fetch() or a frame; Cross-Origin-Opener-Policy cuts a popup
// off from the customer page that opened it; Clear-Site-Data removes any service worker
// registered on the origin before the dispatcher refused them.
//
// Signing out is a POST from the status page itself: the request must come from the page's
// own origin (Origin, Sec-Fetch-Site) and carry a form field derived from the admin token,
// which only the rendered page holds, so neither another site, nor a sibling subdomain,
// nor a customer page on the same origin (path routing) can clear the admin's cookie.

export const ADMIN_COOKIE = "wfp_admin";
const COOKIE = ADMIN_COOKIE;
const COOKIE_MAX_AGE = 8 * 3600;
const PAGE_PATHS = new Set(["/_platform", "/_platform/"]);
const LOGOUT_PATH = "/_platform/logout";
const LOGOUT_FIELD = "signout";
// A sign-out form is a few dozen bytes; anything larger is not one.
const LOGOUT_MAX_BODY = 1024;

const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  // Drops service workers, caches and storage of the whole origin (all customers' too, in
  // path routing): a worker registered there could otherwise read every admin page load.
  "clear-site-data": '"storage"',
};

// Sec-Fetch-Site values of a page load the admin made: typed, bookmarked, or a link on
// the platform's own origin (the status page, the redirect after ?token=).
const COOKIE_SITES = new Set(["none", "same-origin"]);

const HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

export function isStatusPagePath(pathname) {
  return PAGE_PATHS.has(pathname) || pathname === LOGOUT_PATH;
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

/** Every value of cookie `name`: a planted duplicate (other Path) must not hide the real one. */
export function cookieValues(header, name) {
  const values = [];
  for (const part of (header || "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        const value = decodeURIComponent(part.slice(eq + 1).trim());
        if (value) values.push(value);
      } catch {
        // A malformed value is no token; the others may still be.
      }
    }
  }
  return values;
}

/** Whether the browser says this is a top-level page load the admin made. */
function cookieAllowed(request) {
  const dest = request.headers.get("sec-fetch-dest");
  const site = request.headers.get("sec-fetch-site");
  // Browsers label fetch(), frames and popups; a request without the labels is refused too,
  // because it cannot be told apart from one made by customer code.
  return dest === "document" && site !== null && COOKIE_SITES.has(site);
}

/**
 * The tokens a request presents, and how: {tokens, via} or null. Only the cookie can carry
 * more than one (one per Path); any of them may be the admin's.
 */
export function presentedToken(request, url) {
  const auth = request.headers.get("authorization") || "";
  const bearer = /^Bearer\s+(.+)$/i.exec(auth);
  if (bearer) return { tokens: [bearer[1].trim()], via: "header" };
  const header = request.headers.get("x-admin-token");
  if (header) return { tokens: [header], via: "header" };
  const query = url.searchParams.get("token");
  if (query) return { tokens: [query], via: "query" };
  const cookies = cookieValues(request.headers.get("cookie"), COOKIE);
  if (cookies.length) {
    if (!cookieAllowed(request)) return { tokens: [], via: "cookie-refused" };
    return { tokens: cookies, via: "cookie" };
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

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The sign-out form's proof: derived from the admin token (so only someone who holds the
 * token, or the page rendered for them, has it) and never equal to the manifest's hash.
 */
export function signOutProof(token) {
  return sha256Hex(`wfp-signout\n${token}`);
}

/**
 * Whether a POST comes from the dispatcher's own origin, as the browser labels it. The
 * status page's `Referrer-Policy: no-referrer` makes browsers send `Origin: null` with its
 * form, so Sec-Fetch-Site decides when present; a real origin must still be this one.
 */
export function sameOriginPost(request, url) {
  const origin = request.headers.get("origin");
  const site = request.headers.get("sec-fetch-site");
  if (origin !== null && origin !== "null" && origin !== url.origin) return false;
  if (site !== null) return site === "same-origin";
  return origin === url.origin;
}

/**
 * The page's HTML body for a manifest (exported for tests). `signOut` is the proof for the
 * sign-out form when the admin came in with the cookie (nothing to sign out of otherwise).
 */
export function renderStatusBody(manifest, signOut = null) {
  const customers = Object.entries(manifest.customers);
  const scripts = Object.entries(manifest.scripts);
  const owned = new Map();
  for (const [, s] of scripts) owned.set(s.customer, (owned.get(s.customer) || 0) + 1);
  const out = [];
  out.push("<h1>Platform status</h1>");
  out.push(
    "<p>" +
      `Namespace <code>${escapeHtml(manifest.namespace)}</code>, ` +
      `deployed commit <code id="commit">${escapeHtml(manifest.commit || "(work tree)")}</code>, ` +
      `${customers.length} customers, ${scripts.length} scripts.</p>`,
  );
  if (manifest.notice) out.push(`<p id="notice">${escapeHtml(manifest.notice)}</p>`);
  out.push('<h2>Customers</h2><table id="customers"><thead><tr>');
  out.push(
    "<th>Id</th><th>Name</th><th>Plan</th><th>Status</th><th>Outbound Worker</th>" +
      "<th>Tail Workers</th><th>Logpush</th><th>Observability</th><th>Scripts</th></tr></thead><tbody>",
  );
  for (const [id, c] of customers) {
    const own = owned.get(id) || 0;
    out.push(
      `<tr data-customer="${escapeHtml(id)}"><td><code>${escapeHtml(id)}</code></td>` +
        `<td>${escapeHtml(c.name)}</td><td>${escapeHtml(c.plan)}</td>` +
        (c.suspended ? '<td class="suspended">suspended</td>' : "<td>active</td>") +
        `<td>${escapeHtml(c.outbound_worker || "none")}</td>` +
        `<td>${escapeHtml((c.tail || []).join(", ") || "none")}</td>` +
        `<td>${c.logpush ? "on" : "off"}</td>` +
        `<td>${escapeHtml(c.observability || "off")}</td><td>${own}</td></tr>`,
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
  if (signOut) {
    out.push(
      `<form method="post" action="${LOGOUT_PATH}">` +
        `<input type="hidden" name="${LOGOUT_FIELD}" value="${escapeHtml(signOut)}">` +
        "<button type=\"submit\">Sign out</button></form>",
    );
  }
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
export async function serveStatusPage(manifest, request, url, checkToken, load = null) {
  if (!manifest.admin_token_sha256) {
    return new Response(
      JSON.stringify({ error: "not_found", message: "Unknown platform endpoint." }) + "\n",
      {
        status: 404,
        headers: {
          "content-type": "application/json; charset=utf-8",
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
        },
      },
    );
  }
  if (url.pathname === LOGOUT_PATH) return signOut(request, url, checkToken);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return page(405, "Method not allowed", "<h1>Use GET.</h1>", { allow: "GET, HEAD" });
  }
  const presented = presentedToken(request, url);
  if (presented === null || presented.via === "cookie-refused") {
    return refusal(
      401,
      "Open /_platform/?token=<admin token> in a browser, or send the token as " +
        "'Authorization: Bearer <token>' or 'X-Admin-Token'.",
    );
  }
  let valid = false;
  for (const token of presented.tokens) {
    // Every value is checked, so timing does not tell which cookie matched.
    if (await checkToken(token)) valid = true;
  }
  if (!valid) {
    const clear = presented.via === "cookie" ? { "set-cookie": cookieHeader(url, "", 0) } : {};
    return refusal(403, "The admin token is not valid.", clear);
  }
  if (presented.via === "query") {
    // Trade the token in the URL (history, logs) for an HttpOnly cookie at once.
    return new Response(null, {
      status: 303,
      headers: {
        location: "/_platform/",
        "set-cookie": cookieHeader(url, presented.tokens[0], COOKIE_MAX_AGE),
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
        "clear-site-data": '"storage"',
      },
    });
  }
  let proof = null;
  if (presented.via === "cookie") {
    for (const token of presented.tokens) {
      if (await checkToken(token)) proof = await signOutProof(token);
    }
  }
  // The routing store keeps the fleet outside the Worker: `load` reads what the page lists
  // (only once the admin is known, so anonymous requests cost no reads).
  const data = load ? await load() : manifest;
  return page(200, "Platform status", renderStatusBody(data, proof));
}

async function formField(request, name) {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (!(declared <= LOGOUT_MAX_BODY)) return null;
  const body = await request.text();
  if (body.length > LOGOUT_MAX_BODY) return null;
  return new URLSearchParams(body).get(name);
}

/**
 * POST /_platform/logout: clears the cookie for a same-origin request that carries the
 * proof of one of the cookie values that is the admin token. A GET (an image, a link, a
 * prefetch) changes nothing.
 */
async function signOut(request, url, checkToken) {
  if (request.method !== "POST") {
    return page(405, "Method not allowed", "<h1>Sign out from the status page.</h1>", {
      allow: "POST",
    });
  }
  if (!sameOriginPost(request, url)) {
    return page(403, "Sign-out refused", "<h1>Sign out from the status page itself.</h1>");
  }
  const given = await formField(request, LOGOUT_FIELD);
  let valid = false;
  for (const token of cookieValues(request.headers.get("cookie"), COOKIE)) {
    // Every value is checked, so timing does not tell which cookie matched.
    const proof = await signOutProof(token);
    const matches = typeof given === "string" && given.length === proof.length &&
      timingSafeEqual(given, proof);
    if ((await checkToken(token)) && matches) valid = true;
  }
  if (!valid) {
    return page(403, "Sign-out refused", "<h1>Sign out from the status page itself.</h1>");
  }
  return page(200, "Signed out", "<h1>Signed out</h1>", {
    "set-cookie": cookieHeader(url, "", 0),
  });
}

function timingSafeEqual(a, b) {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
