import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import express, { type Request, type Response, type Router } from "express";

/** A client of the dev issuer's authorization code flow (the console). */
export interface DevOidcClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

/** A person who may sign in at the dev issuer; the claims go into the ID token. */
export interface DevUser {
  username: string;
  name: string;
  /** What the dev policy lets this user do (shown on the sign-in page). */
  role: string;
}

export interface DevLoginOptions {
  clients: DevOidcClient[];
  users: DevUser[];
  /** Mints the ID token (the issuer's current key). */
  mintIdToken: (claims: Record<string, unknown> & { sub: string }) => Promise<string>;
  now: () => number;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce: string;
  user: DevUser;
  expiresAt: number;
}

const CODE_TTL_MS = 60_000;
/** The sign-in form posts here and is redirected to a client: both must be allowed form targets. */
const pageCsp = (clients: DevOidcClient[]): string => {
  const origins = [...new Set(clients.flatMap((c) => c.redirectUris.map((uri) => new URL(uri).origin)))];
  return `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${origins.join(" ")}; frame-ancestors 'none'; base-uri 'none'`;
};

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const sha256url = (text: string): string => createHash("sha256").update(text).digest("base64url");

const sameText = (a: string, b: string): boolean => {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y);
};

const param = (source: Record<string, unknown>, name: string): string => {
  const value = source[name];
  return typeof value === "string" ? value : "";
};

/**
 * The dev issuer's authorization code + PKCE flow (S256 only): a sign-in page that asks for a dev
 * username, one-use codes that live 60 s in memory, and a token endpoint that authenticates the client
 * with its secret (basic or post). For `npm start` and tests; never a production IdP.
 */
export function devLoginRoutes(issuerUrl: string, options: DevLoginOptions): Router {
  const codes = new Map<string, PendingCode>();
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: "16kb" });
  const PAGE_CSP = pageCsp(options.clients);

  const fail = (res: Response, status: number, message: string) =>
    res
      .status(status)
      .set("content-security-policy", PAGE_CSP)
      .type("html")
      .send(page("Sign-in refused", `<p role="alert">${escapeHtml(message)}</p>`));

  /** Checks the authorization request; the message names what is wrong. */
  function checkRequest(query: Record<string, unknown>): string | DevOidcClient {
    const client = options.clients.find((c) => c.clientId === param(query, "client_id"));
    if (!client) return "Unknown client_id.";
    if (!client.redirectUris.includes(param(query, "redirect_uri"))) return "redirect_uri is not registered.";
    if (param(query, "response_type") !== "code") return "response_type must be code.";
    if (param(query, "code_challenge_method") !== "S256" || !param(query, "code_challenge"))
      return "PKCE with code_challenge_method S256 is required.";
    if (!param(query, "scope").split(" ").includes("openid")) return "scope must include openid.";
    return client;
  }

  router.get("/authorize", (req, res) => {
    const query = req.query as Record<string, unknown>;
    const checked = checkRequest(query);
    if (typeof checked === "string") return void fail(res, 400, checked);
    res.set("content-security-policy", PAGE_CSP).set("cache-control", "no-store").type("html");
    res.send(signInPage(query, options.users, null));
  });

  router.post("/authorize", form, (req, res) => {
    const body = req.body as Record<string, unknown>;
    const checked = checkRequest(body);
    if (typeof checked === "string") return void fail(res, 400, checked);
    const user = options.users.find((u) => u.username === param(body, "username").trim().toLowerCase());
    if (!user) {
      res.status(401).set("content-security-policy", PAGE_CSP).type("html");
      return void res.send(signInPage(body, options.users, "No dev user has that username."));
    }
    const code = randomBytes(24).toString("base64url");
    codes.set(code, {
      clientId: checked.clientId,
      redirectUri: param(body, "redirect_uri"),
      codeChallenge: param(body, "code_challenge"),
      nonce: param(body, "nonce"),
      user,
      expiresAt: options.now() + CODE_TTL_MS,
    });
    const target = new URL(param(body, "redirect_uri"));
    target.searchParams.set("code", code);
    if (param(body, "state")) target.searchParams.set("state", param(body, "state"));
    target.searchParams.set("iss", issuerUrl);
    res.redirect(303, target.toString());
  });

  router.post("/token", form, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const client = authenticateClient(req, body, options.clients);
    if (!client) return void tokenError(res, 401, "invalid_client", "Client authentication failed.");
    if (param(body, "grant_type") !== "authorization_code")
      return void tokenError(res, 400, "unsupported_grant_type", "Only authorization_code.");
    const code = param(body, "code");
    const pending = codes.get(code);
    codes.delete(code);
    const valid =
      pending &&
      pending.expiresAt > options.now() &&
      pending.clientId === client.clientId &&
      pending.redirectUri === param(body, "redirect_uri") &&
      sha256url(param(body, "code_verifier")) === pending.codeChallenge;
    if (!pending || !valid) return void tokenError(res, 400, "invalid_grant", "The code is not valid.");
    const user = pending.user;
    const idToken = await options.mintIdToken({
      sub: user.username,
      aud: client.clientId,
      ...(pending.nonce ? { nonce: pending.nonce } : {}),
      name: user.name,
      preferred_username: user.username,
      email: `${user.username}@dev.invalid`,
      email_verified: true,
    });
    res.set("cache-control", "no-store").json({
      access_token: randomBytes(24).toString("base64url"),
      token_type: "Bearer",
      expires_in: 300,
      id_token: idToken,
    });
  });

  return router;
}

function authenticateClient(
  req: Request,
  body: Record<string, unknown>,
  clients: DevOidcClient[],
): DevOidcClient | undefined {
  const header = req.get("authorization") ?? "";
  let id = param(body, "client_id");
  let secret = param(body, "client_secret");
  if (header.toLowerCase().startsWith("basic ")) {
    const decoded = Buffer.from(header.slice(6), "base64").toString();
    const colon = decoded.indexOf(":");
    id = decodeURIComponent(decoded.slice(0, colon));
    secret = decodeURIComponent(decoded.slice(colon + 1));
  }
  const client = clients.find((c) => c.clientId === id);
  return client && sameText(client.clientSecret, secret) ? client : undefined;
}

function tokenError(res: Response, status: number, error: string, description: string): void {
  res.status(status).set("cache-control", "no-store").json({ error, error_description: description });
}

const CARRIED = ["client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge"];

function signInPage(request: Record<string, unknown>, users: DevUser[], error: string | null): string {
  const hidden = [...CARRIED, "code_challenge_method"]
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(param(request, name))}">`)
    .join("");
  const rows = users
    .map((u) => `<li><code>${escapeHtml(u.username)}</code> — ${escapeHtml(u.role)}</li>`)
    .join("");
  return page(
    "Dev sign-in",
    `${error ? `<p role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="authorize">${hidden}
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required autofocus>
<button type="submit">Sign in</button>
</form>
<h2>Dev users</h2><ul>${rows}</ul>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#111}
label{display:block;font-weight:600;margin:.5rem 0}input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}
button{font:inherit;margin-top:1rem;padding:.5rem 1.2rem}[role=alert]{color:#a00000;font-weight:600}</style>
</head><body><main><h1>${escapeHtml(title)}</h1>
<p>The credbroker dev issuer: sign in as one of the dev users below.</p>${body}</main></body></html>`;
}
