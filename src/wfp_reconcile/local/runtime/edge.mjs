// The local edge: a small Node HTTP server in front of workerd, standing in for the part
// of Cloudflare's network that eyeball requests cross before any Worker runs.
//
// workerd's own HTTP server answers some hostile requests with a bare 500 (CONNECT,
// absolute-form and asterisk-form targets, an invalid Host, a malformed Content-Length) or
// 501 (unknown methods), and miniflare trusts its own control headers (MF-Original-URL
// rewrites the URL the dispatcher sees). Cloudflare never lets such requests reach a Worker,
// so the edge turns them into clean 4xx JSON answers, and sets the headers Cloudflare owns
// (CF-Connecting-IP, ...) instead of passing on whatever the eyeball claimed. Everything
// else is proxied unchanged over keep-alive connections (WebSocket upgrades as raw bytes).
import http from "node:http";
import net from "node:net";

// Local choices, well inside what workerd's RPC to customer isolates can carry (1,000
// header fields pass, 2,000 fail with a deserialization error the dispatcher sees as a 502).
export const MAX_HEADER_BYTES = 32 * 1024;
export const MAX_HEADER_FIELDS = 500;

// What workerd's HTTP parser accepts (it answers 501 to the rest of Node's list).
const METHODS = new Set(
  ("GET HEAD POST PUT DELETE PATCH PURGE OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND " +
    "PROPPATCH SEARCH UNLOCK ACL REPORT MKACTIVITY CHECKOUT MERGE NOTIFY SUBSCRIBE " +
    "UNSUBSCRIBE QUERY BAN").split(" "),
);

// Set by Cloudflare's edge in production; an eyeball's own values never reach a Worker.
const EDGE_OWNED = new Set([
  "cf-connecting-ip",
  "cf-connecting-ipv6",
  "cf-pseudo-ipv4",
  "cf-ipcountry",
  "cf-ray",
  "cf-visitor",
  "cf-worker",
  "cf-ew-via",
  "true-client-ip",
]);
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function dropRequestHeader(name) {
  // mf-*: miniflare's control headers (URL override, routing, pretty errors).
  return EDGE_OWNED.has(name) || HOP_BY_HOP.has(name) || name.startsWith("mf-");
}

function errorBody(status, error, message) {
  const body = JSON.stringify({ error, message }) + "\n";
  return {
    status,
    body,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(Buffer.byteLength(body)),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      connection: "close",
    },
  };
}

function rawErrorResponse(status, error, message) {
  const e = errorBody(status, error, message);
  const reason = http.STATUS_CODES[status] ?? "Error";
  const head = Object.entries(e.headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  return `HTTP/1.1 ${status} ${reason}\r\n${head}\r\n${e.body}`;
}

function sendError(res, status, error, message) {
  const e = errorBody(status, error, message);
  res.shouldKeepAlive = false;
  res.writeHead(status, e.headers);
  res.end(e.body);
}

function rejectSocket(socket, status, error, message) {
  if (socket.writable) socket.end(rawErrorResponse(status, error, message));
  socket.destroySoon?.();
}

/**
 * Where a request goes and with which headers, or an error answer.
 * Returns {path, headers: [[name, value], ...]} or {status, error, message}.
 */
export function inspectRequest(req, peer) {
  if (!METHODS.has(req.method)) {
    return { status: 400, error: "bad_request", message: "Unsupported request method." };
  }
  const fields = req.rawHeaders.length / 2;
  if (fields > MAX_HEADER_FIELDS) {
    return {
      status: 431,
      error: "headers_too_large",
      message: `Send at most ${MAX_HEADER_FIELDS} header fields.`,
    };
  }
  let path = req.url;
  let host = null;
  if (!path.startsWith("/")) {
    // Absolute form: RFC 9112 says a server must accept it and take the host from it.
    let target;
    try {
      target = new URL(path);
    } catch {
      return { status: 400, error: "bad_request", message: "Malformed request target." };
    }
    if (!/^https?:$/.test(target.protocol) || target.username || target.password) {
      return { status: 400, error: "bad_request", message: "Malformed request target." };
    }
    path = target.pathname + target.search;
    host = target.host;
  }
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if (name === "host") {
      host ??= req.rawHeaders[i + 1];
    } else if (!dropRequestHeader(name)) {
      headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    }
  }
  if (host === null) {
    if (req.httpVersion !== "1.0") {
      return { status: 400, error: "bad_request", message: "HTTP/1.1 requests need a Host." };
    }
    host = "localhost";
  }
  if (!validHost(host)) {
    return { status: 400, error: "bad_request", message: "Malformed Host header." };
  }
  headers.push(["Host", host]);
  headers.push(["CF-Connecting-IP", peer]);
  // As Cloudflare does: the connecting address is appended to any list the eyeball sent.
  const forwardedFor = req.headers["x-forwarded-for"];
  const xff = headers.findIndex(([name]) => name.toLowerCase() === "x-forwarded-for");
  if (xff >= 0) headers.splice(xff, 1);
  headers.push(["X-Forwarded-For", forwardedFor ? `${forwardedFor}, ${peer}` : peer]);
  return { path, headers };
}

function validHost(host) {
  try {
    const url = new URL(`http://${host}/`);
    return url.host === host.toLowerCase() && url.pathname === "/" && !url.username;
  } catch {
    return false;
  }
}

function headerObject(pairs) {
  const out = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    if (out[key] === undefined) out[key] = value;
    else if (Array.isArray(out[key])) out[key].push(value);
    else out[key] = [out[key], value];
  }
  return out;
}

function proxyUpgrade(req, socket, head, inner, route) {
  const upstream = net.connect(inner.port, inner.hostname);
  const lines = [`${req.method} ${route.path} HTTP/1.1`];
  for (const [name, value] of route.headers) lines.push(`${name}: ${value}`);
  for (const name of ["connection", "upgrade"]) {
    const value = req.headers[name];
    if (value) lines.push(`${name}: ${value}`);
  }
  upstream.on("connect", () => {
    upstream.write(lines.join("\r\n") + "\r\n\r\n");
    if (head?.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const close = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on("error", () => {
    if (!upstream.bytesRead) {
      rejectSocket(socket, 502, "runtime_unavailable", "The local runtime is not answering.");
    }
    close();
  });
  socket.on("error", close);
}

function forward(req, res, route, inner, agent, retry) {
  const bodyless = !hasBody(req);
  const upstream = http.request({
    host: inner.hostname,
    port: inner.port,
    method: req.method,
    path: route.path,
    headers: headerObject(route.headers),
    agent,
  });
  upstream.on("response", (answer) => {
    const raw = [];
    for (let i = 0; i < answer.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(answer.rawHeaders[i].toLowerCase())) {
        raw.push(answer.rawHeaders[i], answer.rawHeaders[i + 1]);
      }
    }
    res.writeHead(answer.statusCode, answer.statusMessage, raw);
    answer.pipe(res);
    answer.on("error", () => res.destroy());
  });
  upstream.on("error", (error) => {
    if (res.headersSent) {
      res.destroy();
    } else if (retry && bodyless && upstream.reusedSocket && error.code === "ECONNRESET") {
      // workerd closed an idle pooled connection just as it was reused: nothing was
      // processed, and a request without a body can simply be sent again.
      forward(req, res, route, inner, agent, false);
    } else if (req.readableAborted || req.errored) {
      res.destroy();
    } else {
      sendError(res, 502, "runtime_unavailable", "The local runtime is not answering.");
    }
  });
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  if (bodyless) {
    req.resume();
    upstream.end();
  } else {
    req.pipe(upstream);
  }
  return upstream;
}

function hasBody(req) {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

/** An HTTP server on the eyeball port that forwards to workerd at `innerUrl`. */
export function createEdge(innerUrl) {
  const inner = new URL(innerUrl);
  // Pooled sockets are dropped before workerd's 5 s idle timeout would close them.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 4000 });
  // Sockets with a response under way: a later parse error must not write a second one.
  const answering = new WeakMap();
  const options = { maxHeaderSize: MAX_HEADER_BYTES, requireHostHeader: false };
  const server = http.createServer(options, (req, res) => {
    answering.set(req.socket, res);
    res.on("finish", () => answering.delete(req.socket));
    // Responses pass through as workerd made them.
    res.sendDate = false;
    const route = inspectRequest(req, req.socket.remoteAddress ?? "127.0.0.1");
    if (route.status) {
      req.resume();
      sendError(res, route.status, route.error, route.message);
      return;
    }
    const upstream = forward(req, res, route, inner, agent, true);
    req.on("error", () => upstream.destroy());
  });
  // Node truncates silently beyond maxHeadersCount; inspectRequest refuses instead.
  server.maxHeadersCount = 0;
  server.on("connect", (_req, socket) => {
    rejectSocket(socket, 405, "method_not_allowed", "CONNECT is not supported.");
  });
  server.on("upgrade", (req, socket, head) => {
    const route = inspectRequest(req, socket.remoteAddress ?? "127.0.0.1");
    if (route.status) {
      rejectSocket(socket, route.status, route.error, route.message);
      return;
    }
    proxyUpgrade(req, socket, head, inner, route);
  });
  server.on("clientError", (error, socket) => {
    const res = answering.get(socket);
    if (error.code === "ECONNRESET" || !socket.writable || res?.headersSent) {
      socket.destroy();
      return;
    }
    if (res) {
      // The head was fine but the body does not parse (e.g. a bad chunk size).
      rejectSocket(socket, 400, "bad_request", "Malformed request body.");
      return;
    }
    if (error.code === "HPE_HEADER_OVERFLOW") {
      rejectSocket(socket, 431, "headers_too_large", "The request headers are too large.");
    } else if (error.code === "HPE_INVALID_METHOD") {
      rejectSocket(socket, 400, "bad_request", "Unsupported request method.");
    } else if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      rejectSocket(socket, 408, "request_timeout", "The request took too long to arrive.");
    } else {
      rejectSocket(socket, 400, "bad_request", "Malformed HTTP request.");
    }
  });
  return server;
}
