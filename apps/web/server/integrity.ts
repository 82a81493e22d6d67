/**
 * Subresource integrity for index.html (W3C SRI): every `<script src>` and `<link href>` of a stylesheet or module
 * preload gets `integrity="sha384-…"` of the file this server serves, so a browser runs only those exact bytes.
 * Computed when the server loads the build, from the very files it then serves.
 */
import { createHash } from "node:crypto";

export function sha384Integrity(body: Uint8Array): string {
  return `sha384-${createHash("sha384").update(body).digest("base64")}`;
}

/** The tags that load code or style: `<script … src=…>` and `<link … href=…>` with rel stylesheet/modulepreload. */
const LOADING_TAG = /<(script|link)\b([^>]*)>/gi;
const ATTRIBUTE = (name: string) => new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, "i");

function attribute(attributes: string, name: string): string | undefined {
  const found = ATTRIBUTE(name).exec(attributes);
  return found ? (found[1] ?? found[2] ?? found[3]) : undefined;
}

export class IntegrityError extends Error {
  override readonly name = "IntegrityError";
}

/**
 * `html` with an integrity attribute on each loading tag. `fileAt(path)` gives the served bytes of a same-origin
 * path. A tag that loads from elsewhere, or from a file the build lacks, is refused: the policy allows neither.
 */
export function withIntegrity(html: string, fileAt: (path: string) => Uint8Array | undefined): string {
  return html.replace(LOADING_TAG, (tag, name: string, attributes: string) => {
    const isScript = name.toLowerCase() === "script";
    const rel = attribute(attributes, "rel")?.toLowerCase();
    if (!isScript && rel !== "stylesheet" && rel !== "modulepreload") return tag;
    const source = attribute(attributes, isScript ? "src" : "href");
    if (source === undefined) {
      // An inline script: the Content-Security-Policy would block it, so the build must not have one.
      if (isScript) throw new IntegrityError("index.html has an inline <script>: the policy forbids it");
      return tag;
    }
    if (attribute(attributes, "integrity") !== undefined) return tag;
    if (!source.startsWith("/") || source.startsWith("//"))
      throw new IntegrityError(`index.html loads ${source} from another origin: only this origin's files may run`);
    const body = fileAt(source);
    if (!body) throw new IntegrityError(`index.html loads ${source}, which the build does not have`);
    const closing = attributes.endsWith("/") ? "/" : "";
    const kept = closing ? attributes.slice(0, -1).trimEnd() : attributes;
    return `<${name}${kept} integrity="${sha384Integrity(body)}"${closing ? " /" : ""}>`;
  });
}
