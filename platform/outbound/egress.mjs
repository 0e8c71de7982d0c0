// Outbound (egress) Worker: every fetch() made by a customer script passes through here.
// The dispatcher passes the calling customer's id and its `allow_hosts` parameter on `env`.
// Only hosts on the allow-list are reachable; anything else gets a 403 JSON answer.

function allowedHosts(value) {
  if (Array.isArray(value)) return value.map((host) => String(host).toLowerCase());
  if (typeof value === "string" && value.trim() !== "") {
    return value.split(",").map((host) => host.trim().toLowerCase());
  }
  return [];
}

function hostAllowed(host, allowList) {
  return allowList.some((entry) =>
    entry.startsWith("*.") ? host.endsWith(entry.slice(1)) : host === entry,
  );
}

export default {
  async fetch(request, env) {
    const host = new URL(request.url).hostname.toLowerCase();
    if (!hostAllowed(host, allowedHosts(env.allow_hosts))) {
      return Response.json(
        {
          error: "egress_blocked",
          message: `Outbound requests to ${host} are not allowed for this customer.`,
          customer_id: env.customer_id ?? null,
        },
        { status: 403 },
      );
    }
    return fetch(request);
  },
};
