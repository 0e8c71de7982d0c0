# workerd configuration of the pre-flight runtime (wfp_reconcile.local.runtime.preflight_process).
# One Worker, preflight-worker.mjs, with a Worker Loader binding; the socket is passed in
# as an already bound file descriptor (--socket-fd http=N), so the port is known up front.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "wfp-preflight", worker = .preflightWorker) ],
  sockets = [ (name = "http", http = (), service = "wfp-preflight") ],
);

const preflightWorker :Workerd.Worker = (
  modules = [ (name = "preflight-worker.mjs", esModule = embed "preflight-worker.mjs") ],
  compatibilityDate = "2026-04-01",
  bindings = [ (name = "LOADER", workerLoader = ()) ],
);
