import { describe, expect, it } from "vitest";
import { CONSOLE_JS } from "../../../src/console/console-assets.js";
import { formatSeconds, html, layout, SafeHtml } from "../../../src/console/console-html.js";

describe("console markup", () => {
  it("escapes every interpolated value unless it is SafeHtml", () => {
    const evil = `<script>alert("x")</script>' onmouseover='x`;
    const out = html`<p title="${evil}">${evil}${[evil, 1]}${new SafeHtml("<b>ok</b>")}</p>`.text;
    expect(out).not.toContain("<script>");
    expect(out).not.toContain(`' onmouseover='`);
    expect(out).toContain("&#60;script&#62;");
    expect(out).toContain("<b>ok</b>");
  });

  it("pages load their script and style from /console/static only (no inline script for the CSP to allow)", () => {
    const page = layout({ title: "T<", principal: "dev:x", csrf: "c", body: html`<p>b</p>` });
    expect(page).toContain('<script src="/console/static/console.js" defer></script>');
    expect(page.match(/<script/g)).toHaveLength(1);
    expect(page).not.toMatch(/\son[a-z]+=/);
    expect(page).toContain("T&#60; · credbroker console");
  });

  it("the static script parses", () => {
    expect(() => new Function(CONSOLE_JS)).not.toThrow();
  });

  it("formats countdowns", () => {
    expect(formatSeconds(0)).toBe("passed");
    expect(formatSeconds(59)).toBe("59s");
    expect(formatSeconds(61)).toBe("1m 1s");
    expect(formatSeconds(3_700)).toBe("1h 1m");
  });
});
