import type { Request } from "express";
import type { Principal } from "../auth/principal.js";

const principals = new WeakMap<Request, Principal>();

/** Attaches the verified caller to the request (done once, by the authenticate middleware). */
export function setPrincipal(req: Request, principal: Principal): void {
  principals.set(req, principal);
}

/** The verified caller; routes behind `authenticate` always have one. */
export function principalOf(req: Request): Principal {
  const principal = principals.get(req);
  if (!principal) throw new Error("route reached without authentication");
  return principal;
}
