import * as client from "openid-client";
import { normaliseClaims } from "../auth/claim-normalisation.js";
import type { Principal } from "../auth/principal.js";
import type { BrokerConfig } from "../config/config-schema.js";

export type ConsoleOidcConfig = NonNullable<BrokerConfig["console"]>["oidc"];

/** Why a callback was refused; each becomes a clear page (nothing is signed in). */
export class SignInError extends Error {}

const isLoopbackHttp = (url: string): boolean => {
  const { protocol, hostname } = new URL(url);
  return protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(hostname);
};

/**
 * The console's relying party: authorization code + PKCE (S256) with state and nonce, the client
 * authenticated with its secret (`client_secret_basic`). Discovery is done on first use and kept, so the
 * broker starts even while the IdP is away (as the dev issuer is, until the broker itself listens).
 */
export function createConsoleOidc(options: {
  oidc: ConsoleOidcConfig;
  clientSecret: string;
  redirectUri: string;
}) {
  const { oidc } = options;
  let discovered: Promise<client.Configuration> | null = null;

  function configuration(): Promise<client.Configuration> {
    discovered ??= client
      .discovery(
        new URL(oidc.issuer),
        oidc.client_id,
        { id_token_signed_response_alg: oidc.id_token_alg },
        client.ClientSecretBasic(options.clientSecret),
        isLoopbackHttp(oidc.issuer) ? { execute: [client.allowInsecureRequests] } : {},
      )
      .catch((err: unknown) => {
        discovered = null;
        throw err;
      });
    return discovered;
  }

  /** Where to send the browser to sign in. */
  async function authorizationUrl(login: { state: string; nonce: string; verifier: string }): Promise<URL> {
    const config = await configuration();
    return client.buildAuthorizationUrl(config, {
      redirect_uri: options.redirectUri,
      scope: oidc.scopes.join(" "),
      state: login.state,
      nonce: login.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(login.verifier),
      code_challenge_method: "S256",
    });
  }

  /** Redeems the code (checking state, nonce, PKCE and the ID token) and returns the human as a principal. */
  async function complete(
    callbackUrl: URL,
    login: { state: string; nonce: string; verifier: string },
  ): Promise<Principal> {
    const config = await configuration();
    let claims: client.IDToken | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: login.verifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (err) {
      throw new SignInError(describe(err));
    }
    if (!claims?.sub) throw new SignInError("The identity provider returned no ID token subject.");
    const kept = Object.fromEntries(
      oidc.allowed_claims.flatMap((name) => (claims[name] === undefined ? [] : [[name, claims[name]]])),
    );
    return {
      id: `${oidc.name}:${claims.sub}`,
      issuer: oidc.name,
      subject: claims.sub,
      kind: "oidc",
      claims: kept,
      tags: normaliseClaims("oidc", kept),
    };
  }

  return { authorizationUrl, complete };
}

export type ConsoleOidc = ReturnType<typeof createConsoleOidc>;

/** A short reason for the refusal page, from openid-client's error codes; never a token. */
function describe(err: unknown): string {
  if (err instanceof client.AuthorizationResponseError) return `The identity provider said: ${err.error}.`;
  if (err instanceof client.ResponseBodyError) return `The token endpoint refused the code (${err.error}).`;
  if (err instanceof Error) {
    // openid-client wraps the check that failed; its cause names it (never a token value).
    const cause = err.cause instanceof Error ? err.cause.message : "";
    const text = `${err.message} ${cause}`;
    if (/"state"/.test(text)) return "The sign-in response's state does not match this browser's sign-in.";
    if (/"nonce"/.test(text)) return "The ID token's nonce does not match this sign-in.";
    return `The sign-in response was not accepted: ${(cause || err.message).slice(0, 200)}.`;
  }
  return "The sign-in response was not accepted.";
}
