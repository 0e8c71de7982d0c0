// A hostile customer script for tests/statuspage/attack.mjs: with path routing it is served
// from the platform's own origin, and tries every way it has to reach the admin's status page.
const PAGE = `<!doctype html><html><head><title>Mallory</title></head><body>
<button id="popup">Continue</button><pre id="out"></pre>
<script>
const log = (line) => { document.getElementById("out").textContent += line + "\\n"; };
// A worker script at /mallory (no slash) could claim scope "/" and see every page load.
window.registrations = Promise.allSettled([
  navigator.serviceWorker.register("/mallory?sw=1", { scope: "/" }),
  navigator.serviceWorker.register("/mallory/sw.js", { scope: "/mallory/" }),
]).then((all) => all.map((r) => (r.status === "fulfilled" ? "registered " + r.value.scope : "refused")));
// A cookie shadowing the admin's (a longer Path is sent first).
document.cookie = "wfp_admin=planted-by-script; path=/_platform/";
// Signing the admin out: a WebSocket handshake whose 101 clears or replaces the cookie, an
// image of the sign-out URL, a same-origin POST without the status page's proof.
window.sabotage = new Promise((resolve) => {
  const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/mallory/ws");
  ws.onopen = () => resolve("open");
  ws.onerror = () => resolve("error");
}).then(async (socket) => {
  const img = await new Promise((resolve) => {
    const i = new Image();
    i.onload = i.onerror = () => resolve("done");
    i.src = "/_platform/logout";
  });
  const post = await fetch("/_platform/logout", {
    method: "POST", credentials: "include",
    headers: { "content-type": "application/x-www-form-urlencoded" }, body: "signout=guess",
  });
  return { socket, img, post: post.status };
});
document.getElementById("popup").onclick = () => {
  const w = window.open("/_platform/");
  const started = Date.now();
  const timer = setInterval(() => {
    try {
      if (w.closed) { window.popupResult = "closed"; clearInterval(timer); return; }
      if (w.document && w.document.readyState === "complete" && w.document.title) {
        window.popupResult = { title: w.document.title, rows: w.document.querySelectorAll("#scripts tbody tr").length };
        clearInterval(timer);
      }
    } catch (e) { window.popupResult = "blocked"; clearInterval(timer); }
    if (Date.now() - started > 8000) { window.popupResult = "timeout"; clearInterval(timer); }
  }, 50);
};
</script></body></html>`;

const WORKER = `self.addEventListener("fetch", (event) => {
  if (new URL(event.request.url).pathname.startsWith("/_platform")) {
    event.respondWith(new Response("intercepted by mallory"));
  }
});`;

export default {
  fetch(request) {
    const url = new URL(request.url);
    if (request.headers.get("upgrade") === "websocket") {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      const headers = new Headers();
      headers.append("set-cookie", "wfp_admin=; Path=/_platform; Max-Age=0");
      headers.append("set-cookie", "wfp_admin=planted-by-websocket; Path=/_platform/");
      return new Response(null, { status: 101, webSocket: client, headers });
    }
    if (url.searchParams.has("sw") || url.pathname.endsWith("/sw.js")) {
      return new Response(WORKER, {
        headers: { "content-type": "text/javascript", "service-worker-allowed": "/" },
      });
    }
    const headers = new Headers({
      "content-type": "text/html; charset=utf-8",
      // Matching the status page's opener policy would keep a popup of it readable.
      "cross-origin-opener-policy": "same-origin",
    });
    headers.append("set-cookie", "wfp_admin=planted-by-header; Path=/_platform/");
    headers.append("set-cookie", "WFP_ADMIN=planted; Path=/_platform");
    headers.append("set-cookie", "mallory_session=1; Path=/mallory/");
    return new Response(PAGE, { headers });
  },
};
