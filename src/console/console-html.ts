/** HTML that is already escaped (built by {@link html}); anything else interpolated is escaped. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Part = SafeHtml | string | number | boolean | null | undefined | readonly Part[];

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return "";
  if (part instanceof SafeHtml) return part.text;
  if (Array.isArray(part)) return part.map(render).join("");
  return escapeHtml(String(part));
}

/** The only way console markup is built: every interpolated value is escaped unless it is SafeHtml. */
export function html(strings: TemplateStringsArray, ...parts: Part[]): SafeHtml {
  let out = strings[0] ?? "";
  parts.forEach((part, i) => {
    out += render(part) + (strings[i + 1] ?? "");
  });
  return new SafeHtml(out);
}

export interface LayoutInput {
  title: string;
  /** The signed-in principal id, or null on the sign-in and error pages. */
  principal: string | null;
  csrf: string | null;
  /** Which navigation entry is current. */
  section?: string;
  body: SafeHtml;
}

const NAV: [string, string][] = [
  ["overview", "Overview"],
  ["tasks", "Tasks"],
  ["approvals", "Approvals"],
  ["revocations", "Emergency revocation"],
  ["failed", "Failed revocations"],
  ["audit", "Audit"],
];

const navHref = (key: string) => (key === "overview" ? "/console/" : `/console/${key}`);

/** The page frame: skip link, navigation, sign-out form, main landmark. */
export function layout(input: LayoutInput): string {
  const nav = input.principal
    ? html`<nav aria-label="Console"><ul>${NAV.map(
        ([key, label]) =>
          html`<li><a href="${navHref(key)}"${key === input.section ? new SafeHtml(' aria-current="page"') : ""}>${label}</a></li>`,
      )}</ul>
<form method="post" action="/console/auth/logout" class="signout"><input type="hidden" name="csrf" value="${input.csrf ?? ""}">
<span>Signed in as <strong data-principal>${input.principal}</strong></span> <button type="submit">Sign out</button></form></nav>`
    : "";
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${input.title} · credbroker console</title>
<link rel="stylesheet" href="/console/static/console.css">
<script src="/console/static/console.js" defer></script>
</head><body><a class="skip" href="#main">Skip to content</a>
<header><p class="brand">credbroker console</p>${nav}</header>
<main id="main" tabindex="-1"><h1>${input.title}</h1>${input.body}</main></body></html>`}`;
}

/** A short `<time>` with a live countdown (console.js updates it each second). */
export function countdown(deadlineMs: number, nowMs: number): SafeHtml {
  const iso = new Date(deadlineMs).toISOString();
  const seconds = Math.max(0, Math.round((deadlineMs - nowMs) / 1000));
  return html`<time datetime="${iso}" data-countdown="${deadlineMs}" title="${iso}">${formatSeconds(seconds)}</time>`;
}

export function formatSeconds(seconds: number): string {
  if (seconds <= 0) return "passed";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

export const iso = (ms: number | null): string => (ms === null ? "—" : new Date(ms).toISOString());

/** A hidden CSRF field for a mutation form. */
export const csrfField = (csrf: string): SafeHtml => html`<input type="hidden" name="csrf" value="${csrf}">`;
