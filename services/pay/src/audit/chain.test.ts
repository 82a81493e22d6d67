import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, ChainVerifier, entryHash, GENESIS_HASH, verifyChain } from "./chain.ts";
import type { AuditEntryFields, AuditHead, ChainProblemKind, ChainVerdict, StoredAuditEntry } from "./chain.ts";

type Body = Omit<AuditEntryFields, "seq">;

const bodyArb: fc.Arbitrary<Body> = fc.record({
  at: fc
    .date({ min: new Date("2020-01-01"), max: new Date("2040-01-01"), noInvalidDate: true })
    .map((d) => d.toISOString()),
  actor: fc.string(),
  action: fc.string(),
  target: fc.option(fc.string(), { nil: null }),
  data: fc.dictionary(fc.string(), fc.jsonValue()),
});
const chainArb = (minLength = 1) => fc.array(bodyArb, { minLength, maxLength: 12 }).map(buildChain);

/** What an honest writer stores: seq from 1, each entry linked to the one before. */
function buildChain(bodies: Body[]): StoredAuditEntry[] {
  let prevHash = GENESIS_HASH;
  return bodies.map((body, i) => {
    const fields = { ...body, seq: i + 1 };
    const hash = entryHash(prevHash, fields);
    const stored = { ...fields, prevHash, hash };
    prevHash = hash;
    return stored;
  });
}

function headOf(chain: StoredAuditEntry[]): AuditHead | null {
  const last = chain.at(-1);
  return last ? { seq: last.seq, hash: last.hash } : null;
}

function kinds(verdict: ChainVerdict): ChainProblemKind[] {
  return verdict.ok ? [] : verdict.problems.map((p) => p.kind);
}

type Field = keyof StoredAuditEntry;
const FIELDS: Field[] = ["seq", "at", "actor", "action", "target", "data", "prevHash", "hash"];

/** Changes one stored field so that its canonical form surely differs. */
function edit(entry: StoredAuditEntry, field: Field): StoredAuditEntry {
  switch (field) {
    case "seq":
      return { ...entry, seq: entry.seq + 100 };
    case "at":
      return { ...entry, at: new Date(Date.parse(entry.at) + 1).toISOString() };
    case "target":
      return { ...entry, target: entry.target === null ? "" : null };
    case "data":
      return { ...entry, data: { ...entry.data, tampered: !entry.data.tampered } };
    case "prevHash":
    case "hash":
      return { ...entry, [field]: entry[field].replace(/^./, (c) => (c === "0" ? "1" : "0")) };
    default:
      return { ...entry, [field]: `${entry[field]}x` };
  }
}

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops whitespace", () => {
    expect(canonicalJson({ b: 1, a: [1, "x", null, { d: true, c: false }], "": -0 })).toBe(
      '{"":0,"a":[1,"x",null,{"c":false,"d":true}],"b":1}',
    );
    expect(canonicalJson({ é: 1, z: 2, Z: 3, "\u{1F600}": 4, "\uFFFF": 5 })).toBe(
      '{"Z":3,"z":2,"é":1,"\u{1F600}":4,"\uFFFF":5}',
    );
  });

  it("drops undefined properties and refuses what JSON would change", () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    for (const bad of [
      NaN,
      Infinity,
      -Infinity,
      1n,
      undefined,
      [1, undefined],
      [1, , 2],
      { a: [NaN] },
      { d: new Date(0) },
      new Map(),
      () => 1,
      Symbol("s"),
    ]) {
      expect(() => canonicalJson(bad)).toThrow(TypeError);
    }
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalJson(loop)).toThrow(/contains itself/);
    const shared = { x: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"x":1},{"x":1}]'); // repeated, not cyclic
  });

  it("does not depend on key order and survives a JSON round trip (as through jsonb)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(record));
      }),
    );
  });
});

describe("entryHash", () => {
  it("is SHA-256 over prevHash, a newline and the canonical fields", () => {
    const fields = {
      seq: 1,
      at: "2025-01-02T03:04:05.000Z",
      actor: "adm_1",
      action: "key.rotate",
      target: null,
      data: { to: 2, from: 1 },
    };
    const text = `${GENESIS_HASH}\n{"action":"key.rotate","actor":"adm_1","at":"2025-01-02T03:04:05.000Z","data":{"from":1,"to":2},"seq":1,"target":null}`;
    expect(entryHash(GENESIS_HASH, fields)).toBe(createHash("sha256").update(text).digest("hex"));
    // Extra properties (a stored row's prevHash, hash, id) are not hashed.
    expect(entryHash(GENESIS_HASH, { ...fields, prevHash: "x", hash: "y", id: "aud_1" } as AuditEntryFields)).toBe(
      entryHash(GENESIS_HASH, fields),
    );
  });
});

describe("verifyChain", () => {
  it("accepts an honest chain, also after a JSON round trip, and an empty log with no head", () => {
    fc.assert(
      fc.property(chainArb(), (chain) => {
        expect(verifyChain(chain, headOf(chain))).toEqual({ ok: true, count: chain.length });
        const reread = JSON.parse(JSON.stringify(chain)) as StoredAuditEntry[];
        expect(verifyChain(reread, headOf(chain))).toEqual({ ok: true, count: chain.length });
      }),
    );
    expect(verifyChain([], null)).toEqual({ ok: true, count: 0 });
  });

  it("detects any single edited field as an edit of that entry", () => {
    fc.assert(
      fc.property(chainArb(), fc.nat(), fc.constantFrom(...FIELDS), (chain, pick, field) => {
        const i = pick % chain.length;
        const original = chain[i];
        if (!original) throw new Error("index out of range");
        const tampered = chain.with(i, edit(original, field));
        const verdict = verifyChain(tampered, headOf(chain));
        expect(verdict.ok).toBe(false);
        if (!verdict.ok)
          expect(verdict.problems.some((p) => p.kind === "edited" && p.seq === tampered[i]?.seq)).toBe(true);
      }),
    );
  });

  it("detects any single deleted entry: in the middle or at the start as deleted, at the end as truncated", () => {
    fc.assert(
      fc.property(chainArb(), fc.nat(), (chain, pick) => {
        const i = pick % chain.length;
        const verdict = verifyChain(chain.toSpliced(i, 1), headOf(chain));
        expect(kinds(verdict)).toContain(i === chain.length - 1 ? "truncated" : "deleted");
      }),
    );
  });

  it("detects any swap of two entries as a reordering", () => {
    fc.assert(
      fc.property(chainArb(2), fc.nat(), fc.nat(), (chain, a, b) => {
        const i = a % chain.length;
        const j = (i + 1 + (b % (chain.length - 1))) % chain.length; // any index but i
        const x = chain[i];
        const y = chain[j];
        if (!x || !y) throw new Error("index out of range");
        const swapped = chain.with(i, y).with(j, x);
        expect(kinds(verifyChain(swapped, headOf(chain)))).toContain("reordered");
      }),
    );
  });

  it("detects deletion of the newest entries, down to an empty log", () => {
    fc.assert(
      fc.property(chainArb(), fc.nat(), (chain, pick) => {
        const keep = pick % chain.length; // 0 … length-1 entries remain
        const verdict = verifyChain(chain.slice(0, keep), headOf(chain));
        expect(verdict.ok).toBe(false);
        if (!verdict.ok)
          expect(verdict.problems).toEqual([expect.objectContaining({ kind: "truncated", seq: chain.length })]);
      }),
    );
  });

  it("detects a chain rewritten consistently from some entry on, by someone without the key", () => {
    fc.assert(
      fc.property(chainArb(), fc.nat(), (chain, pick) => {
        const i = pick % chain.length;
        const bodies = chain.map(({ at, actor, action, target, data }) => ({ at, actor, action, target, data }));
        const forged = buildChain(bodies.map((body, k) => (k === i ? { ...body, actor: `${body.actor}x` } : body)));
        const verdict = verifyChain(forged, headOf(chain));
        expect(kinds(verdict)).toEqual(["head_mismatch"]);
      }),
    );
  });

  it("detects entries appended after the signed head, and entries with no signed head at all", () => {
    fc.assert(
      fc.property(chainArb(2), (chain) => {
        const signed = chain.slice(0, -1);
        expect(kinds(verifyChain(chain, headOf(signed)))).toEqual(["head_mismatch"]);
        expect(kinds(verifyChain(chain, null))).toEqual(["head_mismatch"]);
      }),
    );
  });

  it("tells a skipped seq number with intact links (a writer bug) from a deletion", () => {
    const [first] = buildChain([{ at: "2025-01-01T00:00:00.000Z", actor: "a", action: "x", target: null, data: {} }]);
    if (!first) throw new Error("no entry");
    const fields = { seq: 3, at: "2025-01-01T00:00:01.000Z", actor: "a", action: "y", target: null, data: {} };
    const skipped = { ...fields, prevHash: first.hash, hash: entryHash(first.hash, fields) };
    expect(kinds(verifyChain([first, skipped], { seq: 3, hash: skipped.hash }))).toEqual(["gap"]);
  });

  it("reports a row whose data is not plain JSON as edited instead of throwing", () => {
    const chain = buildChain([{ at: "2025-01-01T00:00:00.000Z", actor: "a", action: "x", target: null, data: {} }]);
    const broken = chain.map((e) => ({ ...e, data: { n: NaN } }));
    expect(kinds(verifyChain(broken, headOf(chain)))).toEqual(["edited"]);
  });

  it("gives the same verdict page by page", () => {
    fc.assert(
      fc.property(chainArb(), fc.nat(), (chain, pick) => {
        const tampered = chain.toSpliced(pick % chain.length, 1);
        const verifier = new ChainVerifier(headOf(chain));
        for (const entry of tampered) verifier.add(entry);
        expect(verifier.finish()).toEqual(verifyChain(tampered, headOf(chain)));
      }),
    );
  });
});

describe("verifyChain against checkpoints (earlier signed heads, witnessed heads)", () => {
  const witnessedAt = (chain: StoredAuditEntry[], seq: number) => ({
    seq,
    hash: seq === 0 ? GENESIS_HASH : chain[seq - 1]!.hash,
    source: "witnessed" as const,
  });

  it("accepts an honest chain, whatever earlier heads were witnessed or signed", () => {
    fc.assert(
      fc.property(chainArb(), fc.array(fc.nat()), (chain, picks) => {
        const checkpoints = picks.map((p) => ({
          ...witnessedAt(chain, p % (chain.length + 1)),
          source: p % 2 ? ("signed" as const) : ("witnessed" as const),
        }));
        expect(verifyChain(chain, headOf(chain), checkpoints)).toEqual({ ok: true, count: chain.length });
      }),
    );
  });

  it("catches a key holder who rewrote the chain from some entry on and signed a new head, if a witnessed head is at or after it", () => {
    fc.assert(
      fc.property(chainArb(), fc.nat(), fc.nat(), (chain, pickEdit, pickWitness) => {
        const i = pickEdit % chain.length; // the first rewritten entry (index; its seq is i + 1)
        const bodies = chain.map(({ at, actor, action, target, data }) => ({ at, actor, action, target, data }));
        const forged = buildChain(bodies.map((body, k) => (k === i ? { ...body, action: `${body.action}x` } : body)));
        const witnessed = witnessedAt(chain, pickWitness % (chain.length + 1));
        const verdict = verifyChain(forged, headOf(forged), [witnessed]);
        if (witnessed.seq > i) expect(kinds(verdict)).toEqual(["witnessed_head_mismatch"]);
        else expect(verdict.ok).toBe(true); // before the rewrite: nothing witnessed was changed
      }),
    );
  });

  it("catches a truncation before a witnessed head, which the newest signed head alone cannot", () => {
    fc.assert(
      fc.property(chainArb(2), fc.nat(), (chain, pick) => {
        const keep = pick % chain.length; // 0 … length-1 entries remain
        const truncated = chain.slice(0, keep);
        // The truncated log with its own (older, genuinely signed) head passes on its own…
        expect(verifyChain(truncated, headOf(truncated)).ok).toBe(true);
        // …but not against the witness, who kept the newest head.
        const verdict = verifyChain(truncated, headOf(truncated), [witnessedAt(chain, chain.length)]);
        expect(verdict.ok).toBe(false);
        if (!verdict.ok)
          expect(verdict.problems).toEqual([
            expect.objectContaining({ kind: "witnessed_head_missing", seq: chain.length }),
          ]);
      }),
    );
  });

  it("reports many failing witnessed heads as one finding each way", () => {
    const chain = buildChain(
      Array.from({ length: 6 }, (_, i) => ({
        at: "2025-01-01T00:00:00.000Z",
        actor: "a",
        action: `x${i}`,
        target: null,
        data: {},
      })),
    );
    const witnessed = [2, 3, 4, 5, 6].map((s) => witnessedAt(chain, s));
    const verdict = verifyChain(chain.slice(0, 3), headOf(chain.slice(0, 3)), witnessed);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.problems).toHaveLength(1);
      expect(verdict.problems[0]).toMatchObject({ kind: "witnessed_head_missing", seq: 4 });
      expect(verdict.problems[0]!.message).toMatch(/and 2 more witnessed heads/);
    }
  });

  it("holds earlier signed heads to the chain too", () => {
    const chain = buildChain(
      Array.from({ length: 4 }, (_, i) => ({
        at: "2025-01-01T00:00:00.000Z",
        actor: "a",
        action: `x${i}`,
        target: null,
        data: {},
      })),
    );
    const signed = { seq: 2, hash: "f".repeat(64), source: "signed" as const };
    expect(kinds(verifyChain(chain, headOf(chain), [signed]))).toEqual(["head_mismatch"]);
  });
});
