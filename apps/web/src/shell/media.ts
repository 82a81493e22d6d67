import { useEffect, useState } from "react";

/** Whether a CSS media query matches now; re-renders when it starts or stops matching. */
export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => matchMedia(query).matches);
  useEffect(() => {
    const list = matchMedia(query);
    const update = () => setMatches(list.matches);
    update();
    list.addEventListener("change", update);
    return () => list.removeEventListener("change", update);
  }, [query]);
  return matches;
}

/** A phone: a narrow screen or a touch-first pointer. The checkout offers the messenger there, a QR code elsewhere. */
export const PHONE_QUERY = "(max-width: 600px), (pointer: coarse)";
