import type { Command } from "commander";
import { expectShape } from "./api-client.js";
import { sealResult } from "./api-schemas.js";
import { connect, print, printJson } from "./cli-context.js";

/** `credbroker audit seal`: a signed checkpoint of the chain's head now (POST /v1/audit/checkpoints). */
export async function sealCommand(command: Command): Promise<void> {
  const { client, json } = connect(command);
  const answer = await client.post("/v1/audit/checkpoints");
  if (json) return printJson(answer);
  const { checkpoint, created } = expectShape(sealResult, answer, "POST /v1/audit/checkpoints");
  const signed = `signed at ${checkpoint.time} by key ${checkpoint.kid}, head hash ${checkpoint.hash}`;
  print(
    created
      ? `audit chain sealed through seq ${checkpoint.seq}: every event up to it is covered by a checkpoint ${signed}`
      : `nothing new to seal: the checkpoint at seq ${checkpoint.seq} (${signed}) already covers the head`,
  );
}
