// The floor of `cargo xtask bench`: only what POST /v1/events (and, below, POST /v1/approvals)
// cannot skip, in plain JS, without authorization, validation, enrichment, rate limits or logs:
// one Durable Object per session looks the event ids up, hands the new events to a queue, and
// only then stores their ids.
// The edge's requests/s over this worker's shows what our own code costs; this worker's over
// the no-op's shows what the platform's required round trips cost.
import { DurableObject } from "cloudflare:workers";

export class Session extends DurableObject {
  async fetch(request) {
    if (new URL(request.url).pathname === "/approve") {
      const { key, email } = await request.json();
      const stored = await this.ctx.storage.get("idem:" + key);
      if (stored) return Response.json(stored);
      const customer = this.env.CUSTOMER.get(this.env.CUSTOMER.idFromName(email));
      const decided = await (await customer.fetch("https://customer/decide", { method: "POST", body: JSON.stringify({ at: Date.now() }) })).json();
      await this.env.EVENTS.send(JSON.stringify(decided), { contentType: "text" });
      await this.ctx.storage.put("idem:" + key, decided);
      return Response.json(decided);
    }
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

// The approvals floor: the session's object (idempotency lookup, then remember), the customer's
// object (read and write its record), one queue message for the log: the round trips
// POST /v1/approvals cannot skip, with no validation, scoring, signing or limits.
export class Customer extends DurableObject {
  async fetch(request) {
    const attempt = await request.json();
    const record = (await this.ctx.storage.get("record")) ?? { attempts: [] };
    record.attempts.push(attempt.at);
    await this.ctx.storage.put("record", record);
    return Response.json({ approval_id: crypto.randomUUID(), decision: "approved" });
  }
}

async function approve(request, env) {
  const body = await request.json();
  const key = request.headers.get("Idempotency-Key");
  const session = env.SESSION.get(env.SESSION.idFromName(body.session_token));
  const answer = await session.fetch("https://session/approve", {
    method: "POST",
    body: JSON.stringify({ key, email: body.customer.email }),
  });
  return new Response(answer.body, { headers: { "content-type": "application/json" } });
}

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/health") {
      return new Response('{"floor":true}', { headers: { "content-type": "application/json" } });
    }
    if (new URL(request.url).pathname === "/v1/approvals") {
      return approve(request, env);
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
