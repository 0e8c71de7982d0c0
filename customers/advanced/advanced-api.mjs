import { platformThing } from "./platform_module.mjs";
import { greet } from "./lib/greeting.mjs";

export default {
  async fetch(request, env, ctx) {
    const name = new URL(request.url).searchParams.get("name") ?? "customer";
    return Response.json({ message: greet(env.GREETING, name), platform: platformThing });
  },
};
