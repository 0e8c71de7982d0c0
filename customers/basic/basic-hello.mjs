import { platformThing } from "./platform_module.mjs";

export default {
  async fetch(request, env, ctx) {
    return new Response("Hello! " + platformThing);
  },
};
