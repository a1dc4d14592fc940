// The app's sidebar (a one-line top bar on a phone): the inbox, the command palette,
// notifications, settings, the agent's load, and the account menu (status, language,
// shortcuts, sign out).

import { Bell, CheckCheck, Inbox, Keyboard, Languages, LogOut, Search, Settings } from "lucide-react";
import { useMemo } from "react";
import { api } from "../api/client";
import type { AgentStatus, Notification } from "../api/types";
import { LANGUAGES, type Lang, setLang, t, useLang } from "../i18n";
import { askNotificationPermission, stop } from "../state/session";
import { store, useStore } from "../state/store";
import { Button, Empty, Menu, MenuChoices, MenuItem, MenuLabel, MenuSeparator, MenuSub, Popover, openOverlay } from "../ui";

const STATUSES: AgentStatus[] = ["online", "away", "offline"];

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return "?";
  if (parts.length === 1) return [...(parts[0] ?? "?")].slice(0, 2).join("").toUpperCase();
  return ((parts[0]?.[0] ?? "") + (parts[parts.length - 1]?.[0] ?? "")).toUpperCase();
}

export function TopBar({ admin }: { admin: boolean }) {
  const lang = useLang();
  const me = useStore((s) => s.me);
  const data = useStore((s) => s.data);
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
  const mac = /Mac|iPhone|iPad/.test(globalThis.navigator?.platform ?? "");

  return (
    <header className="topbar">
      <h1 className="brand-heading">
        <a className="brand" href="#/">
          <span className="brand-mark" aria-hidden>
            K
          </span>
          <span className="brand-text">kefu</span>
        </a>
      </h1>
      <nav className="nav" aria-label={t("nav_main")}>
        <a className="btn nav-item" href="#/" aria-current={admin ? undefined : "page"} title={t("nav_inbox")}>
          <Inbox size={16} aria-hidden />
          <span className="nav-label">{t("nav_inbox")}</span>
        </a>
        <button type="button" className="nav-item" onClick={() => openOverlay("palette")} title={t("nav_search")} data-testid="open-palette">
          <Search size={16} aria-hidden />
          <span className="nav-label">{t("nav_search")}</span>
          <kbd aria-hidden>{mac ? "⌘K" : "Ctrl K"}</kbd>
        </button>
        <Popover
          label={t("notifications")}
          trigger={
            <button
              type="button"
              className="nav-item"
              data-testid="bell"
              title={t("notifications")}
              aria-label={unread > 0 ? `${t("notifications")} (${unread} ${t("unread_count")})` : t("notifications")}
            >
              <Bell size={16} aria-hidden />
              <span className="nav-label">{t("notifications")}</span>
              {unread > 0 && (
                <span className="badge" aria-hidden>
                  {unread}
                </span>
              )}
            </button>
          }
        >
          <Notifications items={mine} unread={unread} />
        </Popover>
        <a
          className="btn nav-item"
          href={isStaff ? "#/admin/agents" : "#/admin/security"}
          aria-current={admin ? "page" : undefined}
          title={t("nav_settings")}
          data-testid="nav-settings"
        >
          <Settings size={16} aria-hidden />
          <span className="nav-label">{t("nav_settings")}</span>
        </a>
      </nav>
      <span className="spacer" />
      <span className="load" data-testid="load" title={t("load")}>
        <span className="load-word">{t("load")}</span> {load}/{me.capacity}
      </span>
      <Menu
        label={t("account_menu")}
        align="end"
        trigger={
          <button type="button" className="me-button" data-testid="my-status" data-status={me.status} title={t("account_menu")}>
            <span className="avatar" aria-hidden>
              {initials(me.name)}
              <span className={`dot dot-${me.status}`} />
            </span>
            <span className="me-text">
              <span className="me-name">{me.name}</span>
              <span className="me-status">{t(me.status)}</span>
            </span>
          </button>
        }
      >
        <MenuLabel>{t("set_status")}</MenuLabel>
        <MenuChoices<AgentStatus>
          label={t("status")}
          value={me.status}
          onChange={(s) => {
            askNotificationPermission();
            void api.setStatus(s);
          }}
          options={STATUSES.map((s) => ({ value: s, label: t(s), icon: <span className={`dot dot-${s}`} />, testId: `status-${s}` }))}
        />
        <MenuSeparator />
        <MenuSub label={`${t("language")}: ${LANGUAGES[lang]}`} icon={<Languages size={14} />}>
          <MenuChoices<Lang>
            label={t("language")}
            value={lang}
            onChange={setLang}
            options={Object.entries(LANGUAGES).map(([k, v]) => ({ value: k as Lang, label: v, testId: `lang-${k}` }))}
          />
        </MenuSub>
        <MenuItem icon={<Keyboard size={14} />} onSelect={() => openOverlay("help")}>
          {t("keyboard_shortcuts")}
        </MenuItem>
        <MenuSeparator />
        <MenuItem
          icon={<LogOut size={14} />}
          testId="sign-out"
          onSelect={() => {
            void api
              .logout()
              .catch(() => undefined)
              .then(() => {
                stop();
                store.set({ me: null, connection: "signed_out" });
                location.hash = "";
              });
          }}
        >
          {t("sign_out")}
        </MenuItem>
      </Menu>
    </header>
  );
}

function Notifications({ items, unread }: { items: Notification[]; unread: number }) {
  return (
    <div data-testid="notifications">
      <div className="notif-head">
        <h2>{t("notifications")}</h2>
        {unread > 0 && (
          <Button size="sm" variant="ghost" icon={<CheckCheck size={14} aria-hidden />} onClick={() => void api.readNotifications()}>
            {t("mark_all_read")}
          </Button>
        )}
      </div>
      {items.length === 0 ? (
        <Empty icon={<Bell size={20} />} title={t("no_notifications")} hint={t("no_notifications_hint")} testId="notifications-empty" />
      ) : (
        <ul className="notif-list">
          {items.slice(0, 30).map((n) => (
            <li key={n.id} className={n.read_at ? "" : "unread"}>
              <a
                href={`#/c/${n.conversation_id ?? ""}`}
                onClick={() => {
                  if (!n.read_at) void api.readNotifications([n.id]);
                }}
              >
                <b>{n.by_name}</b> {t("mentioned_you")}
                <span className="excerpt">{n.excerpt}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
