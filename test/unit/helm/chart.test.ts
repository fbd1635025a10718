import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { REPO_ROOT } from "../../support/dockerfile.js";
import { type Schema, validate } from "../../support/json-schema.js";

/**
 * No helm binary runs here, so the chart is checked statically: values.yaml (and every ci/ values file
 * merged over it) against values.schema.json, every non-template YAML parsed strictly, every `.Values…`
 * path a template reads present in values.yaml (and every value read by some template), and the security
 * settings both deployments must carry.
 */
const CHART = path.join(REPO_ROOT, "helm/credbroker");
type Tree = Record<string, unknown>;

/** Parses YAML strictly: any error or warning (duplicate keys included) throws. */
function strictYaml(text: string, name: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, strict: true, prettyErrors: false });
  const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
  if (problems.length > 0) throw new Error(`${name}: ${problems.join("; ")}`);
  return doc.toJS();
}
const readYaml = (file: string): unknown => strictYaml(readFileSync(file, "utf8"), file);

const isTree = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);
/** Helm's values merge: maps merge key by key, anything else replaces. */
function merge(base: unknown, over: unknown): unknown {
  if (!isTree(base) || !isTree(over)) return over;
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = merge(base[key], value);
  return out;
}
const clone = <T>(v: T): T => structuredClone(v);

const schema = JSON.parse(readFileSync(path.join(CHART, "values.schema.json"), "utf8")) as Schema;
const values = readYaml(path.join(CHART, "values.yaml")) as Tree;
const ciFiles = readdirSync(path.join(CHART, "ci")).filter((f) => f.endsWith(".yaml"));
const templateDir = path.join(CHART, "templates");
const templates = Object.fromEntries(
  readdirSync(templateDir).map((file) => [file, readFileSync(path.join(templateDir, file), "utf8")]),
);

/** Every `.Values.a.b` path a template reads, following `$x := .Values.a` (and `$v := $root.Values`) aliases. */
function valuesPaths(source: string): string[] {
  const aliases = new Map<string, string>();
  for (const m of source.matchAll(/\$(\w+)\s*:=\s*(?:\$\w*)?\.Values((?:\.\w+)*)(?=\s|\)|\}|$)/g)) {
    aliases.set(m[1]!, m[2]!.slice(1));
  }
  const found = [...source.matchAll(/(?:^|[^\w$])(?:\$\w*)?\.Values((?:\.\w+)+)/g)].map((m) =>
    m[1]!.slice(1),
  );
  for (const m of source.matchAll(/\$(\w+)((?:\.\w+)+)/g)) {
    const base = aliases.get(m[1]!);
    if (base !== undefined) found.push([base, m[2]!.slice(1)].filter(Boolean).join("."));
  }
  return [...new Set(found)];
}

const hasPath = (tree: unknown, dotted: string): boolean =>
  dotted.split(".").every((key) => {
    if (!isTree(tree) || !(key in tree)) return false;
    tree = tree[key];
    return true;
  });

/** A plain `define` block of _helpers.tpl (values only, no control actions), its actions replaced by 1. */
function definedYaml(name: string): Tree {
  const helpers = templates["_helpers.tpl"] ?? "";
  const body = new RegExp(`\\{\\{-? define "${name}" -?\\}\\}([\\s\\S]*?)\\{\\{-? end \\}\\}`).exec(
    helpers,
  )?.[1];
  if (body === undefined) throw new Error(`no define ${name}`);
  return strictYaml(body.replace(/\{\{[^}]*\}\}/g, "1"), name) as Tree;
}

describe("the Helm chart's values", () => {
  it("values.yaml satisfies values.schema.json", () => {
    expect(validate(schema, values)).toEqual([]);
  });

  it.each(ciFiles)("ci/%s merged over values.yaml satisfies the schema", (file) => {
    expect(validate(schema, merge(values, readYaml(path.join(CHART, "ci", file))))).toEqual([]);
  });

  it("offers standalone, Sentinel and Cluster Redis, each exercised by a ci/ values file", () => {
    const redis = values.redis as Tree;
    expect(Object.keys(redis)).toEqual(expect.arrayContaining(["standalone", "sentinel", "cluster"]));
    const modes = ciFiles.map(
      (f) => ((readYaml(path.join(CHART, "ci", f)) as Tree).redis as Tree | undefined)?.mode,
    );
    expect(new Set(modes)).toEqual(new Set(["standalone", "sentinel", "cluster"]));
  });

  const rejected: [string, (v: Tree) => void][] = [
    [
      "an inline secret in the broker config",
      (v) => Object.assign(v.config as Tree, { audit: { token: "x" } }),
    ],
    [
      "a secret nested deep in a profile",
      (v) =>
        Object.assign(v.config as Tree, {
          profiles: { p: { provider: "vault", max_ttl_seconds: 60, data: [{ password: "x" }] } },
        }),
    ],
    ["the chart-owned server.port", (v) => Object.assign((v.config as Tree).server as Tree, { port: 9000 })],
    [
      "the chart-owned signer kek_env",
      (v) => Object.assign(((v.config as Tree).providers as Tree).signer as Tree, { kek_env: "X" }),
    ],
    [
      "a chart-owned Vault secret source",
      (v) =>
        Object.assign((v.config as Tree).providers as Tree, {
          vault: { address: "https://vault:8200", auth: { method: "token", token_file: "/t" } },
        }),
    ],
    ["an unknown Redis mode", (v) => Object.assign(v.redis as Tree, { mode: "replicated" })],
    [
      "Sentinel mode without sentinels",
      (v) =>
        Object.assign(v.redis as Tree, { mode: "sentinel", sentinel: { name: "m", sentinels: [], db: 0 } }),
    ],
    [
      "a non-redis URL",
      (v) => Object.assign((v.redis as Tree).standalone as Tree, { url: "http://redis:6379" }),
    ],
    ["running as root", (v) => Object.assign(v.podSecurityContext as Tree, { runAsUser: 0 })],
    [
      "a secret value under secrets",
      (v) => Object.assign((v.secrets as Tree).signerKek as Tree, { value: "c2VjcmV0" }),
    ],
    ["a policy file not named *.cedar", (v) => Object.assign(v, { policies: { "agents.txt": "permit" } })],
    ["no worker", (v) => Object.assign(v.worker as Tree, { replicaCount: 0 })],
    ["an unknown top-level key", (v) => Object.assign(v, { replicas: 3 })],
  ];
  it.each(rejected)("the schema rejects %s", (_name, mutate) => {
    const changed = clone(values);
    mutate(changed);
    expect(validate(schema, changed).length).toBeGreaterThan(0);
  });
});

describe("the Helm chart's files", () => {
  it("Chart.yaml, values.yaml and ci/*.yaml are strict, duplicate-free YAML; Chart.yaml is a v2 chart of this version", () => {
    const chart = readYaml(path.join(CHART, "Chart.yaml")) as Tree;
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    expect(chart).toMatchObject({
      apiVersion: "v2",
      name: "credbroker",
      type: "application",
      appVersion: pkg.version,
    });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+$/);
    for (const file of ciFiles) expect(() => readYaml(path.join(CHART, "ci", file))).not.toThrow();
    expect(() => readYaml(path.join(CHART, "values.yaml"))).not.toThrow();
    expect(() => strictYaml("a: 1\na: 2\n", "duplicate")).toThrow(/duplicate/i);
  });

  it("every .Values path a template reads exists in values.yaml", () => {
    const used = Object.values(templates).flatMap(valuesPaths);
    expect(used.length).toBeGreaterThan(50);
    const missing = used.filter((p) => !hasPath(values, p));
    expect(missing).toEqual([]);
  });

  it("every value in values.yaml is read by some template (no dead knobs)", () => {
    const used = new Set(Object.values(templates).flatMap(valuesPaths));
    const leaves: string[] = [];
    const walk = (tree: unknown, at: string[]) => {
      if (
        !isTree(tree) ||
        Object.keys(tree).length === 0 ||
        at[0] === "policies" ||
        (at.length >= 2 && at[0] === "config")
      ) {
        leaves.push(at.join("."));
        return;
      }
      for (const [key, child] of Object.entries(tree)) walk(child, [...at, key]);
    };
    walk(values, []);
    const coveredBy = (leaf: string) => [...used].some((p) => leaf === p || leaf.startsWith(`${p}.`));
    const dynamic = (leaf: string) =>
      /^(api|worker)\.podDisruptionBudget\./.test(leaf) &&
      templates["pdb.yaml"]?.includes("index $.Values $role");
    const sections = (leaf: string) =>
      leaf.startsWith("config.") && templates["configmap.yaml"]?.includes(`"${leaf.split(".")[1]}"`);
    expect(leaves.filter((l) => !coveredBy(l) && !dynamic(l) && !sections(l))).toEqual([]);
  });

  it("no template holds a Secret: the chart only references Secrets you create", () => {
    for (const [file, text] of Object.entries(templates)) expect(text, file).not.toMatch(/kind:\s*Secret\b/);
    expect(templates["_helpers.tpl"]).toContain("secretKeyRef");
  });
});

describe("the Helm chart's deployments", () => {
  const api = templates["deployment-api.yaml"] ?? "";
  const worker = templates["deployment-worker.yaml"] ?? "";

  it("both roles run with the same locked-down pod and container security", () => {
    for (const deployment of [api, worker]) {
      expect(deployment).toContain('include "credbroker.podCommon" .');
      expect(deployment).toContain('include "credbroker.containerSecurityContext" .');
      expect(deployment).toContain('include "credbroker.volumeMounts" .');
      expect(deployment).not.toMatch(/securityContext:\s*\{\{-? *toYaml/);
    }
    expect(definedYaml("credbroker.podSecurityContext")).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(definedYaml("credbroker.containerSecurityContext")).toEqual({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    const common = templates["_helpers.tpl"] ?? "";
    expect(common).toMatch(/automountServiceAccountToken: false\nenableServiceLinks: false/);
    expect(common).toMatch(/- name: tmp\n {2}mountPath: \/tmp\n/);
    expect(common).toMatch(/- name: config\n {2}mountPath: \/etc\/credbroker\n {2}readOnly: true/);
    expect(common).toMatch(/- name: tmp\n {2}emptyDir:/);
    expect(common).toMatch(/serviceAccountToken:\n\s+audience:/);
  });

  it("the api role has probes on /readyz and /healthz, an HPA, a PDB and the Service; the worker has probes and metrics on its health port only", () => {
    expect(api).toMatch(/readinessProbe:\s+httpGet:\s+path: \/readyz/);
    expect(api).toMatch(/livenessProbe:\s+httpGet:\s+path: \/healthz/);
    expect(api).toContain('"--role", "api"');
    expect(worker).toContain('"--role", "worker"');
    expect(worker).toMatch(/- name: health\s+containerPort: 8081/);
    expect(worker).toMatch(/readinessProbe:\s+httpGet:\s+path: \/readyz\s+port: health/);
    expect(worker).toMatch(/livenessProbe:\s+httpGet:\s+path: \/healthz\s+port: health/);
    expect(templates["_helpers.tpl"]).toMatch(/- name: CREDBROKER_WORKER_PORT\n\s+value: "8081"/);
    expect(templates["service-worker.yaml"]).toMatch(/clusterIP: None[\s\S]+targetPort: health/);
    expect(templates["servicemonitor.yaml"]).toContain('dict "api" "http" "worker" "health"');
    expect(templates["hpa.yaml"]).toMatch(
      /kind: Deployment\s+name: \{\{ include "credbroker.fullname" \. \}\}-api/,
    );
    expect(templates["pdb.yaml"]).toContain('list "api" "worker"');
    expect(templates["service.yaml"]).toContain("app.kubernetes.io/component: api");
    expect(templates["networkpolicy.yaml"]).toMatch(
      /The worker serves only health and metrics[^\n]*\n\s+ingress:\n\s+- ports:\n\s+- port: health/,
    );
  });

  it("an in-cluster Kubernetes issuer gets the cluster CA mounted and anonymous issuer discovery bound", () => {
    const helpers = templates["_helpers.tpl"] ?? "";
    expect(helpers).toMatch(
      /if \.Values\.kubernetesIssuer\.enabled \}\}\n- name: kube-ca\n {2}configMap:\n {4}name: kube-root-ca\.crt/,
    );
    expect(helpers).toMatch(
      /- name: kube-ca\n {2}mountPath: \/var\/run\/secrets\/credbroker\/kubernetes\n {2}readOnly: true/,
    );
    const rbac = templates["rbac.yaml"] ?? "";
    expect(rbac).toContain(
      "if and .Values.kubernetesIssuer.enabled .Values.kubernetesIssuer.allowAnonymousDiscovery",
    );
    expect(rbac).toMatch(/name: system:service-account-issuer-discovery[\s\S]+name: system:unauthenticated/);
  });

  it("both roles get the same secret references and the config checksum that rolls them on change", () => {
    for (const [deployment, role] of [
      [api, "api"],
      [worker, "worker"],
    ] as const) {
      expect(deployment).toContain(`include "credbroker.env" (dict "root" . "role" "${role}")`);
      expect(deployment).toContain('include "credbroker.configChecksum" .');
    }
  });
});

describe("the Helm chart's console", () => {
  it("is off unless config.console is set; a console values file validates and its secret is wired by reference", () => {
    expect(values.config).toMatchObject({ console: {} });
    expect(templates["configmap.yaml"]).toContain('"console"');
    expect(templates["_helpers.tpl"]).toContain("CREDBROKER_CONSOLE_CLIENT_SECRET");
    const withConsole = merge(clone(values), {
      config: {
        console: {
          oidc: { name: "corp", issuer: "https://login.example.com", client_id: "credbroker-console" },
          session: { idle_timeout_seconds: 600 },
        },
      },
      secrets: { consoleOidc: { existingSecret: "console-oidc" } },
    });
    expect(validate(schema, withConsole)).toEqual([]);
    const off = merge(clone(values), { config: { console: { enabled: false } } });
    expect(validate(schema, off)).toEqual([]);
    const insecure = merge(clone(values), {
      config: { console: { oidc: { name: "corp", issuer: "http://login.example.com", client_id: "c" } } },
    });
    expect(validate(schema, insecure)).not.toEqual([]);
  });
});
