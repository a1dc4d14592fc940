// Whether a media query matches, kept current as the window changes size.

import { useSyncExternalStore } from "react";

export const PHONE = "(max-width: 720px)";

export function useMedia(query: string): boolean {
  return useSyncExternalStore(
    (cb) => {
      const m = globalThis.matchMedia?.(query);
      m?.addEventListener("change", cb);
      return () => m?.removeEventListener("change", cb);
    },
    () => globalThis.matchMedia?.(query).matches ?? false,
  );
}
