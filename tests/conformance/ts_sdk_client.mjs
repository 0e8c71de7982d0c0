// Drives the emulator with the official TypeScript SDK (npm `cloudflare`, pinned in
// package.json) and prints what each call returned as one JSON document; the Python test
// asserts on it and on the emulator's state. Run by test_ts_sdk.py with Node 22.
import Cloudflare, { toFile } from "cloudflare";

const account_id = process.env.CF_ACCOUNT;
const client = new Cloudflare({
  apiToken: process.env.CF_TOKEN,
  baseURL: process.env.CF_BASE,
  maxRetries: 0,
});
const out = {};
const failure = (error) => ({ status: error.status, errors: error.errors ?? null });

// The test made namespace "tenants" with script "seeded" and the Worker "platform-worker".
const ns = await client.workersForPlatforms.dispatch.namespaces.create({ account_id, name: "extra" });
out.namespace = ns.namespace_name;
out.namespace_get = (await client.workersForPlatforms.dispatch.namespaces.get("tenants", { account_id })).namespace_name;
out.namespaces = [];
for await (const item of client.workersForPlatforms.dispatch.namespaces.list({ account_id })) {
  out.namespaces.push(item.namespace_name);
}

// The 7.x upload that Cloudflare itself rejects (cloudflare-typescript#2799).
const scripts = client.workersForPlatforms.dispatch.namespaces.scripts;
try {
  await scripts.update("broken", {
    account_id,
    dispatch_namespace: "tenants",
    metadata: { main_module: "index.mjs" },
    files: [await toFile(Buffer.from("export default {}"), "index.mjs", { type: "application/javascript+module" })],
  });
  out.upload_7x = "accepted";
} catch (error) {
  out.upload_7x = failure(error);
}
try {
  await scripts.get("absent", { account_id, dispatch_namespace: "tenants" });
} catch (error) {
  out.get_absent = failure(error);
}

const got = await scripts.get("seeded", { account_id, dispatch_namespace: "tenants" });
out.get = { id: got.script.id, namespace: got.dispatch_namespace, tags: got.script.tags };
out.settings = await scripts.settings.get("seeded", { account_id, dispatch_namespace: "tenants" });
out.tags_put = [];
for await (const tag of scripts.tags.update("seeded", { account_id, dispatch_namespace: "tenants", body: ["acme", "plan-pro"] })) out.tags_put.push(tag);
out.tags = [];
for await (const tag of scripts.tags.list("seeded", { account_id, dispatch_namespace: "tenants" })) out.tags.push(tag);
out.secret_put = await scripts.secrets.update("seeded", {
  account_id, dispatch_namespace: "tenants", name: "TS_SECRET", text: "from-ts", type: "secret_text",
});
out.secrets = [];
for await (const s of scripts.secrets.list("seeded", { account_id, dispatch_namespace: "tenants" })) out.secrets.push(s);
out.secret = await scripts.secrets.get("TS_SECRET", { account_id, dispatch_namespace: "tenants", script_name: "seeded" });
try {
  await scripts.settings.edit("seeded", { account_id, dispatch_namespace: "tenants", settings: { logpush: true } });
  out.settings_edit_7x = "accepted";
} catch (error) {
  out.settings_edit_7x = failure(error);
}

const content = await client.workers.scripts.content.get("platform-worker", { account_id });
out.worker_content = await content.text();
out.worker_secret = await client.workers.scripts.secrets.update("platform-worker", {
  account_id, name: "W_SECRET", text: "w", type: "secret_text",
});

out.d1 = [];
for await (const db of client.d1.database.list({ account_id, per_page: 2 })) out.d1.push(db.name);
const first = out.d1[0];
const found = [];
for await (const db of client.d1.database.list({ account_id, name: first })) found.push(db.uuid);
const rows = [];
for await (const r of client.d1.database.query(found[0], { account_id, sql: "SELECT 41 + 1 AS answer" })) rows.push(r);
out.d1_query = { results: rows[0].results, meta_keys: Object.keys(rows[0].meta).sort() };

process.stdout.write(JSON.stringify(out));
