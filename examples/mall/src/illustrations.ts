/**
 * Product pictures drawn in code as SVG (no image files to download or ship): a few shapes per kind, in the
 * product's colours, on a soft background. Served as /images/<sku>.svg.
 */
export type Illustration = {
  kind: "fruit" | "mug" | "tote" | "socks" | "notebook" | "umbrella" | "tin" | "jar" | "teapot" | "cookies";
  color: string;
  /** The second colour: a leaf, a band, a lid. */
  leaf: string;
};

const INK = "#2b2d42";

function shapes({ kind, color, leaf }: Illustration): string {
  switch (kind) {
    case "fruit":
      return `
        <ellipse cx="100" cy="168" rx="62" ry="8" fill="#000" opacity=".08"/>
        <circle cx="72" cy="118" r="38" fill="${color}"/>
        <circle cx="128" cy="118" r="38" fill="${color}"/>
        <circle cx="100" cy="92" r="40" fill="${color}"/>
        <circle cx="86" cy="78" r="10" fill="#fff" opacity=".35"/>
        <path d="M100 54 q2-14 10-20" stroke="${INK}" stroke-width="4" fill="none" stroke-linecap="round"/>
        <path d="M108 40 q22-14 34 2 q-20 12-34-2z" fill="${leaf}"/>`;
    case "mug":
      return `
        <ellipse cx="96" cy="166" rx="58" ry="8" fill="#000" opacity=".08"/>
        <path d="M130 82 h14 a22 22 0 0 1 0 44 h-14" stroke="${color}" stroke-width="12" fill="none"/>
        <rect x="48" y="60" width="90" height="104" rx="14" fill="${color}"/>
        <rect x="48" y="60" width="90" height="16" rx="8" fill="#000" opacity=".12"/>
        <path d="M70 40 q8-10 0-20 M94 40 q8-10 0-20 M118 40 q8-10 0-20" stroke="${INK}" stroke-width="4" fill="none" stroke-linecap="round" opacity=".4"/>
        <circle cx="93" cy="114" r="16" fill="${leaf}" opacity=".85"/>`;
    case "tote":
      return `
        <ellipse cx="100" cy="172" rx="60" ry="7" fill="#000" opacity=".08"/>
        <path d="M74 74 v-18 a26 26 0 0 1 52 0 v18" stroke="${leaf}" stroke-width="8" fill="none"/>
        <path d="M46 74 h108 l-8 94 h-92z" fill="${color}"/>
        <rect x="68" y="104" width="64" height="34" rx="4" fill="${leaf}" opacity=".9"/>
        <text x="100" y="127" font-family="sans-serif" font-size="16" font-weight="700" fill="${color}" text-anchor="middle">MALL</text>`;
    case "socks":
      return `
        <ellipse cx="100" cy="172" rx="64" ry="7" fill="#000" opacity=".08"/>
        <path d="M52 30 h40 v84 q0 24 -22 38 l-18 10 q-22 6 -26-14 q-2-14 14-22 l12-8z" fill="${color}"/>
        <rect x="52" y="30" width="40" height="16" fill="${leaf}"/>
        <path d="M112 40 h40 v84 q0 24 -22 38 l-18 10 q-22 6 -26-14 q-2-14 14-22 l12-8z" fill="${leaf}"/>
        <rect x="112" y="40" width="40" height="16" fill="${color}"/>`;
    case "notebook":
      return `
        <ellipse cx="100" cy="174" rx="56" ry="7" fill="#000" opacity=".08"/>
        <rect x="52" y="28" width="100" height="140" rx="8" fill="${color}"/>
        <rect x="52" y="28" width="16" height="140" rx="4" fill="#000" opacity=".15"/>
        <rect x="128" y="28" width="8" height="150" fill="#e63946"/>
        <rect x="80" y="60" width="56" height="28" rx="4" fill="${leaf}"/>
        <g fill="${leaf}" opacity=".5">${Array.from({ length: 12 }, (_, i) => `<circle cx="${84 + (i % 4) * 14}" cy="${112 + Math.floor(i / 4) * 14}" r="2.5"/>`).join("")}</g>`;
    case "umbrella":
      return `
        <ellipse cx="100" cy="174" rx="50" ry="7" fill="#000" opacity=".08"/>
        <path d="M28 100 a72 72 0 0 1 144 0 q-12-12-24 0 q-12-12-24 0 q-12-12-24 0 q-12-12-24 0 q-12-12-24 0 q-12-12-24 0z" fill="${color}"/>
        <path d="M100 28 v0 M76 100 q0-50 24-72 q24 22 24 72" fill="${leaf}" opacity=".5"/>
        <path d="M100 100 v56 a12 12 0 0 1 -24 0" stroke="${INK}" stroke-width="6" fill="none" stroke-linecap="round"/>`;
    case "tin":
      return `
        <ellipse cx="100" cy="172" rx="52" ry="8" fill="#000" opacity=".08"/>
        <rect x="56" y="50" width="88" height="118" rx="10" fill="${color}"/>
        <rect x="52" y="38" width="96" height="22" rx="6" fill="${INK}" opacity=".8"/>
        <rect x="66" y="80" width="68" height="64" rx="6" fill="${leaf}"/>
        <path d="M100 94 q18 10 0 38 q-18-28 0-38z" fill="${color}"/>
        <path d="M100 98 v30" stroke="${leaf}" stroke-width="2"/>`;
    case "jar":
      return `
        <ellipse cx="100" cy="172" rx="54" ry="8" fill="#000" opacity=".08"/>
        <rect x="62" y="34" width="76" height="20" rx="5" fill="${leaf}"/>
        <path d="M56 62 q0-8 8-8 h72 q8 0 8 8 v96 q0 12-12 12 h-64 q-12 0-12-12z" fill="#fff" opacity=".7" stroke="${INK}" stroke-opacity=".15" stroke-width="2"/>
        <path d="M60 84 h80 v70 q0 12-12 12 h-56 q-12 0-12-12z" fill="${color}"/>
        <g fill="#fff" opacity=".45"><circle cx="80" cy="110" r="6"/><circle cx="112" cy="126" r="5"/><circle cx="96" cy="146" r="4"/></g>`;
    case "teapot":
      return `
        <ellipse cx="100" cy="170" rx="66" ry="8" fill="#000" opacity=".08"/>
        <path d="M140 104 q26-6 28-30" stroke="${color}" stroke-width="10" fill="none" stroke-linecap="round"/>
        <path d="M56 96 q-26 4 -22 30 q4 16 22 12" stroke="${leaf}" stroke-width="8" fill="none"/>
        <ellipse cx="98" cy="116" rx="48" ry="44" fill="${color}"/>
        <ellipse cx="98" cy="76" rx="26" ry="8" fill="${leaf}"/>
        <circle cx="98" cy="64" r="7" fill="${leaf}"/>
        <path d="M66 118 q32 18 64 0" stroke="${leaf}" stroke-width="3" fill="none" opacity=".7"/>`;
    case "cookies":
      return `
        <ellipse cx="100" cy="160" rx="70" ry="10" fill="#000" opacity=".08"/>
        <ellipse cx="100" cy="140" rx="74" ry="18" fill="#fff" stroke="${INK}" stroke-opacity=".12" stroke-width="2"/>
        ${[
          [66, 116],
          [104, 108],
          [140, 118],
          [86, 84],
          [122, 80],
        ]
          .map(
            ([x, y]) =>
              `<g transform="translate(${x} ${y})"><path d="M0-20 l6 8 10-2-2 10 8 6-8 6 2 10-10-2-6 8-6-8-10 2 2-10-8-6 8-6-2-10 10 2z" fill="${color}"/><circle r="7" fill="${leaf}"/></g>`,
          )
          .join("")}`;
  }
}

/** The whole SVG document for a product picture; `label` is its accessible name. */
export function illustrationSvg(picture: Illustration, label: string): string {
  const safe = label.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" role="img" aria-label="${safe}"><title>${safe}</title><rect width="200" height="200" fill="${picture.color}" opacity=".12"/>${shapes(picture)}</svg>`;
}
