// Which app-wide overlay is open: the command palette, the shortcuts help or the contact
// sheet. Anything may open one (a shortcut, a menu, a button); the shell renders it.

import { useSyncExternalStore } from "react";

export type Overlay = "palette" | "help" | "contact" | null;

let current: Overlay = null;
let opener: HTMLElement | null = null;
const listeners = new Set<() => void>();

export function openOverlay(o: Overlay): void {
  // Whatever had the focus gets it back when the overlay closes.
  if (o && !current) opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  current = o;
  listeners.forEach((l) => l());
}

export function currentOverlay(): Overlay {
  return current;
}

export function useOverlay(): Overlay {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
  );
}

/** Gives the focus back to what had it before the overlay opened (if it is still there). */
export function restoreFocus(e: Event): void {
  if (opener?.isConnected) {
    e.preventDefault();
    opener.focus();
  }
  opener = null;
}
