/** Markup that is already escaped. Only `html` makes one, so every interpolated string is escaped once. */
export class SafeHtml {
  constructor(readonly markup: string) {}
}

export type Fragment = string | number | boolean | null | SafeHtml | readonly SafeHtml[];

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

function fragment(value: Fragment): string {
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map((part: SafeHtml) => part.markup).join("");
  if (value === null) return "—";
  return escapeHtml(String(value));
}

/** Tagged template: literal markup stays, every interpolation is escaped (or inserted if already safe). */
export function html(strings: TemplateStringsArray, ...values: Fragment[]): SafeHtml {
  let out = strings[0] ?? "";
  for (const [i, value] of values.entries()) out += fragment(value) + (strings[i + 1] ?? "");
  return new SafeHtml(out);
}

/** Joins fragments with a separator (both escaped unless already safe). */
export const joined = (parts: readonly SafeHtml[], separator: string): SafeHtml =>
  html`${parts.map((part, i) => html`${i > 0 ? separator : ""}${part}`)}`;

const BADGE_CLASS: Record<string, string> = {
  valid: "ok",
  INVALID: "bad",
  evidenced: "ok",
  supports: "part",
  "not covered": "na",
  allow: "ok",
  deny: "bad",
  approval_required: "warn",
  approved: "ok",
  denied: "bad",
  cancelled: "na",
  redeemed: "ok",
  expired: "na",
  pending: "warn",
  live: "warn",
  revoking: "warn",
  revoked: "ok",
  resolved: "ok",
  not_issued: "na",
  revoke_failed: "bad",
  open: "warn",
  closing: "warn",
  closed: "ok",
};

/** A status word in a pill; the word carries the meaning, the colour only repeats it. */
export const badge = (value: string): SafeHtml =>
  html`<span class="badge ${BADGE_CLASS[value] ?? "na"}">${value}</span>`;

/** An id or hash: monospace, cut short on screen with an ellipsis, the full value in `title` and in print. */
export const id = (value: string | null): SafeHtml =>
  value === null ? html`—` : html`<code class="id" title="${value}">${value}</code>`;

export const ids = (values: readonly string[]): SafeHtml =>
  values.length === 0 ? html`—` : joined(values.map(id), ", ");

/** `2026-03-01T10:00:00.123Z` as `2026-03-01 10:00:00Z`: whole seconds, one line, full value in `title`. */
export function time(value: string | null): SafeHtml {
  if (value === null) return html`—`;
  const compact = value.replace("T", " ").replace(/\.\d+Z$/, "Z");
  return html`<time class="ts" datetime="${value}" title="${value}">${compact}</time>`;
}

/** A table, or the `empty` sentence when there are no rows. */
export function table(headers: string[], rows: SafeHtml[], empty: string): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table><thead><tr>${headers.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table>`;
}

/** Muted second line of a cell. */
export const aside = (content: Fragment): SafeHtml => html`<br><span class="muted">${content}</span>`;
