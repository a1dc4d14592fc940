import { Inbox } from "lucide-react";
import { useEffect, useState } from "react";
import { api } from "./api/client";
import type { Agent } from "./api/types";
import { ResetPassword } from "./auth/Reset";
import { AcceptInvite, SignIn } from "./auth/SignIn";
import { ContactPanel } from "./contacts/ContactPanel";
import { ConversationView } from "./conversation/ConversationView";
import { useLang, t } from "./i18n";
import { ConversationList } from "./inbox/ConversationList";
import { HelpDialog } from "./inbox/HelpDialog";
import { noteHashChange } from "./inbox/nav";
import { Palette } from "./inbox/Palette";
import { TopBar } from "./inbox/TopBar";
import { useShortcuts } from "./inbox/shortcuts";
import { Admin } from "./settings/Admin";
import { setOpenConversation, start, stop } from "./state/session";
import { store, useStore } from "./state/store";
import { Dialog, Empty, Toaster, openOverlay, useMedia, useOverlay } from "./ui";
import { restoreFocus } from "./ui/overlays";

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = (e: HashChangeEvent) => {
      noteHashChange(e.oldURL);
      setHash(location.hash);
    };
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

/** On a phone the on-screen keyboard covers the bottom of the page without shrinking it
 *  (iOS; Android with interactive-widget=resizes-content shrinks it, see index.html): while
 *  the visible part is shorter than the window, the shell takes that height, so the
 *  composer stays above the keyboard. */
function useVisualViewport(): void {
  useEffect(() => {
    const vv = globalThis.visualViewport;
    if (!vv) return;
    const root = document.documentElement.style;
    const on = () => {
      if (vv.height < innerHeight - 1) root.setProperty("--app-height", `${Math.round(vv.height)}px`);
      else root.removeProperty("--app-height");
    };
    vv.addEventListener("resize", on);
    return () => {
      vv.removeEventListener("resize", on);
      root.removeProperty("--app-height");
    };
  }, []);
}

export function App() {
  useLang();
  const hash = useHash();
  const me = useStore((s) => s.me);
  const connection = useStore((s) => s.connection);
  const [checked, setChecked] = useState(false);

  useEffect(() => {
    api
      .me()
      .then((agent) => void start(agent))
      .catch(() => undefined)
      .finally(() => setChecked(true));
    return stop;
  }, []);

  if (location.pathname.endsWith("/invite")) return <AcceptInvite />;
  if (hash.startsWith("#/reset")) return <ResetPassword />;
  if (!checked) return null;
  if (!me || connection === "signed_out") {
    return (
      <SignIn
        notice={me ? t("signed_out") : undefined}
        onSignedIn={(agent: Agent) => {
          store.set({ me: null });
          void start(agent);
        }}
      />
    );
  }
  return <Shell />;
}

function Shell() {
  const hash = useHash();
  const connection = useStore((s) => s.connection);
  const overlay = useOverlay();
  // Below 1101 px the contact panel is a sheet (styles.css hides the column).
  const narrow = useMedia("(max-width: 1100px)");
  const admin = hash.startsWith("#/admin");
  const open = hash.startsWith("#/c/") ? hash.slice(4) : null;
  useEffect(() => setOpenConversation(open), [open]);
  useEffect(() => {
    if (!open && overlay === "contact") openOverlay(null);
  }, [open, overlay]);
  useShortcuts(open);
  useVisualViewport();
  return (
    <>
    <div className="shell">
      <TopBar admin={admin} />
      <div className="main-area">
        {connection === "reconnecting" && (
          <div className="banner" role="status" data-testid="reconnecting">
            {t("reconnecting")}
          </div>
        )}
        {admin ? (
          <Admin tab={hash.slice("#/admin/".length) || "agents"} />
        ) : (
          <main className={`panes ${open ? "has-open" : ""}`}>
            <ConversationList openId={open} />
            {open ? (
              <>
                <ConversationView key={open} id={open} />
                {!narrow && <ContactPanel conversationId={open} />}
              </>
            ) : (
              <Empty icon={<Inbox size={22} />} title={t("pick_conversation")} hint={t("pick_conversation_hint")} testId="no-conversation" />
            )}
          </main>
        )}
      </div>
    </div>
      {open && narrow && (
        <Dialog kind="sheet" open={overlay === "contact"} onOpenChange={(o) => openOverlay(o ? "contact" : null)} title={t("contact")} testId="contact-sheet" onCloseAutoFocus={restoreFocus}>
          <ContactPanel conversationId={open} />
        </Dialog>
      )}
      <Palette openId={open} />
      <HelpDialog />
      <Toaster />
    </>
  );
}
