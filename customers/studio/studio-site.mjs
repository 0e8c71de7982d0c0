// Static files are served by Cloudflare before this code runs; it answers /api/* (run
// first, see customer.yaml) and whatever no file matches.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/api/time")) {
      return Response.json({ now: new Date().toISOString() });
    }
    // Anything else matched no file: the ASSETS binding answers with the site's 404 page.
    return env.ASSETS.fetch(request);
  },
};
