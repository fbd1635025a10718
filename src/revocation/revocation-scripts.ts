/**
 * Lua steps of an emergency revocation's progress. All keys of one revocation share the `{revocationId}`
 * hash tag, so each step is atomic on every topology. Buckets: `revoking`, `revoke_failed` (both still
 * open), `revoked`, `expired`, `not_issued`, `resolved` and `gone` (the record vanished).
 */

/**
 * Records credentials a revocation reached, each once.
 * KEYS[1] credentials hash, KEYS[2] open hash, KEYS[3] progress hash, KEYS[4] failed hash
 * ARGV[1] TTL seconds; then triples: credential id, task id, bucket
 * Result: how many were newly recorded.
 */
export const RECORD_REACHED_SCRIPT = `
local added = 0
for i = 2, #ARGV, 3 do
  if redis.call("HSETNX", KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    added = added + 1
    local bucket = ARGV[i + 2]
    redis.call("HINCRBY", KEYS[3], bucket, 1)
    if bucket == "revoking" or bucket == "revoke_failed" then redis.call("HSET", KEYS[2], ARGV[i], bucket) end
    if bucket == "revoke_failed" then redis.call("HSET", KEYS[4], ARGV[i], ARGV[i + 1]) end
  end
end
redis.call("HINCRBY", KEYS[3], "recorded", added)
for k = 1, 4 do redis.call("EXPIRE", KEYS[k], ARGV[1]) end
return added
`;

/**
 * Moves open credentials to the bucket their record's state calls for; a credential that reached a final
 * bucket leaves the open hash. Idempotent: a credential already in its bucket, or not open, is skipped.
 * KEYS[1] open hash, KEYS[2] progress hash, KEYS[3] failed hash, KEYS[4] credentials hash
 * ARGV pairs: credential id, bucket
 * Result: how many moved.
 */
export const TALLY_SCRIPT = `
local moved = 0
for i = 1, #ARGV, 2 do
  local old = redis.call("HGET", KEYS[1], ARGV[i])
  local new = ARGV[i + 1]
  if old and old ~= new then
    moved = moved + 1
    redis.call("HINCRBY", KEYS[2], old, -1)
    redis.call("HINCRBY", KEYS[2], new, 1)
    if new == "revoking" or new == "revoke_failed" then
      redis.call("HSET", KEYS[1], ARGV[i], new)
    else
      redis.call("HDEL", KEYS[1], ARGV[i])
    end
    if new == "revoke_failed" then
      redis.call("HSET", KEYS[3], ARGV[i], redis.call("HGET", KEYS[4], ARGV[i]) or "")
    else
      redis.call("HDEL", KEYS[3], ARGV[i])
    end
  end
end
return moved
`;

/**
 * Advances the close cursor past a finished batch, only from the position it was claimed at.
 * KEYS[1] progress hash
 * ARGV[1] the batch's start, ARGV[2] the next position
 * Result: 1 when advanced, 0 when another run moved it first.
 */
export const ADVANCE_SCRIPT = `
local cursor = tonumber(redis.call("HGET", KEYS[1], "cursor") or "0")
if cursor ~= tonumber(ARGV[1]) then return 0 end
redis.call("HSET", KEYS[1], "cursor", ARGV[2])
return 1
`;
