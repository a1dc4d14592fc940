import { useMemo, useState } from "react";
import { api } from "../api/client";
import type { AgentStatus } from "../api/types";
import { LANGUAGES, type Lang, setLang, t, useLang } from "../i18n";
import { askNotificationPermission, stop } from "../state/session";
import { store, useStore } from "../state/store";

const STATUSES: AgentStatus[] = ["online", "away", "offline"];

export function TopBar() {
  const lang = useLang();
  const me = useStore((s) => s.me);
  const data = useStore((s) => s.data);
  const [bell, setBell] = useState(false);
  const load = useMemo(
    () =>
      Object.values(data.conversations).filter(
        (c) => c.assignee_id === me?.id && (c.status === "open" || c.status === "pending"),
      ).length,
    [data.conversations, me?.id],
  );
  const mine = useMemo(
    () =>
      Object.values(data.notifications)
        .filter((n) => n.agent_id === me?.id)
        .sort((a, b) => (a.created_at < b.created_at ? 1 : -1)),
    [data.notifications, me?.id],
  );
  if (!me) return null;
  const unread = mine.filter((n) => !n.read_at).length;
  const isStaff = me.role !== "agent";

  return (
    <header className="topbar">
      <a className="brand" href="#/">
        kefu
      </a>
      <label className={`status status-${me.status}`}>
        <span className="dot" aria-hidden />
        <select
          aria-label={t("status")}
          data-testid="my-status"
          value={me.status}
          onChange={(e) => {
            askNotificationPermission();
            void api.setStatus(e.target.value);
          }}
        >
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {t(s)}
            </option>
          ))}
        </select>
      </label>
      <span className="load" data-testid="load" title={t("load")}>
        {t("load")} {load}/{me.capacity}
      </span>
      <span className="spacer" />
      <div className="bell">
        <button type="button" onClick={() => setBell(!bell)} aria-label={t("notifications")} data-testid="bell">
          🔔{unread > 0 && <span className="badge">{unread}</span>}
        </button>
        {bell && (
          <div className="popover" role="dialog">
            <button type="button" onClick={() => void api.readNotifications()}>
              {t("mark_all_read")}
            </button>
            <ul>
              {mine.slice(0, 30).map((n) => (
                <li key={n.id} className={n.read_at ? "" : "unread"}>
                  <a
                    href={`#/c/${n.conversation_id ?? ""}`}
                    onClick={() => {
                      setBell(false);
                      if (!n.read_at) void api.readNotifications([n.id]);
                    }}
                  >
                    <b>{n.by_name}</b> {t("mentioned_you")}: {n.excerpt}
                  </a>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
      {isStaff && <a href="#/admin/agents">{t("admin")}</a>}
      {!isStaff && <a href="#/admin/security">{t("security")}</a>}
      <select aria-label={t("language")} value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
        {Object.entries(LANGUAGES).map(([k, v]) => (
          <option key={k} value={k}>
            {v}
          </option>
        ))}
      </select>
      <span className="me">{me.name}</span>
      <button
        type="button"
        onClick={async () => {
          await api.logout().catch(() => undefined);
          stop();
          store.set({ me: null, connection: "signed_out" });
          location.hash = "";
        }}
      >
        {t("sign_out")}
      </button>
    </header>
  );
}
