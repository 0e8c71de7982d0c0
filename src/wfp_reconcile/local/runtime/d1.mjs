// D1 bindings of customer scripts in the local runtime.
//
// A D1Database cannot be handed to a Worker Loader isolate, and the databases live in the
// local API emulator (real SQLite files) anyway. So a customer script that declares
// `{"type": "d1", "name": "DB", "id": "<uuid>"}` gets:
// - on its env, under a private name, a loopback stub `ctx.exports.D1Bridge({props})` that
//   runs SQL through the emulator's POST /__emulator/d1/{account}/{id}/query|raw;
// - a facade module (FACADE_SOURCE) that implements the D1 client API on top of that stub,
//   and an entry module (d1Entry) that puts a facade at `env.DB` before the script runs.
import { WorkerEntrypoint } from "cloudflare:workers";

export const D1_ENV_PREFIX = "__wfp_d1_";
export const D1_FACADE_MODULE = "__wfp_d1.mjs";
export const D1_ENTRY_MODULE = "__wfp_d1_entry.mjs";

/** The D1 bindings of a bundle record, as `[{name, id}]`. */
export function d1Bindings(rec) {
  const out = [];
  for (const b of rec.bindings || []) {
    const id = b && b.type === "d1" ? (b.id ?? b.database_id) : null;
    if (typeof b?.name === "string" && typeof id === "string") out.push({ name: b.name, id });
  }
  return out;
}

// Runs in the customer's isolate. Mirrors Cloudflare's D1 client API: prepare/bind,
// first/all/run/raw, batch, exec and withSession; errors are thrown as `Error`s whose
// message starts with D1_ERROR / D1_TYPE_ERROR / D1_COLUMN_NOTFOUND, as on Cloudflare.
export const FACADE_SOURCE = `
const STATEMENT = Symbol("wfp.d1.statement");

function param(value) {
  if (value === null || typeof value === "string") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error("D1_TYPE_ERROR: Type 'number' not supported for value '" + value + "'");
    return value;
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  const shown = value === undefined ? "undefined" : typeof value;
  throw new Error(
    "D1_TYPE_ERROR: Type '" + shown + "' not supported for value '" + String(value) + "'" +
      " (the local runtime takes strings, numbers, booleans and null)",
  );
}

function result(item) {
  return { success: true, meta: item.meta ?? {}, results: item.results ?? [] };
}

export class D1PreparedStatement {
  constructor(db, sql, params = []) {
    this[STATEMENT] = { db, sql: String(sql), params };
  }
  bind(...values) {
    const { db, sql } = this[STATEMENT];
    return new D1PreparedStatement(db, sql, values.map(param));
  }
  async #one(kind) {
    const { db, sql, params } = this[STATEMENT];
    const items = await db.send(kind, { sql, params });
    return items[items.length - 1];
  }
  async first(column) {
    const row = (await this.#one("query")).results?.[0];
    if (column === undefined) return row ?? null;
    if (!row) return null;
    if (!Object.hasOwn(row, column)) throw new Error("D1_COLUMN_NOTFOUND: Column not found (" + column + ")");
    return row[column];
  }
  async all() {
    return result(await this.#one("query"));
  }
  async run() {
    return result(await this.#one("query"));
  }
  async raw(options = {}) {
    const table = (await this.#one("raw")).results ?? { columns: [], rows: [] };
    return options?.columnNames ? [table.columns, ...table.rows] : table.rows;
  }
}

export class D1Database {
  #bridge;
  constructor(bridge) {
    this.#bridge = bridge;
  }
  async send(kind, body) {
    return this.#bridge.query(kind, body);
  }
  prepare(sql) {
    return new D1PreparedStatement(this, sql);
  }
  async batch(statements) {
    if (!Array.isArray(statements) || statements.length === 0) {
      throw new Error("D1_ERROR: batch() needs a non-empty array of prepared statements");
    }
    const batch = statements.map((s) => {
      const inner = s?.[STATEMENT];
      if (!inner) throw new Error("D1_ERROR: batch() takes statements made by prepare()");
      return { sql: inner.sql, params: inner.params };
    });
    return (await this.send("query", { batch })).map(result);
  }
  async exec(sql) {
    const items = await this.send("query", { sql: String(sql) });
    const duration = items.reduce((sum, item) => sum + (item.meta?.duration ?? 0), 0);
    return { count: items.length, duration };
  }
  withSession() {
    return { prepare: (sql) => this.prepare(sql), batch: (s) => this.batch(s), getBookmark: () => null };
  }
  async dump() {
    throw new Error("D1_ERROR: dump() is not available in the local runtime");
  }
}
`;

/** The entry module of a customer script with D1 bindings: wraps its handlers' env. */
export function d1Entry(mainModule, names) {
  const main = JSON.stringify("./" + mainModule);
  return `
import { WorkerEntrypoint } from "cloudflare:workers";
import * as main from ${main};
import { D1Database } from "./${D1_FACADE_MODULE}";
export * from ${main};
const NAMES = ${JSON.stringify(names)};
const PREFIX = ${JSON.stringify(D1_ENV_PREFIX)};
const wrapped = new WeakMap();
function wrapEnv(env) {
  let out = wrapped.get(env);
  if (!out) {
    out = { ...env };
    for (const name of NAMES) {
      out[name] = new D1Database(env[PREFIX + name]);
      delete out[PREFIX + name];
    }
    wrapped.set(env, out);
  }
  return out;
}
const handler = main.default;
let entry = handler;
if (typeof handler === "function") {
  // A class (WorkerEntrypoint): construct it with the wrapped env.
  entry = class extends WorkerEntrypoint {
    fetch(request) {
      return new handler(this.ctx, wrapEnv(this.env)).fetch(request);
    }
  };
} else if (handler && typeof handler === "object") {
  entry = {};
  for (const key of ["fetch", "scheduled", "queue", "email", "tail", "trace"]) {
    if (typeof handler[key] === "function") {
      entry[key] = (input, env, ctx) => handler[key](input, wrapEnv(env), ctx);
    }
  }
}
export default entry;
`;
}

/** The customer's D1 calls, run against the emulator's SQLite (one database per stub). */
export class D1Bridge extends WorkerEntrypoint {
  async query(kind, body) {
    if (kind !== "query" && kind !== "raw") throw new Error(`D1_ERROR: unknown operation ${kind}`);
    const { database } = this.ctx.props;
    const seg = encodeURIComponent;
    const url = `${this.env.EMULATOR_URL}/__emulator/d1/${seg(this.env.ACCOUNT_ID)}/${seg(database)}/${kind}`;
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        "x-wfp-emulator-secret": this.env.EMULATOR_SECRET,
      },
      body: JSON.stringify(body),
    });
    let payload = null;
    try {
      payload = await res.json();
    } catch {
      payload = null;
    }
    if (res.ok && payload?.success) return payload.result;
    if (res.status === 404) {
      throw new Error(
        `D1_ERROR: D1 database ${database} does not exist in the local API emulator ` +
          "(wfp-reconcile dev creates the databases that scripts declare)",
      );
    }
    const message = payload?.errors?.[0]?.message ?? `the local API emulator answered ${res.status}`;
    throw new Error(`D1_ERROR: ${message}`);
  }
}
