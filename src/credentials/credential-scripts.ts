/**
 * Records a pending credential if its task is open and before its deadline.
 * KEYS[1] = task hash, KEYS[2] = task credential list, KEYS[3] = credential hash
 * ARGV[1] = now (ms), ARGV[2] = credential id, ARGV[3..] = credential hash field/value pairs
 * Result: "ok" | "task_not_open" | "missing"
 * Also counts the credential in the task's `unsettled` field when the task has one (tasks get it at
 * creation; one without it is checked by reading its credentials), and in its `n_live` count (likewise).
 */
export const CREATE_PENDING_SCRIPT = `
local task = redis.call("HMGET", KEYS[1], "state", "deadline")
if not task[1] then return "missing" end
if task[1] ~= "open" or tonumber(task[2]) <= tonumber(ARGV[1]) then return "task_not_open" end
redis.call("HSET", KEYS[3], unpack(ARGV, 3))
redis.call("RPUSH", KEYS[2], ARGV[2])
if redis.call("HEXISTS", KEYS[1], "unsettled") == 1 then redis.call("HINCRBY", KEYS[1], "unsettled", 1) end
if redis.call("HEXISTS", KEYS[1], "n_live") == 1 then redis.call("HINCRBY", KEYS[1], "n_live", 1) end
return "ok"
`;

/**
 * Activates a freshly issued credential. If the task was closed while the provider was issuing, the
 * credential is already "revoking": it keeps that state but gains its handle so revocation can proceed.
 * KEYS[1] = credential hash
 * ARGV[1..] = field/value pairs (handle, expiry, downstream account, issue time)
 * Result: "active" | "revoking" | the other current state ("missing" for none)
 */
export const ACTIVATE_SCRIPT = `
local state = redis.call("HGET", KEYS[1], "state")
if not state then return "missing" end
if state == "pending" then
  redis.call("HSET", KEYS[1], "state", "active", unpack(ARGV))
  return "active"
end
if state == "revoking" then
  redis.call("HSET", KEYS[1], unpack(ARGV))
end
return state
`;

/**
 * Moves a credential between states if it is in one of the expected ones, and sets fields, keeping the task's count of unsettled credentials (states other than
 * revoked, expired, failed and resolved) exact, so "are all of this task's credentials settled?" is one HGET,
 * and its counts per state (`n_live` for pending and active, `n_<state>` otherwise) for tasks that have them.
 * KEYS[1] = credential hash, KEYS[2] = its task hash (same `{taskId}` slot)
 * ARGV[1] = space-separated states it may be in, ARGV[2] = new state, ARGV[3..] = field/value pairs
 * Result: the state before the call when it moved, else "!<current state>" ("!missing" for none)
 */
export const CREDENTIAL_TRANSITION_SCRIPT = `
local settled = { revoked = true, expired = true, failed = true, resolved = true }
local function count_field(s)
  if s == "pending" or s == "active" then return "n_live" end
  return "n_" .. s
end
local state = redis.call("HGET", KEYS[1], "state")
if not state then return "!missing" end
for allowed in string.gmatch(ARGV[1], "%S+") do
  if allowed == state then
    redis.call("HSET", KEYS[1], "state", ARGV[2], unpack(ARGV, 3))
    if redis.call("HEXISTS", KEYS[2], "unsettled") == 1 then
      if settled[ARGV[2]] and not settled[state] then redis.call("HINCRBY", KEYS[2], "unsettled", -1) end
      if settled[state] and not settled[ARGV[2]] then redis.call("HINCRBY", KEYS[2], "unsettled", 1) end
    end
    local from, to = count_field(state), count_field(ARGV[2])
    if from ~= to and redis.call("HEXISTS", KEYS[2], "n_live") == 1 then
      redis.call("HINCRBY", KEYS[2], from, -1)
      redis.call("HINCRBY", KEYS[2], to, 1)
    end
    return state
  end
end
return "!" .. state
`;
