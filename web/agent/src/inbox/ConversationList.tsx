import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api } from "../api/client";
import type { Conversation, ConversationStatus, Priority } from "../api/types";
import { type Key, channelLabel, priorityLabel, statusLabel, t } from "../i18n";
import { contactName, wantContacts } from "../state/contacts";
import { useStore, store } from "../state/store";
import { type Filters, VIEWS, type ViewName, byActivity, inView, unread, viewQuery } from "../state/views";
import { ROW_HEIGHT, nearEnd, scrollToShow, setListOrder, windowOf } from "./window";

const PRIORITIES: Priority[] = ["low", "normal", "high", "urgent"];
const STATUSES: ConversationStatus[] = ["bot", "queued", "open", "pending", "snoozed", "resolved"];

export function ConversationList({ openId }: { openId: string | null }) {
  const me = useStore((s) => s.me);
  // Narrow subscriptions: a typing signal or a new message elsewhere re-renders nothing here,
  // and a changed conversation re-renders only its own row (rows are memoised).
  const conversations = useStore((s) => s.data.conversations);
  const teams = useStore((s) => s.data.teams);
  const inboxes = useStore((s) => s.data.inboxes);
  const contacts = useStore((s) => s.data.contacts);
  const agents = useStore((s) => s.data.agents);
  const scroller = useRef<HTMLUListElement>(null);
  const [scroll, setScroll] = useState({ row: 0, height: 800 });
  const [view, setView] = useState<ViewName>(() => (localStorage.getItem("kefu.view") as ViewName) || "mine");
  const [filters, setFilters] = useState<Filters>({});
  const [search, setSearch] = useState("");
  const [results, setResults] = useState<string[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const myId = me?.id ?? "";

  const load = useCallback(
    async (from: string | null) => {
      setLoading(true);
      try {
        const page = await api.conversations({ ...viewQuery(view, myId, filters), cursor: from ?? undefined, limit: 50 });
        store.update((d) => ({
          ...d,
          conversations: { ...d.conversations, ...Object.fromEntries(page.items.map((c) => [c.id, c])) },
        }));
        if (filters.q) setResults((r) => [...(from ? (r ?? []) : []), ...page.items.map((c) => c.id)]);
        setCursor(page.next_cursor);
      } finally {
        setLoading(false);
      }
    },
    [view, myId, filters],
  );

  useEffect(() => {
    localStorage.setItem("kefu.view", view);
    setResults(filters.q ? [] : null);
    void load(null);
  }, [load, view, filters.q]);

  useEffect(() => {
    const h = setTimeout(() => setFilters((f) => ({ ...f, q: search.trim() || undefined })), 300);
    return () => clearTimeout(h);
  }, [search]);

  const items: Conversation[] = useMemo(() => {
    if (results) return results.map((id) => conversations[id]).filter((c): c is Conversation => !!c);
    return Object.values(conversations)
      .filter((c) => inView(c, view, myId, filters))
      .sort(byActivity);
  }, [results, conversations, view, myId, filters]);

  useEffect(() => {
    wantContacts(items.map((c) => c.contact_id));
    setListOrder(items.map((c) => c.id));
  }, [items]);

  // A new view or filter starts at the top.
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
  }, [view, filters]);

  // The list's height, as the window changes size.
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setScroll((s) => (s.height === el.clientHeight ? s : { ...s, height: el.clientHeight }));
    measure();
    const ro = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(measure);
    ro?.observe(el);
    return () => ro?.disconnect();
  }, []);

  // The open conversation (j / k, a link) scrolled into sight.
  useEffect(() => {
    const el = scroller.current;
    const at = openId ? items.findIndex((c) => c.id === openId) : -1;
    if (el && at >= 0) el.scrollTop = scrollToShow(at, el.scrollTop, el.clientHeight);
    // Only when another conversation opens, not on every change of the list.
  }, [openId]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const row = Math.floor(el.scrollTop / ROW_HEIGHT);
    if (row !== scroll.row || el.clientHeight !== scroll.height) setScroll({ row, height: el.clientHeight });
    if (cursor && !loading && nearEnd(el.scrollTop, el.clientHeight, items.length)) void load(cursor);
  };
  const slice = windowOf(scroll.row * ROW_HEIGHT, scroll.height, items.length);
  const set = (k: keyof Filters, v: string) => setFilters((f) => ({ ...f, [k]: v || undefined }));

  return (
    <nav className="list" aria-label={t("conversations")}>
      <div className="views" role="tablist">
        {VIEWS.map((v) => (
          <button key={v} role="tab" type="button" aria-selected={v === view} data-testid={`view-${v}`} onClick={() => setView(v)}>
            {t(`view_${v}` as Key)}
          </button>
        ))}
      </div>
      <input
        id="search"
        type="search"
        placeholder={t("search")}
        value={search}
        maxLength={200}
        onChange={(e) => setSearch(e.target.value)}
      />
      <div className="filters">
        <select aria-label={t("team")} value={filters.team_id ?? ""} onChange={(e) => set("team_id", e.target.value)}>
          <option value="">{t("any_team")}</option>
          {Object.values(teams).map((x) => (
            <option key={x.id} value={x.id}>
              {x.name}
            </option>
          ))}
        </select>
        <select aria-label={t("inboxes")} value={filters.inbox_id ?? ""} onChange={(e) => set("inbox_id", e.target.value)}>
          <option value="">{t("any_inbox")}</option>
          {Object.values(inboxes).map((x) => (
            <option key={x.id} value={x.id}>
              {x.name} ({channelLabel(x.channel)})
            </option>
          ))}
        </select>
        <select aria-label={t("priority")} value={filters.priority ?? ""} onChange={(e) => set("priority", e.target.value)}>
          <option value="">{t("any_priority")}</option>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {priorityLabel(p)}
            </option>
          ))}
        </select>
        <select aria-label={t("status")} value={filters.status ?? ""} onChange={(e) => set("status", e.target.value)}>
          <option value="">{t("any_status")}</option>
          {STATUSES.map((p) => (
            <option key={p} value={p}>
              {statusLabel(p)}
            </option>
          ))}
        </select>
        <input
          aria-label={t("tag")}
          placeholder={t("tag")}
          pattern="[\w][\w\-.:]{0,63}"
          defaultValue={filters.tag ?? ""}
          onBlur={(e) => set("tag", e.target.validity.valid ? e.target.value.trim() : "")}
        />
      </div>
      <ul data-testid="conversation-list" data-count={items.length} ref={scroller} onScroll={onScroll}>
        {slice.start > 0 && <li className="spacer" aria-hidden style={{ height: slice.start * ROW_HEIGHT }} />}
        {items.slice(slice.start, slice.end).map((c) => (
          <Row
            key={c.id}
            c={c}
            open={c.id === openId}
            name={contacts[c.contact_id] ? contactName(c.contact_id) : `#${c.contact_id.slice(-6)}`}
            assignee={c.assignee_id ? (agents[c.assignee_id]?.name ?? "") : t("unassigned")}
          />
        ))}
        {slice.end < items.length && <li className="spacer" aria-hidden style={{ height: (items.length - slice.end) * ROW_HEIGHT }} />}
      </ul>
      {items.length === 0 && !loading && <p className="muted">{t("no_conversations")}</p>}
      {cursor && (
        <button type="button" disabled={loading} onClick={() => void load(cursor)}>
          {t("load_more")}
        </button>
      )}
    </nav>
  );
}

const Row = memo(function Row({ c, open, name, assignee }: { c: Conversation; open: boolean; name: string; assignee: string }) {
  const n = unread(c);
  return (
    <li className={`row ${open ? "open" : ""} prio-${c.priority}`} data-conversation={c.id}>
      <a href={`#/c/${c.id}`}>
        <span className="who">{name}</span>
        <span className={`pill st-${c.status}`}>{statusLabel(c.status)}</span>
        {n > 0 && <span className="badge" data-testid="unread">{n}</span>}
        <span className="meta">
          {assignee}
          {c.tags.length > 0 && ` · ${c.tags.join(", ")}`}
        </span>
      </a>
    </li>
  );
});
