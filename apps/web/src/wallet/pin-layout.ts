/**
 * Where the digits sit on the PIN pad. They are shuffled each time the pad opens (someone watching the screen, or
 * a smudge on it, learns positions, not digits), with crypto.getRandomValues and without modulo bias.
 */
export const PIN_LENGTH = 6;

/** A uniform random integer in [0, bound) from the CSPRNG: draws again above the largest multiple of `bound`. */
export function randomBelow(
  bound: number,
  random: (into: Uint32Array) => Uint32Array = (a) => crypto.getRandomValues(a),
): number {
  const limit = Math.floor(0x1_0000_0000 / bound) * bound;
  const draw = new Uint32Array(1);
  for (;;) {
    const value = random(draw)[0] ?? 0;
    if (value < limit) return value % bound;
  }
}

/** The ten digits in a fresh random order (Fisher–Yates). */
export function shuffledDigits(random?: (into: Uint32Array) => Uint32Array): string[] {
  const digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
  for (let i = digits.length - 1; i > 0; i--) {
    const j = randomBelow(i + 1, random);
    [digits[i], digits[j]] = [digits[j] as string, digits[i] as string];
  }
  return digits;
}

/** The digit a key press types, from the main row or the number pad; null for any other key. */
export function digitOfKey(key: string): string | null {
  return /^[0-9]$/.test(key) ? key : null;
}
