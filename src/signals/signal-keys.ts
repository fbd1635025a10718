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
  };
}
