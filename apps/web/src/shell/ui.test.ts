/**
 * The shared pieces keep each app's look: the wallet's unprefixed classes (`notice`, `button`), the dashboard's and
 * console's `dash-` ones, with the app's words. Rendered to markup in Node (no DOM needed for what is checked here).
 */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { ConfirmDialog, Loading, Notice } from "./ui.tsx";

describe("Notice", () => {
  it("is a polite status in the wallet's classes by default, empty and hidden until there is a message", () => {
    expect(renderToStaticMarkup(createElement(Notice, { message: undefined }))).toBe(
      '<p class="notice notice-info notice-empty" role="status"></p>',
    );
  });

  it("is an assertive alert for an error, in the class the app names", () => {
    expect(
      renderToStaticMarkup(createElement(Notice, { message: "No.", tone: "error", className: "dash-notice" })),
    ).toBe('<p class="dash-notice dash-notice-error" role="alert">No.</p>');
  });
});

describe("Loading", () => {
  it("announces its label as a status", () => {
    expect(renderToStaticMarkup(createElement(Loading, { label: "Loading…", className: "dash-loading" }))).toBe(
      '<p class="dash-loading" role="status">Loading…</p>',
    );
  });
});

describe("ConfirmDialog", () => {
  const props = { open: false, title: "Refund this payment?", confirmLabel: "Refund", onConfirm() {}, onClose() {} };

  it("names itself by its title and takes the dashboard's classes and words from its look", () => {
    const html = renderToStaticMarkup(
      createElement(ConfirmDialog, {
        ...props,
        danger: true,
        look: { back: "Go back", working: "Working…", prefix: "dash" },
      }),
    );
    expect(html).toContain('<dialog class="dash-dialog" aria-labelledby="dialog-refund-this-payment-"');
    expect(html).toContain('<h2 id="dialog-refund-this-payment-" class="dash-dialog-title">Refund this payment?</h2>');
    expect(html).toContain('<button type="button" class="dash-button dash-button-secondary">Go back</button>');
    expect(html).toContain('<button type="submit" class="dash-button dash-button-danger">Refund</button>');
    expect(html).toContain('class="dash-notice dash-notice-error dash-notice-empty" role="alert"');
  });

  it("takes the wallet's unprefixed classes without a prefix, and says it is working while busy", () => {
    const html = renderToStaticMarkup(
      createElement(ConfirmDialog, { ...props, busy: true, look: { back: "Back", working: "One moment…" } }),
    );
    expect(html).toContain('<dialog class="dialog"');
    expect(html).toContain('<button type="button" class="button button-secondary" disabled="">Back</button>');
    expect(html).toContain('<button type="submit" class="button button-primary" disabled="">One moment…</button>');
  });
});
