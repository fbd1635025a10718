import { z } from "zod";
import {
  optionalStreamIdQuery,
  pollBody,
  streamCreateBody,
  streamIdQuery,
  streamStatusBody,
  streamUpdateBody,
  streamVerifyBody,
} from "../schemas.js";
import type { Operation } from "./operation-types.js";

const time = z.iso.datetime();

export const ssfMetadataResponse = z.looseObject({
  spec_version: z.literal("1_0"),
  issuer: z.string(),
  jwks_uri: z.string(),
  delivery_methods_supported: z.array(z.string()),
  configuration_endpoint: z.string(),
  status_endpoint: z.string(),
  verification_endpoint: z.string(),
  authorization_schemes: z.array(z.object({ spec_urn: z.string() })),
  default_subjects: z.enum(["ALL", "NONE"]),
});

export const streamResponse = z.object({
  stream_id: z.string(),
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  delivery: z.object({ method: z.string(), endpoint_url: z.string() }),
  events_supported: z.array(z.string()),
  events_requested: z.array(z.string()),
  events_delivered: z.array(z.string()),
  description: z.string(),
});

export const streamOrListResponse = z.union([streamResponse, z.array(streamResponse)]);

export const streamStatusResponse = z.object({
  stream_id: z.string(),
  status: z.enum(["enabled", "disabled"]),
  reason: z.string().optional(),
  delivery: z.object({
    delivered: z.number().int(),
    failed_attempts: z.number().int(),
    dropped: z.number().int(),
    last_delivered_at: time.nullable(),
    last_error: z.string().nullable(),
    last_error_at: time.nullable(),
  }),
});

export const pollResponse = z.object({
  sets: z.record(z.string(), z.string()).describe("jti → the SET (compact JWS, `typ: secevent+jwt`)"),
  moreAvailable: z.boolean(),
});

export const setErrorResponse = z.object({
  err: z.enum(["invalid_request", "invalid_key", "invalid_issuer", "invalid_audience"]),
  description: z.string(),
});

const stream = { component: "SsfStream", description: "The stream configuration (SSF 1.0 §8.1.1)" };
const status = { component: "SsfStreamStatus", description: "The stream's status and delivery counters" };
const streamErrors = ["invalid_request", "policy_denied", "not_found"] as const;

/** The Shared Signals transmitter (docs/signals.md). */
export const SIGNALS_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/.well-known/ssf-configuration",
    operationId: "ssfConfiguration",
    tag: "public",
    summary: "SSF 1.0 transmitter configuration metadata",
    auth: "public",
    responses: { 200: { component: "SsfConfiguration", description: "The transmitter metadata" } },
    errors: [],
  },
  {
    method: "post",
    path: "/ssf/events",
    operationId: "receiveSecurityEvent",
    tag: "public",
    summary: "RFC 8935 push endpoint for the IdP transmitters of `signals.receivers`",
    description:
      "Body: one SET, `Content-Type: application/secevent+jwt`. Authenticated by the SET's signature. " +
      "A session-revoked, credential-change or account event closes every open task its subject initiated.",
    auth: "public",
    responses: {
      202: { empty: true, description: "Accepted" },
      400: { component: "SetError", description: "Refused (RFC 8935 §2.4); nothing was done" },
    },
    errors: [],
  },
  {
    method: "post",
    path: "/v1/ssf/streams",
    operationId: "createStream",
    tag: "signals",
    summary: "Create an SSF push stream for the calling resource server",
    description:
      "Only resource servers; the stream hears about tokens of the caller's `audiences` only. " +
      "`delivery.method` must be `urn:ietf:rfc:8935` with an https `endpoint_url`.",
    auth: "client",
    policyAction: "SubscribeSignals",
    body: { schema: streamCreateBody, component: "SsfStreamCreate", form: true },
    responses: { 201: stream },
    errors: [...streamErrors],
  },
  {
    method: "get",
    path: "/v1/ssf/streams",
    operationId: "readStreams",
    tag: "signals",
    summary: "One stream (`stream_id`) or every stream of the caller",
    auth: "client",
    query: optionalStreamIdQuery,
    responses: { 200: { component: "SsfStreamOrList", description: "The stream, or a list of them" } },
    errors: [...streamErrors],
  },
  {
    method: "patch",
    path: "/v1/ssf/streams",
    operationId: "updateStream",
    tag: "signals",
    summary: "Change a stream's endpoint, requested events or description",
    auth: "client",
    body: { schema: streamUpdateBody, component: "SsfStreamUpdate", form: true },
    responses: { 200: stream },
    errors: [...streamErrors],
  },
  {
    method: "delete",
    path: "/v1/ssf/streams",
    operationId: "deleteStream",
    tag: "signals",
    summary: "Delete a stream; SETs still queued for it are dropped",
    auth: "client",
    query: streamIdQuery,
    responses: { 204: { empty: true, description: "Deleted" } },
    errors: [...streamErrors],
  },
  {
    method: "get",
    path: "/v1/ssf/status",
    operationId: "streamStatus",
    tag: "signals",
    summary: "A stream's status, with delivery counters and its last error",
    auth: "client",
    query: streamIdQuery,
    responses: { 200: status },
    errors: [...streamErrors],
  },
  {
    method: "post",
    path: "/v1/ssf/status",
    operationId: "updateStreamStatus",
    tag: "signals",
    summary: "Enable or disable a stream (a disabled stream is sent nothing)",
    auth: "client",
    body: { schema: streamStatusBody, component: "SsfStreamStatusUpdate", form: true },
    responses: { 200: status },
    errors: [...streamErrors],
  },
  {
    method: "post",
    path: "/v1/ssf/verify",
    operationId: "verifyStream",
    tag: "signals",
    summary: "Queue a verification event to the stream (SSF 1.0 §8.1.4)",
    auth: "client",
    body: { schema: streamVerifyBody, component: "SsfVerification", form: true },
    responses: { 204: { empty: true, description: "Queued" } },
    errors: [...streamErrors],
  },
  {
    method: "post",
    path: "/v1/ssf/poll/{stream_id}",
    operationId: "pollStream",
    tag: "signals",
    summary: "RFC 8936 poll of a poll stream: acknowledge SETs, receive the next ones",
    description:
      "Body `{maxEvents?, returnImmediately?, ack?: [jti], setErrs?: {jti: {err, description}}}`; " +
      "acknowledged and refused SETs are forgotten, then up to `maxEvents` (at most 100) are answered. " +
      "The broker never holds the request open.",
    auth: "client",
    body: { schema: pollBody, component: "SsfPollRequest", optional: true, form: true },
    responses: { 200: { component: "SsfPoll", description: "The SETs held for the stream" } },
    errors: [...streamErrors],
  },
];

/** Response components of these operations (merged into `RESPONSE_COMPONENTS`). */
export const SIGNALS_RESPONSE_COMPONENTS: Record<string, z.ZodType> = {
  SsfConfiguration: ssfMetadataResponse,
  SsfStream: streamResponse,
  SsfStreamOrList: streamOrListResponse,
  SsfStreamStatus: streamStatusResponse,
  SsfPoll: pollResponse,
  SetError: setErrorResponse,
};
