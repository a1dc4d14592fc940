// The command palette (Ctrl+K / ⌘K): jump to a conversation by its contact's name or its id,
// act on the open conversation, switch the list's view, go to a settings screen.

import * as D from "@radix-ui/react-dialog";
import { Command } from "cmdk";
import { AlarmClock, ArrowRight, CircleCheck, Inbox, Keyboard, List, MessageSquare, NotebookPen, Reply, RotateCcw, Settings, UserPlus } from "lucide-react";
import { type ReactNode, useMemo, useState } from "react";
import { api } from "../api/client";
import type { Conversation } from "../api/types";
import { type Key, t } from "../i18n";
import { contactName } from "../state/contacts";
import { useStore } from "../state/store";
import { VIEWS, byActivity } from "../state/views";
import { toast } from "../ui";
import { openOverlay, restoreFocus, useOverlay } from "../ui/overlays";

const SETTINGS: [string, Key][] = [
  ["agents", "agents"],
  ["teams", "teams"],
  ["inboxes", "inboxes"],
  ["canned", "canned_replies"],
  ["kb", "knowledge_base"],
  ["security", "security"],
];

/** Conversations whose contact name or id contains the query (at most ``limit``). */
export function matchConversations(all: Conversation[], nameOf: (c: Conversation) => string, query: string, limit = 8): Conversation[] {
  const q = query.trim().toLowerCase();
  const out: Conversation[] = [];
  for (const c of [...all].sort(byActivity)) {
    if (out.length >= limit) break;
    if (!q || c.id.toLowerCase().includes(q) || nameOf(c).toLowerCase().includes(q)) out.push(c);
  }
  return out;
}

export function Palette({ openId }: { openId: string | null }) {
  const open = useOverlay() === "palette";
  const [query, setQuery] = useState("");
  const close = () => {
    openOverlay(null);
    setQuery("");
  };
  return (
    <D.Root open={open} onOpenChange={(o) => (o ? openOverlay("palette") : close())}>
      <D.Portal>
        <D.Overlay className="overlay" />
        <D.Content className="modal palette" aria-describedby={undefined} data-testid="palette" onCloseAutoFocus={restoreFocus}>
          <D.Title className="visually-hidden">{t("palette_title")}</D.Title>
          {open && <PaletteBody openId={openId} query={query} setQuery={setQuery} close={close} />}
        </D.Content>
      </D.Portal>
    </D.Root>
  );
}

function PaletteBody({ openId, query, setQuery, close }: { openId: string | null; query: string; setQuery: (q: string) => void; close: () => void }) {
  const me = useStore((s) => s.me);
  const conversations = useStore((s) => s.data.conversations);
  const contacts = useStore((s) => s.data.contacts);
  const conv = openId ? conversations[openId] : undefined;
  const nameOf = (c: Conversation) => (contacts[c.contact_id] ? contactName(c.contact_id) : `#${c.contact_id.slice(-6)}`);
  const found = useMemo(
    () => matchConversations(Object.values(conversations), nameOf, query),
    // nameOf reads contacts.
    [conversations, contacts, query],
  );
  const q = query.trim().toLowerCase();
  const has = (label: string) => !q || label.toLowerCase().includes(q);
  const run = (f: () => void) => () => {
    close();
    f();
  };
  const act = (p: Promise<unknown>) => p.catch((e: Error) => toast.error(e.message));
  const staff = me?.role !== "agent";
  const admin = me?.role === "admin";
  const settings = SETTINGS.filter(([k]) => k === "security" || ((k === "canned" || k === "kb") && staff) || admin);
  const looksLikeId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(query.trim()) && !found.some((c) => c.id === query.trim());

  const actions: [string, ReactNode, () => void][] = [];
  if (conv && me) {
    if (conv.assignee_id !== me.id) actions.push([t("assign_me"), <UserPlus key="i" size={16} />, () => void act(api.assign(conv.id, me.id))]);
    if (conv.status === "resolved") actions.push([t("reopen"), <RotateCcw key="i" size={16} />, () => void act(api.setStatusOf(conv.id, "open"))]);
    else {
      actions.push([t("resolve"), <CircleCheck key="i" size={16} />, () => void act(api.setStatusOf(conv.id, "resolved"))]);
      actions.push([t("snooze_hour"), <AlarmClock key="i" size={16} />, () => void act(api.setStatusOf(conv.id, "snoozed", new Date(Date.now() + 3600_000).toISOString()))]);
    }
    actions.push([t("reply"), <Reply key="i" size={16} />, () => dispatchEvent(new CustomEvent("kefu:compose", { detail: "reply" }))]);
    actions.push([t("note"), <NotebookPen key="i" size={16} />, () => dispatchEvent(new CustomEvent("kefu:compose", { detail: "note" }))]);
  }
  actions.push([t("keyboard_shortcuts"), <Keyboard key="i" size={16} />, () => openOverlay("help")]);

  return (
    <Command label={t("palette_title")} shouldFilter={false} loop>
      <Command.Input value={query} onValueChange={setQuery} placeholder={t("palette_placeholder")} aria-label={t("palette_placeholder")} autoFocus />
      <Command.List>
        <Command.Empty>{t("palette_empty")}</Command.Empty>
        {(found.length > 0 || looksLikeId) && (
          <Command.Group heading={t("palette_conversations")}>
            {found.map((c) => (
              <Command.Item key={c.id} value={`c:${c.id}`} onSelect={run(() => (location.hash = `#/c/${c.id}`))} data-testid="palette-conversation">
                <MessageSquare size={16} aria-hidden />
                <span>{nameOf(c)}</span>
                <span className="sub">
                  {c.status} · {c.id.slice(-8)}
                </span>
              </Command.Item>
            ))}
            {looksLikeId && (
              <Command.Item value={`id:${query.trim()}`} onSelect={run(() => (location.hash = `#/c/${query.trim()}`))}>
                <ArrowRight size={16} aria-hidden />
                <span>
                  {t("palette_navigate")} <code>{query.trim()}</code>
                </span>
              </Command.Item>
            )}
          </Command.Group>
        )}
        {actions.some(([label]) => has(label)) && (
          <Command.Group heading={t("palette_actions")}>
            {actions
              .filter(([label]) => has(label))
              .map(([label, icon, f]) => (
                <Command.Item key={label} value={`a:${label}`} onSelect={run(f)}>
                  <span aria-hidden>{icon}</span>
                  {label}
                </Command.Item>
              ))}
          </Command.Group>
        )}
        {VIEWS.some((v) => has(`${t("palette_view")} ${t(`view_${v}` as Key)}`)) && (
          <Command.Group heading={t("palette_views")}>
            {VIEWS.filter((v) => has(`${t("palette_view")} ${t(`view_${v}` as Key)}`)).map((v) => (
              <Command.Item
                key={v}
                value={`v:${v}`}
                data-testid={`palette-view-${v}`}
                onSelect={run(() => {
                  if (location.hash.startsWith("#/admin") || location.hash.startsWith("#/c/")) location.hash = "#/";
                  // The list owns its view: press its tab once it is on screen.
                  setTimeout(() => document.querySelector<HTMLElement>(`[data-testid="view-${v}"]`)?.click(), 0);
                })}
              >
                <List size={16} aria-hidden />
                {t("palette_view")} {t(`view_${v}` as Key)}
              </Command.Item>
            ))}
          </Command.Group>
        )}
        <Command.Group heading={t("palette_navigate")}>
          {has(t("nav_inbox")) && (
            <Command.Item value="n:inbox" onSelect={run(() => (location.hash = "#/"))}>
              <Inbox size={16} aria-hidden />
              {t("nav_inbox")}
            </Command.Item>
          )}
          {settings
            .filter(([, label]) => has(`${t("nav_settings")} ${t(label)}`))
            .map(([k, label]) => (
              <Command.Item key={k} value={`s:${k}`} onSelect={run(() => (location.hash = `#/admin/${k}`))} data-testid={`palette-settings-${k}`}>
                <Settings size={16} aria-hidden />
                {t("nav_settings")} · {t(label)}
              </Command.Item>
            ))}
        </Command.Group>
      </Command.List>
      <div className="palette-foot" aria-hidden>
        <span>
          <kbd>↑</kbd> <kbd>↓</kbd>
        </span>
        <span>
          <kbd>↵</kbd>
        </span>
        <span>
          <kbd>Esc</kbd>
        </span>
      </div>
    </Command>
  );
}
