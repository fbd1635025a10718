/**
 * Appends a batch of pre-hashed events to the audit chain if the head is still the one the broker hashed
 * against (compare-and-set: Redis Lua has no SHA-256, so hashing happens in the broker).
 *
 * KEYS[1] = head key, KEYS[2] = stream key, KEYS[2+i] = the task index of event i, or the stream key
 *           when event i has no task (so KEYS and ARGV stay aligned)
 * ARGV[1] = expected head "<seq> <hash>" ("" for an empty chain)
 * ARGV[2] = new head "<seq> <hash>"
 * ARGV[2+i] = event i's JSON, in chain order
 * Result: "ok", or the current head ("empty" for none) when it differs from ARGV[1]
 */
export const AUDIT_APPEND_SCRIPT = `
local head = redis.call("GET", KEYS[1]) or ""
if head ~= ARGV[1] then
  if head == "" then return "empty" end
  return head
end
for i = 3, #ARGV do
  local id = redis.call("XADD", KEYS[2], "*", "e", ARGV[i])
  if KEYS[i] ~= KEYS[2] then
    redis.call("RPUSH", KEYS[i], id)
  end
end
redis.call("SET", KEYS[1], ARGV[2])
return "ok"
`;

/**
 * Releases the seal lock only if this holder still owns it (a pass that outlived the lock's expiry must
 * not free the lock another process has taken since).
 *
 * KEYS[1] = seal lock key
 * ARGV[1] = the holder's token
 * Result: 1 when released, 0 when the lock was no longer this holder's
 */
export const SEAL_LOCK_RELEASE_SCRIPT = `
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0
`;
