/** RFC 6749 §5.1. */
export interface TokenResponse {
  access_token: string;
  /** `DPoP` when the request carried a valid DPoP proof (RFC 9449 §5). */
  token_type: "Bearer" | "DPoP";
  expires_in: number;
  scope?: string;
  /** RFC 8693 §2.2.1, on token exchange only. */
  issued_token_type?: string;
}
