// Counts its hits in D1: env.HITS is the database declared under `d1:` in customer.yaml.
export default {
  async fetch(request, env) {
    await env.HITS.exec(
      "CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, path TEXT NOT NULL, at TEXT NOT NULL)",
    );
    const path = new URL(request.url).pathname;
    await env.HITS.prepare("INSERT INTO hits (path, at) VALUES (?, ?)")
      .bind(path, new Date().toISOString())
      .run();
    const hits = await env.HITS.prepare("SELECT count(*) AS n FROM hits").first("n");
    return Response.json({ script: "advanced-counter", path, hits });
  },
};
