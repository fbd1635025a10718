/**
 * Counts one request in a fixed window, setting the window's expiry on its first request.
 * KEYS[1] = the principal's counter for this window; ARGV[1] = expiry (ms). Result: the count.
 */
export const COUNT_REQUEST_SCRIPT = `
local count = redis.call("INCR", KEYS[1])
if count == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
return count
`;
