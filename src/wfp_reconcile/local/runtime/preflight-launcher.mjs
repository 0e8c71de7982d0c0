// Starts the pre-flight runtime: one workerd process (through miniflare) running
// preflight-worker.mjs on 127.0.0.1. Started by wfp_reconcile.local.runtime.preflight_process
// with its settings as JSON in WFP_RUNTIME_CONFIG; prints one JSON "ready" line on stdout.
// Stops (and takes workerd with it) on SIGTERM, SIGINT or when stdin closes.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const config = JSON.parse(process.env.WFP_RUNTIME_CONFIG ?? "{}");
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(config.installDir, "package.json"));
const { Miniflare, Log, LogLevel } = await import(pathToFileURL(require.resolve("miniflare")).href);

const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  cf: false, // never download cf.json: pre-flight must work offline
  log: new Log(LogLevel.WARN),
  workers: [
    {
      name: "wfp-preflight",
      modules: true,
      scriptPath: path.join(here, "preflight-worker.mjs"),
      modulesRoot: here,
      compatibilityDate: config.runtimeCompatDate,
      workerLoaders: { LOADER: {} },
    },
  ],
});

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    await mf.dispose();
  } finally {
    process.exit(code);
  }
}
process.on("SIGTERM", () => stop(0));
process.on("SIGINT", () => stop(0));
process.stdin.on("end", () => stop(0));
process.stdin.on("error", () => stop(0));
process.stdin.resume();

try {
  const url = await mf.ready;
  process.stdout.write(JSON.stringify({ event: "ready", url: url.href, pid: process.pid }) + "\n");
} catch (error) {
  process.stderr.write(`wfp pre-flight runtime failed to start: ${error && error.message}\n`);
  await stop(1);
}
