// The platform's trace (tail) Worker: one JSON record per invocation of the dispatcher and
// of every customer script it is attached to (platform.yaml tail_workers). Records go to
// this Worker's own logs (Workers Logs, Logpush or `wrangler tail trace`); send them to
// your own store instead by replacing record().
//
// Trace events name the script and carry its tags. The reconciler tags every customer
// script with the management tag, the customer id, plan-<plan> and fp-<fingerprint>, so the
// customer is the first tag that is none of those (user tags come after it).

function customerOf(tags, env) {
  for (const tag of tags || []) {
    if (tag === env.WFP_MANAGEMENT_TAG || tag === "protected") continue;
    if (tag.startsWith("plan-") || tag.startsWith("fp-")) continue;
    return tag;
  }
  return null;
}

export function traceRecord(event, env) {
  const isDispatcher = event.scriptName === env.WFP_DISPATCHER;
  const request = event.event && event.event.request;
  let path = null;
  if (request && request.url) {
    try {
      path = new URL(request.url).pathname;
    } catch {
      path = null;
    }
  }
  return {
    trace: "wfp",
    at: new Date(event.eventTimestamp || Date.now()).toISOString(),
    script: event.scriptName,
    customer: isDispatcher ? null : customerOf(event.scriptTags, env),
    role: isDispatcher ? "dispatcher" : "customer",
    outcome: event.outcome,
    cpu_ms: event.cpuTime ?? null,
    wall_ms: event.wallTime ?? null,
    status: (event.event && event.event.response && event.event.response.status) ?? null,
    method: request ? request.method : null,
    path,
    exceptions: (event.exceptions || []).map((e) => ({ name: e.name, message: e.message })),
  };
}

function record(entry) {
  console.log("wfp-trace " + JSON.stringify(entry));
}

export default {
  async tail(events, env) {
    for (const event of events) record(traceRecord(event, env));
  },
};
