/**
 * Counts the commands in a client → Redis byte stream (RESP: each command is an array `*<n>\r\n` of bulk
 * strings `$<len>\r\n<bytes>\r\n`; an inline command is one line). Streaming: chunks may split anywhere.
 * A pipeline or MULTI block counts each command inside it; commands a Lua script runs are not visible here.
 */
export interface RespCounter {
  feed(chunk: Buffer): void;
  commands(): number;
}

const CR = 13;
const LF = 10;

export function createRespCounter(): RespCounter {
  let count = 0;
  /** Bulk strings left in the current array; 0 between commands. */
  let elements = 0;
  /** Payload bytes (plus CRLF) of the current bulk string left to skip; -1 when reading a header line. */
  let skip = -1;
  let line = "";

  const onLine = (text: string) => {
    if (elements === 0) {
      if (text.startsWith("*")) {
        elements = Number(text.slice(1));
        if (elements > 0) count += 1;
        else elements = 0;
      } else if (text.trim() !== "") count += 1; // inline command
      return;
    }
    if (text.startsWith("$")) skip = Number(text.slice(1)) + 2;
  };

  return {
    feed(chunk) {
      let i = 0;
      while (i < chunk.length) {
        if (skip >= 0) {
          const take = Math.min(skip, chunk.length - i);
          skip -= take;
          i += take;
          if (skip === 0) {
            skip = -1;
            elements -= 1;
          }
          continue;
        }
        const end = chunk.indexOf(LF, i);
        if (end === -1) {
          line += chunk.toString("latin1", i);
          return;
        }
        const stop = end > i && chunk[end - 1] === CR ? end - 1 : end;
        line += chunk.toString("latin1", i, stop);
        if (line.endsWith("\r")) line = line.slice(0, -1);
        onLine(line);
        line = "";
        i = end + 1;
      }
    },
    commands: () => count,
  };
}
