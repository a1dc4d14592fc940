// Keyboard shortcuts for the common actions (ignored while typing in a field).

import { useEffect } from "react";
import { api } from "../api/client";
import { t } from "../i18n";
import { store } from "../state/store";
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
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT")) return;
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
          globalThis.alert(t("shortcuts_help"));
          break;
        default:
          return;
      }
    };
    addEventListener("keydown", on);
    return () => removeEventListener("keydown", on);
  }, [open]);
}
