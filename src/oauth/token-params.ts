import { OAuthError } from "./oauth-errors.js";

/** The form fields of a token request as the urlencoded parser gives them: a repeated field is an array. */
export type TokenParams = Readonly<Record<string, string | string[] | undefined>>;

/** Largest value of any one parameter (an assertion is at most 16 KiB, like a bearer assertion). */
const MAX_PARAM_LENGTH = 16_384;

/** RFC 6749 §3.2: a parameter sent more than once is `invalid_request`; so is an over-long one. */
export function optionalParam(params: TokenParams, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === "") return undefined;
  if (Array.isArray(value)) throw new OAuthError("invalid_request", `${name} is given more than once.`);
  if (value.length > MAX_PARAM_LENGTH) throw new OAuthError("invalid_request", `${name} is too long.`);
  return value;
}

export function requiredParam(params: TokenParams, name: string): string {
  const value = optionalParam(params, name);
  if (value === undefined) throw new OAuthError("invalid_request", `${name} is required.`);
  return value;
}

/** RFC 8707 allows several `resource` values; the broker issues a token for exactly one audience. */
export function resourceParam(params: TokenParams): string {
  const value = params.resource;
  if (Array.isArray(value)) {
    throw new OAuthError(
      "invalid_target",
      "Give one resource per token request; each token has one audience.",
    );
  }
  return requiredParam(params, "resource");
}

/** RFC 6749 §3.3 scope: space-delimited scope tokens; an empty or absent scope asks for none. */
export function scopeParam(params: TokenParams): string[] {
  const scope = optionalParam(params, "scope");
  return scope === undefined ? [] : [...new Set(scope.split(" ").filter((token) => token !== ""))];
}
