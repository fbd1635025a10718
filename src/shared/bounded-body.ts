/**
 * Bounded reading of outbound responses (fetch's `Response`). A peer that answers with a huge or endless
 * body must cost the broker at most the cap plus one network chunk: the read stops, and the connection is
 * dropped, as soon as more than the cap has arrived. Nothing is ever read in full first.
 */

/** A response body was larger than its cap; the read was aborted there. */
export class ResponseTooLargeError extends Error {
  /** Stable code to branch on (never the message). */
  readonly code = "ERR_RESPONSE_TOO_LARGE";

  constructor(
    readonly url: string,
    readonly limitBytes: number,
  ) {
    super(`GET ${url} returned more than ${limitBytes} bytes; the read was aborted`);
    this.name = "ResponseTooLargeError";
  }
}

/** The declared `Content-Length`, when it is a plain number. */
function declaredLength(response: Response): number | undefined {
  const header = response.headers.get("content-length");
  return header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
}

/**
 * The body's bytes, at most `maxBytes`. Throws {@link ResponseTooLargeError} (after cancelling the body,
 * which closes the connection) when the declared length or the bytes received exceed the cap.
 */
export async function readBoundedBytes(response: Response, maxBytes: number, url: string): Promise<Buffer> {
  const body = response.body;
  if (body === null) return Buffer.alloc(0);
  if ((declaredLength(response) ?? 0) > maxBytes) {
    await body.cancel();
    throw new ResponseTooLargeError(url, maxBytes);
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel();
      throw new ResponseTooLargeError(url, maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, received);
}

/** The body as UTF-8 text, at most `maxBytes` (see {@link readBoundedBytes}). */
export async function readBoundedText(response: Response, maxBytes: number, url: string): Promise<string> {
  return (await readBoundedBytes(response, maxBytes, url)).toString("utf8");
}

/** Drops a body the broker has no use for without reading it (the connection is released). */
export async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}
