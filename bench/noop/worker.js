// Answers like POST /v1/events would, without reading, checking or storing anything.
const ACCEPTED = '{"accepted":10,"duplicates":0,"rejected":[]}';

export default {
  async fetch(request) {
    if (new URL(request.url).pathname === "/health") {
      return new Response('{"noop":true}', { headers: { "content-type": "application/json" } });
    }
    return new Response(ACCEPTED, { status: 202, headers: { "content-type": "application/json" } });
  },
};
