import { BookOpen, Inbox, MessageSquareText, Shield, UserRound, Users } from "lucide-react";
import { type ReactNode, useState } from "react";
import { type Key, errorText, t } from "../i18n";
import { useStore } from "../state/store";
import { toast } from "../ui";
import { AgentsAdmin, TeamsAdmin } from "./People";
import { CannedAdmin, InboxesAdmin } from "./Inboxes";
import { KnowledgeAdmin } from "./Knowledge";
import { Security } from "./Security";

const TABS = ["agents", "teams", "inboxes", "canned", "kb", "security"] as const;
type Tab = (typeof TABS)[number];
const LABEL: Record<Tab, Key> = {
  agents: "agents",
  teams: "teams",
  inboxes: "inboxes",
  canned: "canned_replies",
  kb: "knowledge_base",
  security: "security",
};

const ICON: Record<Tab, ReactNode> = {
  agents: <UserRound size={16} aria-hidden />,
  teams: <Users size={16} aria-hidden />,
  inboxes: <Inbox size={16} aria-hidden />,
  canned: <MessageSquareText size={16} aria-hidden />,
  kb: <BookOpen size={16} aria-hidden />,
  security: <Shield size={16} aria-hidden />,
};

export function Admin({ tab }: { tab: string }) {
  const me = useStore((s) => s.me);
  const role = me?.role ?? "agent";
  // Agents see their own security settings; supervisors canned replies and the knowledge
  // base too; admins all.
  const allowed = TABS.filter(
    (x) => x === "security" || ((x === "canned" || x === "kb") && role !== "agent") || role === "admin",
  );
  const current = (allowed as readonly string[]).includes(tab) ? (tab as Tab) : "security";
  return (
    <main className="admin">
      <nav className="tabs" aria-label={t("settings_nav")}>
        <h2 className="tabs-title">{t("nav_settings")}</h2>
        {allowed.map((x) => (
          <a key={x} href={`#/admin/${x}`} aria-current={x === current ? "page" : undefined} data-testid={`settings-${x}`}>
            {ICON[x]}
            {t(LABEL[x])}
          </a>
        ))}
      </nav>
      <div className="admin-body">
        {current === "agents" && <AgentsAdmin />}
        {current === "teams" && <TeamsAdmin />}
        {current === "inboxes" && <InboxesAdmin />}
        {current === "canned" && <CannedAdmin />}
        {current === "kb" && <KnowledgeAdmin />}
        {current === "security" && <Security />}
      </div>
    </main>
  );
}

/** An error shown on the screen, and a ``run`` that clears it, then toasts what happened:
 *  ``saved`` (default "Saved") when ``p`` succeeds, the reason when it fails. */
export function useError(): [string | null, (p: Promise<unknown>, saved?: string | false) => void] {
  const [error, setError] = useState<string | null>(null);
  return [
    error,
    (p, saved) => {
      setError(null);
      p.then(
        () => saved !== false && toast.success(saved ?? t("saved")),
        (e: unknown) => {
          const message = errorText(e);
          setError(message);
          toast.error(`${t("save_failed")}: ${message}`);
        },
      );
    },
  ];
}
