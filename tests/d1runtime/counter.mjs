// The customer script of test_d1_binding_in_workerd.py: each path exercises one part of the
// D1 client API through env.DB and answers JSON.
const json = (value) => Response.json(value);
async function setup(db) {
  await db.exec("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, path TEXT NOT NULL)");
}
export default {
  async fetch(request, env) {
    const db = env.DB;
    await setup(db);
    const op = new URL(request.url).pathname.split("/").at(-1);
    switch (op) {
      case "hit": {
        const run = await db.prepare("INSERT INTO hits (path) VALUES (?)").bind("/hit").run();
        const n = await db.prepare("SELECT count(*) AS n FROM hits").first("n");
        return json({ n, changes: run.meta.changes, last_row_id: run.meta.last_row_id,
                      success: run.success, results: run.results });
      }
      case "all":
        return json(await db.prepare("SELECT path FROM hits WHERE path = ?1 ORDER BY id LIMIT ?2").bind("/hit", 2).all());
      case "first-row":
        return json({ row: await db.prepare("SELECT path, 7 AS seven FROM hits WHERE path = '/hit'").first(),
                      none: await db.prepare("SELECT id FROM hits WHERE id < 0").first(),
                      noneCol: await db.prepare("SELECT id FROM hits WHERE id < 0").first("id") });
      case "raw":
        return json({ plain: await db.prepare("SELECT path, 7 AS seven FROM hits WHERE path = '/hit' LIMIT 1").raw(),
                      named: await db.prepare("SELECT path, 7 AS seven FROM hits WHERE path = '/hit' LIMIT 1").raw({ columnNames: true }) });
      case "batch": {
        const results = await db.batch([
          db.prepare("INSERT INTO hits (path) VALUES (?)").bind("/batch-1"),
          db.prepare("INSERT INTO hits (path) VALUES (?)").bind("/batch-2"),
          db.prepare("SELECT count(*) AS n FROM hits WHERE path LIKE '/batch-%'"),
        ]);
        return json(results.map((r) => ({ success: r.success, changes: r.meta.changes, results: r.results })));
      }
      case "batch-rollback": {
        try {
          await db.batch([
            db.prepare("INSERT INTO hits (path) VALUES (?)").bind("/rolled-back"),
            db.prepare("INSERT INTO nowhere VALUES (1)"),
          ]);
          return json({ threw: false });
        } catch (error) {
          return json({ threw: true, message: error.message });
        }
      }
      case "exec":
        return json(await db.exec("CREATE TABLE IF NOT EXISTS notes (t TEXT);\nINSERT INTO notes VALUES ('a');\nINSERT INTO notes VALUES ('b')"));
      case "caught": {
        const out = {};
        for (const [key, attempt] of Object.entries({
          sql: () => db.prepare("SELECT * FROM nowhere").all(),
          column: () => db.prepare("SELECT id FROM hits").first("nope"),
          type: () => db.prepare("SELECT ?").bind(undefined).all(),
        })) {
          try { await attempt(); out[key] = null; } catch (error) { out[key] = error.message; }
        }
        return json(out);
      }
      case "throw":
        await db.prepare("SELECT * FROM nowhere").all();
        return json({ unreachable: true });
      case "env":
        return json({ keys: Object.keys(env).sort(), hasPrepare: typeof env.DB.prepare });
    }
    return new Response("unknown op", { status: 404 });
  },
};
