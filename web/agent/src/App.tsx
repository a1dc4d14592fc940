import { useEffect, useState } from "react";
import { api } from "./api/client";
import type { Agent } from "./api/types";
import { ResetPassword } from "./auth/Reset";
import { AcceptInvite, SignIn } from "./auth/SignIn";
import { ContactPanel } from "./contacts/ContactPanel";
import { ConversationView } from "./conversation/ConversationView";
import { useLang, t } from "./i18n";
import { ConversationList } from "./inbox/ConversationList";
import { TopBar } from "./inbox/TopBar";
import { useShortcuts } from "./inbox/shortcuts";
import { Admin } from "./settings/Admin";
import { setOpenConversation, start, stop } from "./state/session";
import { store, useStore } from "./state/store";

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
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
  const admin = hash.startsWith("#/admin");
  const open = hash.startsWith("#/c/") ? hash.slice(4) : null;
  useEffect(() => setOpenConversation(open), [open]);
  useShortcuts(open);
  return (
    <div className="shell">
      <TopBar />
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
              <ContactPanel conversationId={open} />
            </>
          ) : (
            <section className="empty">{t("select_conversation")}</section>
          )}
        </main>
      )}
    </div>
  );
}
