import type { Redis } from "ioredis";

/**
 * Makes one socket write of every command a connection is given within one turn of the event loop: the
 * first command of a turn corks the socket and the turn's check phase (`setImmediate`, after the I/O
 * callbacks of the turn) uncorks it. Unlike ioredis' auto-pipelining, nothing waits for an earlier batch's
 * reply; only the syscalls are shared (each command its own write cost about 8% of an issuance's CPU, and
 * Redis reads fewer, larger chunks). Order and replies are unchanged.
 */
export function coalesceWrites(redis: Redis): void {
  const send = redis.sendCommand.bind(redis);
  let corked: Redis["stream"] | null = null;
  redis.sendCommand = (command, stream) => {
    if (corked === null && stream === undefined && redis.status === "ready") {
      const socket = redis.stream;
      socket.cork();
      corked = socket;
      const flush = () => {
        corked = null;
        socket.uncork();
      };
      setImmediate(flush);
    }
    return send(command, stream);
  };
}
