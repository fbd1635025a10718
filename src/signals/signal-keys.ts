/**
 * Redis keys of the Shared Signals transmitter. A stream's record holds only what the receiver gave
 * (its push endpoint, the events it asked for) and delivery counters; never a secret.
 */
export function signalKeys(prefix: string) {
  return {
    /** Hash: one stream (config and status counters). */
    stream: (streamId: string) => `${prefix}:ssf:stream:${streamId}`,
    /** Set: the stream ids of one resource server (`rs:<client_id>`). */
    byClient: (clientId: string) => `${prefix}:ssf:client:${clientId}`,
    /** Set: the stream ids that receive events about tokens of one audience. */
    byAudience: (audience: string) => `${prefix}:ssf:aud:${audience}`,
    /** Sorted set: jtis of the SETs a poll stream holds, by when they were stored (ms). */
    pollOrder: (streamId: string) => `${prefix}:ssf:poll:{${streamId}}:order`,
    /** Hash: jti → the signed SET, for a poll stream (RFC 8936), until the receiver acknowledges it. */
    pollSets: (streamId: string) => `${prefix}:ssf:poll:{${streamId}}:sets`,
  };
}
