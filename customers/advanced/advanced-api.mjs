import { platformThing } from "./platform_module.mjs";
import { greet } from "./lib/greeting.mjs";

// SIGNING_KEY is a customer secret: age-encrypted in customer.yaml, decrypted only by
// `wfp-reconcile apply` (or `dev`), read here as env.SIGNING_KEY. The response carries an
// HMAC of the message made with it, never the key itself.
async function sign(key, message) {
  const enc = new TextEncoder();
  const hmac = await crypto.subtle.importKey(
    "raw", enc.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", hmac, enc.encode(message));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export default {
  async fetch(request, env, ctx) {
    const name = new URL(request.url).searchParams.get("name") ?? "customer";
    const message = greet(env.GREETING, name);
    const signature = env.SIGNING_KEY ? await sign(env.SIGNING_KEY, message) : null;
    return Response.json({ message, platform: platformThing, signature });
  },
};
