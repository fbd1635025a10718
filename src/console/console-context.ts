import type { NextFunction, Request, Response } from "express";
import type { Principal } from "../auth/principal.js";
import { BrokerError, isBrokerError } from "../shared/errors.js";
import { html, layout, type SafeHtml } from "./console-html.js";

/** The signed-in human behind a console request. */
export interface ConsoleUser {
  principal: Principal;
  csrf: string;
}

const users = new WeakMap<Request, ConsoleUser>();

export const setUser = (req: Request, user: ConsoleUser): void => void users.set(req, user);

export function userOf(req: Request): ConsoleUser {
  const user = users.get(req);
  if (!user) throw new Error("console route reached without a session");
  return user;
}

/** Console pages: scripts and styles from this origin only; forms post here; no frames, no plugins. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Sends a whole console page (never cached: pages show live state and carry the CSRF token). */
export function sendPage(
  res: Response,
  input: { title: string; user: ConsoleUser | null; section?: string; body: SafeHtml; status?: number },
): void {
  res
    .status(input.status ?? 200)
    .set("content-security-policy", CONSOLE_CSP)
    .set("cache-control", "no-store")
    // Same-origin referrers, so the browser sends a real Origin with each form (no-referrer sends "null").
    .set("referrer-policy", "same-origin")
    .type("html")
    .send(
      layout({
        title: input.title,
        principal: input.user?.principal.id ?? null,
        csrf: input.user?.csrf ?? null,
        section: input.section,
        body: input.body,
      }),
    );
}

/** A page that says what went wrong and that nothing changed. */
export function sendProblem(
  res: Response,
  input: { status: number; title: string; message: string; user: ConsoleUser | null; signIn?: boolean },
): void {
  const signIn = input.signIn ? html`<p><a href="/console/auth/login">Sign in again</a></p>` : "";
  sendPage(res, {
    status: input.status,
    title: input.title,
    user: input.user,
    body: html`<div class="alert" role="alert"><p>${input.message}</p></div>${signIn}
<p><a href="/console/">Back to the overview</a></p>`,
  });
}

const TITLES: Record<number, string> = {
  400: "Not accepted",
  403: "Not permitted",
  404: "Not found",
  409: "Conflict",
  413: "Too large",
  429: "Too many requests",
  503: "Unavailable",
};

/** Service errors as console pages: the broker's message, its status, and "nothing was changed". */
export function consoleErrorHandler(logger: { error(obj: object, msg: string): void }) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const user = users.get(req) ?? null;
    if (isBrokerError(err)) {
      const status = err.status;
      for (const [name, value] of Object.entries(err.headers ?? {})) res.set(name, value);
      const message =
        err.code === "policy_denied" || status === 403
          ? `${err.message} The policy does not allow this for ${user?.principal.id ?? "you"}; nothing was changed.`
          : `${err.message} Nothing was changed.`;
      sendProblem(res, { status, title: TITLES[status] ?? "Refused", message, user });
      return;
    }
    const status = httpStatusOf(err);
    if (status !== null) {
      const message = "The form could not be read (malformed or too large); nothing was changed.";
      sendProblem(res, { status, title: TITLES[status] ?? "Not accepted", message, user });
      return;
    }
    logger.error({ err }, "console request failed");
    const message = "The console could not complete this request; nothing was changed. Try again.";
    sendProblem(res, { status: 500, title: "Something went wrong", message, user });
  };
}

/** The 4xx status a body parser put on its error (malformed or oversized form), else null. */
function httpStatusOf(err: unknown): number | null {
  if (typeof err !== "object" || err === null || !("status" in err)) return null;
  const status = (err as { status: unknown }).status;
  return typeof status === "number" && status >= 400 && status < 500 ? status : null;
}

/** Reads a form field as a trimmed string (absent → ""). */
export function field(body: unknown, name: string): string {
  if (typeof body !== "object" || body === null) return "";
  const value = (body as Record<string, unknown>)[name];
  return typeof value === "string" ? value.trim() : "";
}

/** A bad form: 400 in the broker's terms, so it renders like any other refusal. */
export const badForm = (message: string): BrokerError => new BrokerError("invalid_request", message);
