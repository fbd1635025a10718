import path from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { createPolicyEngine, type PolicyEngine } from "../policy/policy-engine.js";
import { POLICY_ACTIONS, type PolicyAction } from "../policy/policy-types.js";
import { type ExplainQuestion, explainRequest } from "../policy/sample-requests.js";
import { createLogger } from "../shared/logger.js";

const print = (text: string) => process.stdout.write(`${text}\n`);

/** Loads the files as the broker would (strict schema validation); a broken set throws with every problem. */
function load(files: string[]): PolicyEngine {
  const logger = createLogger({ level: "warn", destination: process.stderr });
  return createPolicyEngine({ files: files.map((f) => path.resolve(f)), baseDir: process.cwd(), logger });
}

function check(files: string[], options: { json?: boolean }): void {
  const info = load(files).info();
  if (options.json) {
    print(JSON.stringify({ valid: true, ...info }, null, 2));
    return;
  }
  print(`valid: ${info.count} policies (${info.policyIds.join(", ") || "none"})`);
  print(`policy set hash: ${info.hash}`);
}

const explainOptions = z.object({
  files: z.array(z.string()).min(1, "--files names at least one policy file"),
  principal: z.string().regex(/^[^:]+:.+$/, "--principal is <issuer name>:<sub>"),
  kind: z.string().default("oidc"),
  tag: z.array(z.string().regex(/^[^=]+=.*$/, "--tag is name=value")).default([]),
  action: z.custom<PolicyAction>((value) => POLICY_ACTIONS.some((action) => action === value), {
    message: `--action is one of ${POLICY_ACTIONS.join(", ")}`,
  }),
  profile: z.string().default(""),
  provider: z.string().default("signer"),
  scope: z.array(z.string()).default([]),
  ttl: z.coerce.number().int().positive().default(300),
  approved: z.boolean().default(false),
  intent: z.string().default(""),
  label: z.array(z.string().regex(/^[^=]+=.*$/, "--label is name=value")).default([]),
  json: z.boolean().optional(),
});

const pairs = (list: string[]): Record<string, string> =>
  Object.fromEntries(
    list.map((item) => [item.slice(0, item.indexOf("=")), item.slice(item.indexOf("=") + 1)]),
  );

function explain(raw: unknown): void {
  const o = explainOptions.parse(raw);
  const [issuer = "", ...rest] = o.principal.split(":");
  const question: ExplainQuestion = {
    principal: { id: o.principal, issuer, subject: rest.join(":"), kind: o.kind, tags: pairs(o.tag) },
    action: o.action,
    profile: o.profile,
    provider: o.provider,
    scopes: o.scope,
    ttlSeconds: o.ttl,
    approved: o.approved,
    intent: o.intent,
    labels: pairs(o.label),
  };
  const engine = load(o.files);
  const decision = engine.authorize(explainRequest(question));
  if (o.json) {
    print(JSON.stringify(decision, null, 2));
    return;
  }
  print(`${decision.effect}: ${o.principal} ${o.action}${o.profile ? ` ${o.profile}` : ""}`);
  const why =
    decision.effect === "allow"
      ? `permitted by ${decision.policyIds.join(", ")}${decision.maxTtlSeconds ? ` (@max_ttl ${decision.maxTtlSeconds} s)` : ""}`
      : decision.effect === "approval_required"
        ? `held for approval by ${decision.policyIds.join(", ")} (retry with --approved to see the outcome after approval)`
        : decision.policyIds.length > 0
          ? `forbidden by ${decision.policyIds.join(", ")}`
          : "no policy permits it (the default is deny)";
  print(why);
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `credbroker policy check|explain`: offline, from the policy files, without a running broker. */
export function registerPolicyCommands(program: Command): void {
  const policy = program.command("policy").description("check policy files and explain decisions, offline");
  policy
    .command("check")
    .description("validate policy files against the broker's Cedar schema (as the broker loads them)")
    .argument("<files...>", "Cedar policy files")
    .option("--json", "print JSON")
    .action((files: string[], options: { json?: boolean }) => check(files, options));
  policy
    .command("explain")
    .description("show the decision the policies make for one request, and which policies made it")
    .requiredOption("--files <file>", "a Cedar policy file (repeat for more)", collect)
    .requiredOption("--principal <id>", "<issuer name>:<sub>, e.g. ci:system:serviceaccount:agents:bot")
    .option("--kind <kind>", "the issuer's kind (oidc, kubernetes, github, gitlab, spiffe)", "oidc")
    .option("--tag <name=value>", "a normalised claim of the principal (repeat)", collect)
    .requiredOption("--action <action>", `one of ${POLICY_ACTIONS.join(", ")}`)
    .option("--profile <name>", "the profile asked for (RequestCredential)")
    .option("--provider <kind>", "the profile's provider", "signer")
    .option("--scope <scope>", "a scope asked for (repeat)", collect)
    .option("--ttl <seconds>", "the TTL asked for", "300")
    .option("--approved", "as after a human approved the request")
    .option("--intent <text>", "the task's intent")
    .option("--label <name=value>", "a task label (repeat)", collect)
    .option("--json", "print the decision as JSON")
    .action((options: Record<string, unknown>) => explain({ ...options, files: options.files }));
}
