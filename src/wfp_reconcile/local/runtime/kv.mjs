// The dispatcher's Workers KV binding in the local runtime (routing_data: store).
//
// A KV namespace of the local API emulator cannot be handed to a Worker Loader isolate as
// a real binding, so a Worker that declares `{"type": "kv_namespace", "name": "ROUTES",
// "namespace_id": "<id>"}` gets, under a private name, a loopback stub
// `ctx.exports.KvBridge({props})` that reads values through the emulator's
// GET /__emulator/kv/{account}/{id}/values/{key}; the entry module puts a facade with
// KV's `get(key, {type, cacheTtl})` at `env.ROUTES`. The values are the ones apply wrote
// through the REST API, so `dev` runs the routing store end to end. Reads only: the
// dispatcher never writes.
import { WorkerEntrypoint } from "cloudflare:workers";

export const KV_ENV_PREFIX = "__wfp_kv_";

/** The KV bindings of a bundle record, as `[{name, id}]`. */
export function kvBindings(rec) {
  const out = [];
  for (const b of rec.bindings || []) {
    if (b && b.type === "kv_namespace" && typeof b.name === "string" && typeof b.namespace_id === "string") {
      out.push({ name: b.name, id: b.namespace_id });
    }
  }
  return out;
}

export class KvBridge extends WorkerEntrypoint {
  /** The value under `key` as text, or null when there is none. */
  async read(key) {
    const { namespace } = this.ctx.props;
    const seg = encodeURIComponent;
    const url =
      `${this.env.EMULATOR_URL}/__emulator/kv/${seg(this.env.ACCOUNT_ID)}/${seg(namespace)}` +
      `/values/${seg(String(key))}`;
    const res = await fetch(url, { headers: { "x-wfp-emulator-secret": this.env.EMULATOR_SECRET } });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) throw new Error(`KV GET failed: the local API emulator answered ${res.status}`);
    return await res.text();
  }
}

// Runs in the dispatcher's isolate: KV's read API on top of the stub.
export const KV_FACADE_SOURCE = `
function kvNamespace(stub) {
  async function get(key, options) {
    const type = typeof options === "string" ? options : (options && options.type) || "text";
    const text = await stub.read(String(key));
    if (text === null || text === undefined) return null;
    if (type === "json") return JSON.parse(text);
    if (type === "arrayBuffer") return new TextEncoder().encode(text).buffer;
    if (type === "stream") return new Response(text).body;
    return text;
  }
  const readOnly = () => {
    throw new Error("the local runtime's KV binding is read-only (apply writes through the API)");
  };
  return {
    get,
    async getWithMetadata(key, options) {
      return { value: await get(key, options), metadata: null };
    },
    put: readOnly,
    delete: readOnly,
    list: readOnly,
  };
}
`;
