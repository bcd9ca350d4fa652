// The floor of `cargo xtask bench`: only what POST /v1/events cannot skip, in plain JS, without
// authorization, validation, enrichment, rate limits or logs: one Durable Object per session
// looks the event ids up, hands the new events to a queue, and only then stores their ids.
// The edge's requests/s over this worker's shows what our own code costs; this worker's over
// the no-op's shows what the platform's required round trips cost.
import { DurableObject } from "cloudflare:workers";

export class Session extends DurableObject {
  async fetch(request) {
    const events = await request.json();
    const seen = await this.ctx.storage.get(events.map((event) => event.id));
    const fresh = events.filter((event) => !seen.has(event.id));
    if (fresh.length > 0) {
      await this.env.EVENTS.sendBatch(fresh.map((event) => ({ body: JSON.stringify(event), contentType: "text" })));
      await this.ctx.storage.put(Object.fromEntries(fresh.map((event) => [event.id, true])));
    }
    return Response.json({ accepted: fresh.length, duplicates: events.length - fresh.length, rejected: [] });
  }
}

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/health") {
      return new Response('{"floor":true}', { headers: { "content-type": "application/json" } });
    }
    const batch = await request.json();
    const session = env.SESSION.get(env.SESSION.idFromName(batch.session_token));
    const answer = await session.fetch("https://session/admit", { method: "POST", body: JSON.stringify(batch.events) });
    return new Response(answer.body, { status: 202, headers: { "content-type": "application/json" } });
  },

  async queue(batch) {
    batch.ackAll();
  },
};
