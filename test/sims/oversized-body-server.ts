import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface OversizedBodyOptions {
  /** Total body size to send if the client keeps reading. */
  totalBytes: number;
  /** Bytes per write. Default 64 KiB. */
  chunkBytes?: number;
  /** Pause between writes, so the body arrives slowly. Default 2 ms. */
  pauseMs?: number;
  /** HTTP status of the answer. Default 200. */
  status?: number;
  /** Declare the full length up front instead of streaming chunked. Default false. */
  declareLength?: boolean;
  /** What the body starts with (the rest is spaces). Default `{"keys":[`. */
  prefix?: string;
}

/** What the server saw of one answer. */
export interface OversizedAnswer {
  path: string;
  /** Body bytes handed to the socket before the client went away (or all of them). */
  bytesSent: number;
  /** Whether the client closed the connection before the whole body was sent. */
  closedEarly: boolean;
  /** ms from the request to the connection's close. */
  openMs: number;
}

/** A local HTTP server that answers every request with a huge JSON-looking body, written slowly. */
export interface OversizedBodyServer {
  url: string;
  /** Answers finished so far (in order of completion). */
  answers: OversizedAnswer[];
  /** Resolves with the next answer to finish (already finished ones first). */
  nextAnswer(): Promise<OversizedAnswer>;
  close(): Promise<void>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the response can take more, or has closed; leaves no listener behind. */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.on("drain", done).on("close", done);
  });
}

async function stream(
  req: IncomingMessage,
  res: ServerResponse,
  options: OversizedBodyOptions,
): Promise<OversizedAnswer> {
  const startedAt = Date.now();
  const chunk = Buffer.alloc(options.chunkBytes ?? 64 * 1024, " ");
  const prefix = Buffer.from(options.prefix ?? '{"keys":[');
  let closed = false;
  res.on("close", () => {
    closed = true;
  });
  res.writeHead(options.status ?? 200, {
    "content-type": "application/json",
    ...(options.declareLength ? { "content-length": String(options.totalBytes) } : {}),
  });
  res.write(prefix);
  let sent = prefix.length;
  while (!closed && sent < options.totalBytes) {
    const piece = chunk.subarray(0, Math.min(chunk.length, options.totalBytes - sent));
    if (!res.write(piece)) await drainedOrClosed(res);
    sent += piece.length;
    await pause(options.pauseMs ?? 2);
  }
  const closedEarly = closed || res.destroyed;
  if (!closedEarly) res.end();
  else req.socket.destroy();
  return { path: req.url ?? "", bytesSent: sent, closedEarly, openMs: Date.now() - startedAt };
}

export async function startOversizedBodyServer(options: OversizedBodyOptions): Promise<OversizedBodyServer> {
  const answers: OversizedAnswer[] = [];
  const waiters: ((answer: OversizedAnswer) => void)[] = [];
  let taken = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    void stream(req, res, options).then((answer) => {
      answers.push(answer);
      waiters.shift()?.(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answers,
    nextAnswer() {
      const done = answers[taken];
      taken += 1;
      if (done) return Promise.resolve(done);
      return new Promise((resolve) => waiters.push(resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
