/**
 * Starts closing a task if it is open.
 * KEYS[1] = task hash
 * ARGV[1] = close reason, ARGV[2] = now (ms)
 * Result: the state before the call ("open" means this call moved it to "closing"), or "missing"
 */
export const BEGIN_CLOSE_SCRIPT = `
local state = redis.call("HGET", KEYS[1], "state")
if not state then return "missing" end
if state == "open" then
  redis.call("HSET", KEYS[1], "state", "closing", "close_reason", ARGV[1], "closing_at", ARGV[2])
end
return state
`;

/**
 * Finishes closing a task.
 * KEYS[1] = task hash
 * ARGV[1] = now (ms)
 * Result: 1 if this call moved the task from "closing" to "closed", else 0
 */
export const COMPLETE_CLOSE_SCRIPT = `
if redis.call("HGET", KEYS[1], "state") ~= "closing" then return 0 end
redis.call("HSET", KEYS[1], "state", "closed", "closed_at", ARGV[1])
return 1
`;
