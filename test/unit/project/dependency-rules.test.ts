import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The dependency rules of docs/architecture.md, checked over the relative imports of every .ts file under
 * providers/ and src/. A small scanner reads the import specifiers (static, `export … from`, side-effect
 * and dynamic imports); package imports are not the subject here.
 */

const ROOT = new URL("../../../", import.meta.url);

/** One relative import: the importing file, the specifier as written, and the file it names. */
interface ImportEdge {
  from: string;
  specifier: string;
  to: string;
}

const STATIC_IMPORT =
  /^[ \t]*(?:import|export)\s+(?:type\s+)?[\w$*\s,]*(?:\{[^}]*\})?[\w$*\s,]*from\s*["']([^"']+)["']/gm;
const SIDE_EFFECT_IMPORT = /^[ \t]*import\s*["']([^"']+)["']/gm;
const DYNAMIC_IMPORT = /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

/** Every module specifier a source text imports or re-exports from. */
function importSpecifiers(text: string): string[] {
  return [STATIC_IMPORT, SIDE_EFFECT_IMPORT, DYNAMIC_IMPORT].flatMap((pattern) =>
    [...text.matchAll(pattern)].map((match) => match[1]!),
  );
}

/** Repo-relative posix paths of the .ts files under `dir`. */
function sourceFiles(dir: string): string[] {
  return readdirSync(new URL(`${dir}/`, ROOT), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => path.posix.join(dir, name.split(path.sep).join("/")));
}

function relativeImports(file: string): ImportEdge[] {
  const text = readFileSync(new URL(file, ROOT), "utf8");
  return importSpecifiers(text)
    .filter((specifier) => specifier.startsWith("./") || specifier.startsWith("../"))
    .map((specifier) => ({
      from: file,
      specifier,
      to: path.posix.join(path.posix.dirname(file), specifier).replace(/\.js$/, ".ts"),
    }));
}

const EDGES = [...sourceFiles("providers"), ...sourceFiles("src")].flatMap(relativeImports);

const describeEdge = (edge: ImportEdge) => `${edge.from} imports "${edge.specifier}" (${edge.to})`;
const edgeKey = (edge: ImportEdge) => `${edge.from} -> ${edge.to}`;

/** The provider folder a file belongs to (`providers/<kind>/…`); null for the shared files in providers/. */
function providerFolder(file: string): string | null {
  return /^providers\/([^/]+)\//.exec(file)?.[1] ?? null;
}

/** Composition and wiring: these build the providers, so they may import any provider module. */
const WIRING = ["src/app.ts", "src/main.ts", "src/wiring/", "src/dev/", "src/cli/", "src/providers-setup/"];
const isWiring = (file: string) =>
  WIRING.some((entry) => (entry.endsWith("/") ? file.startsWith(entry) : file === entry));

/** src/ files outside the wiring that may import a concrete provider module, each with its reason. */
const CONCRETE_PROVIDER_EXCEPTIONS: Record<string, string> = {
  "src/config/config-schema.ts -> providers/signer/signer-config.ts":
    "the broker's config composes each provider's own config schema",
  "src/config/config-schema.ts -> providers/sts/sts-config.ts":
    "the broker's config composes each provider's own config schema",
  "src/config/config-schema.ts -> providers/vault/vault-config.ts":
    "the broker's config composes each provider's own config schema",
  "src/http/routes/signer-routes.ts -> providers/signer/signer-provider.ts":
    "JWKS is the signer's own endpoint, served over its SignerProvider",
  "src/introspection/introspection-service.ts -> providers/signer/signer-provider.ts":
    "introspection answers for signer tokens, through the SignerProvider's introspect",
  "src/audit/audit-checkpoints.ts -> providers/signer/document-signer.ts":
    "audit checkpoints are signed with the signer's document signer",
  "src/audit/audit-checkpoints.ts -> providers/signer/signer-keys.ts":
    "a checkpoint carries the signer's published keys (PublicSignerJwk)",
  "src/audit/checkpoint-types.ts -> providers/signer/signer-keys.ts":
    "a checkpoint carries the signer's published keys (PublicSignerJwk)",
};

/** src/http/ files that still import a store; each is being moved behind a service. */
const HTTP_STORE_EXCEPTIONS: string[] = [];

const offenders = (breaks: (edge: ImportEdge) => boolean) => EDGES.filter(breaks).map(describeEdge);

const importsConcreteProvider = (edge: ImportEdge) =>
  edge.from.startsWith("src/") &&
  !isWiring(edge.from) &&
  !edge.from.startsWith("src/client/") &&
  providerFolder(edge.to) !== null;

/** The HTTP faces: the /v1 routes and the web console (src/console/) call services, never stores. */
const importsStoreFromHttp = (edge: ImportEdge) =>
  (edge.from.startsWith("src/http/") || edge.from.startsWith("src/console/")) &&
  path.posix.basename(edge.to).endsWith("-store.ts");

describe("dependency rules", () => {
  it("the scanner reads static, multi-line, re-export, side-effect and dynamic imports", () => {
    const text = [
      'import { a } from "./a.js";',
      "import type {",
      "  B,",
      "  C,",
      '} from "../b.js";',
      'import d, * as e from "./d.js";',
      'export { f } from "./f.js";',
      'import "./g.js";',
      'const h = await import("./h.js");',
      '// import { x } from "./commented.js"',
    ].join("\n");
    expect(importSpecifiers(text).sort()).toEqual(
      ["./a.js", "../b.js", "./d.js", "./f.js", "./g.js", "./h.js"].sort(),
    );
    expect(EDGES.length).toBeGreaterThan(100);
  });

  it("providers/ imports nothing from src/", () => {
    const intoSrc = (edge: ImportEdge) => edge.from.startsWith("providers/") && edge.to.startsWith("src/");
    expect(offenders(intoSrc), "take it from the ProviderHost or the provider's config section").toEqual([]);
  });

  it("a provider folder imports no other provider folder, and the shared provider files import none", () => {
    const crossing = (edge: ImportEdge) => {
      if (!edge.from.startsWith("providers/")) return false;
      const target = providerFolder(edge.to);
      return target !== null && target !== providerFolder(edge.from);
    };
    expect(
      offenders(crossing),
      "share through the files directly in providers/ (provider.ts, provider-errors.ts, registry.ts, provider-host.ts)",
    ).toEqual([]);
  });

  it("outside the wiring, src/ depends on the provider contract (provider.ts, registry.ts, provider-errors.ts) only", () => {
    const allowed = (edge: ImportEdge) => edgeKey(edge) in CONCRETE_PROVIDER_EXCEPTIONS;
    expect(
      offenders((edge) => importsConcreteProvider(edge) && !allowed(edge)),
      "depend on the contract, or list a legitimate import in CONCRETE_PROVIDER_EXCEPTIONS with its reason",
    ).toEqual([]);
  });

  it("the client SDK (src/client/) imports nothing outside src/client/", () => {
    const leaves = (edge: ImportEdge) =>
      edge.from.startsWith("src/client/") && !edge.to.startsWith("src/client/");
    expect(offenders(leaves), "the client SDK is built and published alone (tsconfig.client.json)").toEqual(
      [],
    );
  });

  it("src/http/ and src/console/ never import a store directly", () => {
    const allowed = (edge: ImportEdge) => HTTP_STORE_EXCEPTIONS.includes(edgeKey(edge));
    expect(
      offenders((edge) => importsStoreFromHttp(edge) && !allowed(edge)),
      "routes call services; services own the stores",
    ).toEqual([]);
  });

  it("layers point one way: only src/http/ itself and the wiring import src/http/", () => {
    const intoHttp = (edge: ImportEdge) =>
      edge.to.startsWith("src/http/") && !edge.from.startsWith("src/http/") && !isWiring(edge.from);
    expect(offenders(intoHttp), "services, stores and providers never depend on the HTTP layer").toEqual([]);
  });

  it("every exception still names an import that needs it (delete the ones that do not)", () => {
    const needed = new Set(
      EDGES.filter((e) => importsConcreteProvider(e) || importsStoreFromHttp(e)).map(edgeKey),
    );
    const stale = [...Object.keys(CONCRETE_PROVIDER_EXCEPTIONS), ...HTTP_STORE_EXCEPTIONS].filter(
      (key) => !needed.has(key),
    );
    expect(stale, "remove these entries from the exception lists").toEqual([]);
  });
});
