import express, { Router } from "express";
import { SET_MEDIA_TYPE } from "../../signals/set-delivery.js";
import { type SetIntake, SetRefused } from "../../signals/set-intake.js";
import type { SignalsService } from "../../signals/signals-service.js";
import type { AddressGuard } from "../address-guard.js";
import { principalOf } from "../principal-of.js";
import {
  optionalStreamIdQuery,
  pollBody,
  streamCreateBody,
  streamIdQuery,
  streamStatusBody,
  streamUpdateBody,
  streamVerifyBody,
} from "../schemas.js";
import { parseInput } from "../validate.js";
import { streamStatusView, streamView } from "../views.js";

/** The SSF 1.0 transmitter metadata (§7.1), public at `/.well-known/ssf-configuration`. */
export function ssfMetadataRoute(metadata: Record<string, unknown>): Router {
  const router = Router();
  router.get("/.well-known/ssf-configuration", (_req, res) => {
    res.setHeader("Cache-Control", "public, max-age=300");
    res.json(metadata);
  });
  return router;
}

/**
 * Stream management (SSF 1.0 §8.1), mounted at `/v1/ssf` behind resource-server client authentication:
 * `/streams` (configuration: POST create, GET read or list, PATCH update, DELETE), `/status` (GET, POST)
 * `/verify` (POST, the verification event) and `/poll/{stream_id}` (RFC 8936 poll of a poll stream).
 */
export function signalsRoutes(deps: { signals: SignalsService; issuer: string; publicUrl: string }): Router {
  const router = Router();
  const base = deps.publicUrl.replace(/\/+$/, "");
  const at = {
    issuer: deps.issuer,
    pollUrl: (id: string) => `${base}/v1/ssf/poll/${encodeURIComponent(id)}`,
  };
  const view = (stream: Parameters<typeof streamView>[0]) => streamView(stream, at);
  router.post("/streams", async (req, res) => {
    const body = parseInput(streamCreateBody, req.body);
    res.status(201).json(view(await deps.signals.create(principalOf(req), body)));
  });
  router.get("/streams", async (req, res) => {
    const { stream_id } = parseInput(optionalStreamIdQuery, req.query);
    const caller = principalOf(req);
    if (stream_id !== undefined) return void res.json(view(await deps.signals.get(caller, stream_id)));
    res.json((await deps.signals.list(caller)).map(view));
  });
  router.patch("/streams", async (req, res) => {
    const { stream_id, ...changes } = parseInput(streamUpdateBody, req.body);
    res.json(view(await deps.signals.update(principalOf(req), stream_id, changes)));
  });
  router.delete("/streams", async (req, res) => {
    const { stream_id } = parseInput(streamIdQuery, req.query);
    await deps.signals.remove(principalOf(req), stream_id);
    res.status(204).end();
  });
  router.get("/status", async (req, res) => {
    const { stream_id } = parseInput(streamIdQuery, req.query);
    res.json(streamStatusView(await deps.signals.get(principalOf(req), stream_id)));
  });
  router.post("/status", async (req, res) => {
    const { stream_id, status, reason } = parseInput(streamStatusBody, req.body);
    const stream = await deps.signals.setStatus(principalOf(req), stream_id, status, reason ?? "");
    res.json(streamStatusView(stream));
  });
  router.post("/verify", async (req, res) => {
    const { stream_id, state } = parseInput(streamVerifyBody, req.body);
    await deps.signals.verify(principalOf(req), stream_id, state);
    res.status(204).end();
  });
  router.post("/poll/:streamId", async (req, res) => {
    const body = parseInput(pollBody, req.body ?? {});
    const answer = await deps.signals.poll(principalOf(req), req.params.streamId, body);
    res.setHeader("Cache-Control", "no-store");
    res.json(answer);
  });
  return router;
}

/**
 * `POST /ssf/events`: the broker's RFC 8935 push endpoint for IdP transmitters (`signals.receivers`).
 * Public: the SET's signature authenticates it. `202` when accepted; `400 {"err", "description"}` (§2.4)
 * when refused. Each refusal counts against the sender's address like a rejected assertion
 * (`limits.rejected_assertions_per_address_per_minute`), so a flood of bad SETs is refused with 429 before
 * it is verified or audited.
 */
export function ssfReceiverRoute(deps: {
  intake: SetIntake;
  /** Counts refused SETs per address, as rejected assertions are: past the budget, 429 before anything is read. */
  guard: Pick<AddressGuard, "middleware" | "rejected">;
}): Router {
  const router = Router();
  const body = express.text({ type: SET_MEDIA_TYPE, limit: "64kb" });
  router.post("/ssf/events", deps.guard.middleware, body, async (req, res) => {
    const refuse = (err: string, description: string) => {
      deps.guard.rejected(req.ip ?? "");
      res.status(400).json({ err, description });
    };
    if (!req.is(SET_MEDIA_TYPE) || typeof req.body !== "string") {
      return void refuse("invalid_request", `Content-Type must be ${SET_MEDIA_TYPE}.`);
    }
    try {
      await deps.intake(req.body.trim());
    } catch (err) {
      if (err instanceof SetRefused) return void refuse(err.err, err.description);
      throw err;
    }
    res.status(202).end();
  });
  return router;
}
