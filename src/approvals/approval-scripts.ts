/**
 * Moves an approval between states if it is in one of the expected ones, and sets fields.
 * KEYS[1] = approval hash
 * ARGV[1] = space-separated states it may be in, ARGV[2] = new state, ARGV[3..] = field/value pairs
 * Result: the state before the call when it moved, else "!<current state>" ("!missing" for none)
 */
export const APPROVAL_TRANSITION_SCRIPT = `
local state = redis.call("HGET", KEYS[1], "state")
if not state then return "!missing" end
for allowed in string.gmatch(ARGV[1], "%S+") do
  if allowed == state then
    redis.call("HSET", KEYS[1], "state", ARGV[2], unpack(ARGV, 3))
    return state
  end
end
return "!" .. state
`;
