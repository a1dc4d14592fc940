import { useState } from "react";
import { type Key, errorText, t } from "../i18n";
import { useStore } from "../state/store";
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
    <section className="admin">
      <nav className="tabs">
        <a href="#/">← {t("back")}</a>
        {allowed.map((x) => (
          <a key={x} href={`#/admin/${x}`} aria-current={x === current ? "page" : undefined}>
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
    </section>
  );
}

export function useError(): [string | null, (p: Promise<unknown>) => void] {
  const [error, setError] = useState<string | null>(null);
  return [
    error,
    (p) => {
      setError(null);
      p.catch((e: unknown) => setError(errorText(e)));
    },
  ];
}
