// The keyboard shortcuts, in a dialog (opened with ? or from the account menu).

import { type Key, t } from "../i18n";
import { Dialog, openOverlay, useOverlay } from "../ui";
import { restoreFocus } from "../ui/overlays";

const SHORTCUTS: [string[], Key][] = [
  [["j", "k"], "sc_next_prev"],
  [["a"], "sc_assign_me"],
  [["e"], "sc_resolve"],
  [["r"], "sc_reply"],
  [["n"], "sc_note"],
  [["/"], "sc_search"],
  [["Ctrl", "K"], "sc_palette"],
  [["?"], "sc_help"],
];

export function HelpDialog() {
  const open = useOverlay() === "help";
  return (
    <Dialog open={open} onOpenChange={(o) => openOverlay(o ? "help" : null)} title={t("shortcuts_title")} testId="shortcuts-help" onCloseAutoFocus={restoreFocus}>
      <ul className="shortcuts">
        {SHORTCUTS.map(([keys, label]) => (
          <li key={label}>
            <span>{t(label)}</span>
            <span className="keys">
              {keys.map((k) => (
                <kbd key={k}>{k}</kbd>
              ))}
            </span>
          </li>
        ))}
      </ul>
    </Dialog>
  );
}
