import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  Router,
} from "express";
import { sendPage, sendProblem, setUser, userOf } from "./console-context.js";
import { html } from "./console-html.js";
import { readLogin, startLogin } from "./console-login.js";
import type { ConsoleOidc } from "./console-oidc.js";
import { SignInError } from "./console-oidc.js";
import { type ConsoleSessions, csrfTokenOf, type SessionEnd, sameToken } from "./console-sessions.js";

export interface ConsoleAuthDeps {
  sessions: ConsoleSessions;
  oidc: ConsoleOidc;
  /** The broker's public URL: the callback's base, the expected Origin of forms, and whether cookies are Secure. */
  publicUrl: string;
  idpName: string;
  absoluteTimeoutSeconds: number;
  /** The API's per-principal rate limit, applied to the signed-in human (the same window as their /v1 calls). */
  rateLimit: RequestHandler;
}

const LOGIN_MAX_AGE = 600;

/** Plain http only on loopback addresses: there the cookies cannot be Secure. */
export function cookieNames(publicUrl: string) {
  const secure = new URL(publicUrl).protocol === "https:";
  return {
    secure,
    // __Host-: Secure, Path=/, no Domain, so no other host or path can set or shadow the cookie.
    session: secure ? "__Host-cb_console" : "cb_console",
    login: secure ? "__Host-cb_console_login" : "cb_console_login",
  };
}

export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

function cookie(name: string, value: string, options: { secure: boolean; sameSite: string; maxAge: number }) {
  const parts = [`${name}=${value}`, "Path=/", "HttpOnly", `SameSite=${options.sameSite}`];
  parts.push(`Max-Age=${options.maxAge}`);
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

const safeReturn = (value: unknown): string =>
  typeof value === "string" && /^\/console\/[A-Za-z0-9/_?=&.%:-]*$/.test(value) && !value.includes("//")
    ? value
    : "/console/";

const ENDED: Record<Exclude<SessionEnd, "missing">, string> = {
  unknown: "Your console session has ended or was signed out.",
  idle: "Your console session ended because it was idle too long.",
  absolute: "Your console session reached its maximum length.",
};

/**
 * Sign-in (OIDC code + PKCE), the callback, sign-out, and the session and CSRF checks every other console
 * route sits behind. The login cookie is SameSite=Lax because the IdP's redirect back is a cross-site
 * navigation; the session cookie is SameSite=Strict, so the callback hands over with a same-site refresh.
 */
export function consoleAuth(deps: ConsoleAuthDeps) {
  const names = cookieNames(deps.publicUrl);
  const origin = new URL(deps.publicUrl).origin;
  const router = Router();

  router.get("/auth/login", async (req, res) => {
    const { cookieValue, checks } = startLogin(safeReturn(req.query.return_to));
    let target: URL;
    try {
      target = await deps.oidc.authorizationUrl(checks);
    } catch {
      const message = `The identity provider (${deps.idpName}) cannot be reached; try again shortly.`;
      return void sendProblem(res, { status: 503, title: "Sign-in unavailable", message, user: null });
    }
    res.append(
      "set-cookie",
      cookie(names.login, cookieValue, { ...names, sameSite: "Lax", maxAge: LOGIN_MAX_AGE }),
    );
    res.set("cache-control", "no-store").redirect(303, target.toString());
  });

  router.get("/auth/callback", async (req, res) => {
    res.append("set-cookie", cookie(names.login, "", { ...names, sameSite: "Lax", maxAge: 0 }));
    const login = readLogin(readCookie(req, names.login));
    const refuse = (message: string) =>
      sendProblem(res, {
        status: 400,
        title: "Sign-in failed",
        message: `${message} Nobody was signed in.`,
        user: null,
        signIn: true,
      });
    if (!login)
      return void refuse("This browser has no sign-in in progress (it expired, or was already used).");
    try {
      const principal = await deps.oidc.complete(new URL(req.originalUrl, `${origin}/`), login);
      const sessionId = await deps.sessions.create(principal);
      res.append(
        "set-cookie",
        cookie(names.session, sessionId, {
          ...names,
          sameSite: "Strict",
          maxAge: deps.absoluteTimeoutSeconds,
        }),
      );
      // A same-site refresh: the Strict cookie is not sent on the rest of the IdP's cross-site redirect.
      const returnTo = safeReturn(login.returnTo);
      res.set("refresh", `0; url=${returnTo}`);
      sendPage(res, {
        title: "Signed in",
        user: null,
        body: html`<p>Signed in as <strong>${principal.id}</strong>. <a href="${returnTo}">Continue</a></p>`,
      });
    } catch (err) {
      if (err instanceof SignInError) return void refuse(err.message);
      throw err;
    }
  });

  /** Every route after this one needs a live session; mutations need the session's CSRF token. */
  router.use(async (req: Request, res: Response, next: NextFunction) => {
    const session = await deps.sessions.touch(readCookie(req, names.session));
    if (typeof session === "string") {
      if (session === "missing" && req.method === "GET")
        return void landing(res, deps.idpName, req.originalUrl);
      const message = `${session === "missing" ? "You are not signed in." : ENDED[session]} Nothing was changed.`;
      return void sendProblem(res, { status: 401, title: "Signed out", message, user: null, signIn: true });
    }
    setUser(req, { principal: session.principal, csrf: csrfTokenOf(readCookie(req, names.session) ?? "") });
    next();
  });

  router.use(deps.rateLimit);
  router.use(express.urlencoded({ extended: false, limit: "64kb" }));
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method === "GET" || req.method === "HEAD") return next();
    const user = userOf(req);
    const sent = typeof req.body?.csrf === "string" ? req.body.csrf : "";
    const sameOrigin = req.get("origin") === undefined || req.get("origin") === origin;
    if (sameOrigin && sent && sameToken(sent, user.csrf)) return next();
    const message =
      "This form's security token is missing or does not match your session (CSRF check), so it was refused. Nothing was changed. Reload the page and try again.";
    sendProblem(res, { status: 403, title: "Form refused", message, user });
  });

  router.post("/auth/logout", async (req, res) => {
    await deps.sessions.end(readCookie(req, names.session));
    res.append("set-cookie", cookie(names.session, "", { ...names, sameSite: "Strict", maxAge: 0 }));
    sendPage(res, {
      title: "Signed out",
      user: null,
      body: html`<p class="note" role="status">You are signed out.</p><p><a href="/console/auth/login">Sign in again</a></p>`,
    });
  });

  return router;
}

function landing(res: Response, idpName: string, path: string): void {
  const target = `/console/auth/login?return_to=${encodeURIComponent(safeReturn(path))}`;
  sendPage(res, {
    status: 401,
    title: "Sign in",
    user: null,
    body: html`<p>The console is for operators, approvers and auditors. Sign in with your organisation's identity provider.</p>
<p><a class="button" href="${target}">Sign in with ${idpName}</a></p>`,
  });
}
