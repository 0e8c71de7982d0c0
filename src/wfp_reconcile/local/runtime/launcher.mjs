// Starts the local Workers runtime: one workerd process (through miniflare) running
// runtime-worker.mjs on 127.0.0.1, behind the local edge (edge.mjs) on the eyeball port.
// Started by wfp_reconcile.local.runtime with its settings as JSON in WFP_RUNTIME_CONFIG;
// prints one JSON "ready" line on stdout, then forwards the Workers' logs. Stops (and takes
// workerd with it) on SIGTERM, SIGINT or when stdin closes, so a parent that dies without
// cleaning up does not leave workerd behind.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createEdge } from "./edge.mjs";

const config = JSON.parse(process.env.WFP_RUNTIME_CONFIG ?? "{}");
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(config.installDir, "package.json"));
const { Miniflare, Log, LogLevel } = await import(pathToFileURL(require.resolve("miniflare")).href);

// workerd listens on a free internal port; eyeballs reach it through the local edge.
const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  cf: false, // never download cf.json: the runtime must work offline
  log: new Log(LogLevel.WARN),
  workers: [
    {
      name: "wfp-runtime",
      modules: true,
      scriptPath: path.join(here, "runtime-worker.mjs"),
      // Module names are paths relative to this root; workerd rejects names with "..".
      modulesRoot: here,
      compatibilityDate: config.runtimeCompatDate,
      workerLoaders: { LOADER: {} },
      bindings: {
        EMULATOR_URL: config.emulatorUrl,
        // Opens the emulator's /__emulator endpoints; customer scripts never get it.
        EMULATOR_SECRET: config.emulatorSecret ?? "",
        ACCOUNT_ID: config.accountId,
        DISPATCHER_NAME: config.dispatcherName,
        DEFAULT_COMPAT_DATE: config.defaultCompatDate,
        MAX_COMPAT_DATE: config.maxCompatDate,
        DIRECT_ROUTE: Boolean(config.directRoute),
      },
    },
  ],
});

let stopping = false;
let edge = null;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    edge?.closeAllConnections();
    edge?.close();
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
  const inner = await mf.ready;
  edge = createEdge(inner.href);
  await new Promise((resolve, reject) => {
    edge.once("error", reject);
    edge.listen(config.port, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${edge.address().port}/`;
  process.stdout.write(JSON.stringify({ event: "ready", url, pid: process.pid }) + "\n");
} catch (error) {
  process.stderr.write(`wfp runtime failed to start: ${error && error.message}\n`);
  await stop(1);
}
