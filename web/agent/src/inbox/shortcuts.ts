// Keyboard shortcuts for the common actions (ignored while typing in a field).

import { useEffect } from "react";
import { api } from "../api/client";
import { store } from "../state/store";
import { currentOverlay, openOverlay } from "../ui/overlays";
import { listOrder } from "./window";

/** The list's order (rows outside the rendered window are not in the DOM). */
function visibleIds(): string[] {
  const ids = listOrder();
  if (ids.length) return ids;
  return [...document.querySelectorAll<HTMLElement>("[data-conversation]")].map((e) => e.dataset["conversation"] ?? "");
}

export function useShortcuts(open: string | null): void {
  useEffect(() => {
    const on = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement | null;
      // Ctrl+K / ⌘K opens the command palette from anywhere, even a field.
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "k") {
        e.preventDefault();
        openOverlay(currentOverlay() === "palette" ? null : "palette");
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable)) return;
      // Not while a dialog or a menu has the focus.
      if (currentOverlay() || el?.closest?.('[role="dialog"], [role="menu"], [role="listbox"]')) return;
      const ids = visibleIds();
      const at = open ? ids.indexOf(open) : -1;
      const me = store.get().me;
      switch (e.key) {
        case "j":
        case "k": {
          const next = ids[Math.max(0, Math.min(ids.length - 1, at + (e.key === "j" ? 1 : -1)))];
          if (next) location.hash = `#/c/${next}`;
          break;
        }
        case "a":
          if (open && me) void api.assign(open, me.id);
          break;
        case "e":
          if (open) void api.setStatusOf(open, "resolved");
          break;
        case "r":
        case "n":
          e.preventDefault();
          dispatchEvent(new CustomEvent("kefu:compose", { detail: e.key === "n" ? "note" : "reply" }));
          break;
        case "/":
          e.preventDefault();
          document.getElementById("search")?.focus();
          break;
        case "?":
          openOverlay("help");
          break;
        default:
          return;
      }
    };
    addEventListener("keydown", on);
    return () => removeEventListener("keydown", on);
  }, [open]);
}
