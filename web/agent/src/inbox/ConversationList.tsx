import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, api, type ConversationQuery } from "../api/client";
import type { Conversation, ConversationStatus, ListSort, Priority, SavedView, SenderKind } from "../api/types";
import { type Key, type Lang, statusLabel, t, useLang } from "../i18n";
import { contactName, wantContacts } from "../state/contacts";
import { useStore, store } from "../state/store";
import { type Filters, VIEWS, type ViewName, matches, savedQuery, toSaved, viewQuery } from "../state/views";
import { ChannelIcon } from "./ChannelIcon";
import "./list.css";
import { comparator, initials, relative, slaState, visitorName } from "./triage";
import * as unread from "./unread";
import { ROW_HEIGHT, nearEnd, scrollToShow, setListOrder, windowOf } from "./window";

const PRIORITIES: Priority[] = ["low", "normal", "high", "urgent"];
const STATUSES: ConversationStatus[] = ["bot", "queued", "open", "pending", "snoozed", "resolved"];
const SORTS: ListSort[] = ["activity", "waiting", "priority"];
const TICK_MS = 15_000;

const fill = (s: string, v: Record<string, string | number>): string =>
  s.replace(/\{(\w+)\}/g, (_, k: string) => String(v[k] ?? ""));

/** "now", ticking: waiting times and SLA states stay current without a reload. */
function useNow(every = TICK_MS): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const h = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(h);
  }, [every]);
  return now;
}

export function ConversationList({ openId }: { openId: string | null }) {
  const me = useStore((s) => s.me);
  // Narrow subscriptions: a typing signal or a new message elsewhere re-renders nothing here,
  // and a changed conversation re-renders only its own row (rows are memoised).
  const conversations = useStore((s) => s.data.conversations);
  const teams = useStore((s) => s.data.teams);
  const inboxes = useStore((s) => s.data.inboxes);
  const contacts = useStore((s) => s.data.contacts);
  const agents = useStore((s) => s.data.agents);
  const counts = unread.useUnread();
  const lang = useLang();
  const now = useNow();
  const scroller = useRef<HTMLUListElement>(null);
  const [scroll, setScroll] = useState({ row: 0, height: 800 });
  const [view, setView] = useState<ViewName>(() => (localStorage.getItem("kefu.view") as ViewName) || "mine");
  const [filters, setFilters] = useState<Filters>(() => ({ sort: (localStorage.getItem("kefu.sort") as ListSort) || "activity" }));
  const [saved, setSaved] = useState<SavedView[]>([]);
  const [savedId, setSavedId] = useState<string>("");
  const [search, setSearch] = useState("");
  const [results, setResults] = useState<string[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState("");
  const myId = me?.id ?? "";
  const current = saved.find((v) => v.id === savedId) ?? null;

  const query: ConversationQuery = useMemo(
    () => (current ? savedQuery(current, myId, filters.q) : viewQuery(view, myId, filters)),
    [current, view, myId, filters],
  );
  const sort: ListSort = (query.sort as ListSort | undefined) ?? "activity";

  useEffect(() => store.onEvent(unread.onEvent), []);
  useEffect(() => {
    void api.savedViews().then((r) => setSaved(r.items), () => undefined);
  }, []);

  const load = useCallback(
    async (from: string | null) => {
      setLoading(true);
      try {
        const page = await api.conversations({ ...query, cursor: from ?? undefined, limit: 50 });
        const plain = page.items.map(({ unread_count: _u, contact_name: _n, visitor_name: _v, ...c }) => c);
        store.update((d) => ({
          ...d,
          conversations: { ...d.conversations, ...Object.fromEntries(plain.map((c) => [c.id, c])) },
        }));
        unread.fromPage(page.items);
        if (query.q) setResults((r) => [...(from ? (r ?? []) : []), ...page.items.map((c) => c.id)]);
        setCursor(page.next_cursor);
      } finally {
        setLoading(false);
      }
    },
    [query],
  );

  useEffect(() => {
    localStorage.setItem("kefu.view", view);
    setResults(query.q ? [] : null);
    setSelected(new Set());
    void load(null);
  }, [load, view, query.q]);

  useEffect(() => {
    const h = setTimeout(() => setFilters((f) => ({ ...f, q: search.trim() || undefined })), 300);
    return () => clearTimeout(h);
  }, [search]);

  // The open conversation is read: its count clears here and on the server (this agent's own
  // read position), even when a colleague had read it already.
  const openConv = openId ? conversations[openId] : undefined;
  useEffect(() => {
    if (unread.setOpen(openId) && openConv) void api.read(openConv.id, openConv.last_seq).catch(() => undefined);
  }, [openId, openConv]);

  const items: Conversation[] = useMemo(() => {
    if (results) return results.map((id) => conversations[id]).filter((c): c is Conversation => !!c);
    return Object.values(conversations)
      .filter((c) => matches(c, query))
      .sort(comparator(sort));
  }, [results, conversations, query, sort]);

  useEffect(() => {
    wantContacts(items.map((c) => c.contact_id));
    setListOrder(items.map((c) => c.id));
  }, [items]);

  // A new view or filter starts at the top.
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
  }, [view, filters, savedId]);

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
  const toggle = useCallback(
    (id: string) =>
      setSelected((s) => {
        const next = new Set(s);
        if (next.has(id)) next.delete(id);
        else next.add(id);
        return next;
      }),
    [],
  );
  const nameOf = (c: Conversation) => (contacts[c.contact_id] ? contactName(c.contact_id) : visitorName(c.contact_id, lang));

  const bulk = async (body: { action: "assign" | "resolve" | "tag"; assignee_id?: string | null; tags?: string[] }) => {
    const ids = [...selected].slice(0, 100);
    const { results: out } = await api.bulk({ conversation_ids: ids, ...body });
    const changed = out.flatMap((r) => (r.ok && r.conversation ? [r.conversation] : []));
    store.update((d) => ({
      ...d,
      conversations: { ...d.conversations, ...Object.fromEntries(changed.map((c) => [c.id, { ...d.conversations[c.id], ...c }])) },
    }));
    const failed = out.length - changed.length;
    setNotice(fill(t("tl_bulk_done"), { ok: changed.length, failed }));
    setSelected(new Set(out.filter((r) => !r.ok).map((r) => r.conversation_id)));
  };

  return (
    <nav className="list triage" aria-label={t("conversations")}>
      <div className="views" role="tablist">
        {VIEWS.map((v) => (
          <button
            key={v}
            role="tab"
            type="button"
            aria-selected={!current && v === view}
            data-testid={`view-${v}`}
            onClick={() => {
              setSavedId("");
              setView(v);
            }}
          >
            {t(`view_${v}` as Key)}
          </button>
        ))}
      </div>
      <SavedViews
        saved={saved}
        savedId={savedId}
        onPick={setSavedId}
        onSave={async (name) => {
          const v = await api.saveView({ name, filters: toSaved(view, myId, filters), sort: filters.sort ?? "activity" });
          setSaved((s) => [...s, v].sort((a, b) => a.name.localeCompare(b.name)));
          setSavedId(v.id);
        }}
        onDelete={async (id) => {
          await api.deleteView(id);
          setSaved((s) => s.filter((v) => v.id !== id));
          setSavedId("");
        }}
      />
      <input
        id="search"
        type="search"
        aria-label={t("search")}
        placeholder={t("search")}
        value={search}
        maxLength={200}
        onChange={(e) => setSearch(e.target.value)}
      />
      <div className="filters">
        <label className="sort">
          <span>{t("tl_sort")}</span>
          <select
            value={sort}
            disabled={!!current}
            onChange={(e) => {
              localStorage.setItem("kefu.sort", e.target.value);
              setFilters((f) => ({ ...f, sort: e.target.value as ListSort }));
            }}
          >
            {SORTS.map((s) => (
              <option key={s} value={s}>
                {t(`tl_sort_${s}` as Key)}
              </option>
            ))}
          </select>
        </label>
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
              {x.name} ({t(`tl_channel_${x.channel}` as Key)})
            </option>
          ))}
        </select>
        <select aria-label={t("priority")} value={filters.priority ?? ""} onChange={(e) => set("priority", e.target.value)}>
          <option value="">{t("any_priority")}</option>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {t(`tl_prio_${p}` as Key)}
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
      <BulkBar
        count={selected.size}
        all={items.length > 0 && items.every((c) => selected.has(c.id))}
        onAll={(on) => setSelected(on ? new Set(items.slice(0, 100).map((c) => c.id)) : new Set())}
        agents={Object.values(agents).filter((a) => a.active)}
        myId={myId}
        run={bulk}
      />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <ul data-testid="conversation-list" data-count={items.length} ref={scroller} onScroll={onScroll}>
        {slice.start > 0 && <li className="spacer" aria-hidden style={{ height: slice.start * ROW_HEIGHT }} />}
        {items.slice(slice.start, slice.end).map((c) => (
          <Row
            key={c.id}
            c={c}
            open={c.id === openId}
            name={nameOf(c)}
            inbox={inboxes[c.inbox_id]?.name ?? ""}
            channel={inboxes[c.inbox_id]?.channel ?? null}
            assignee={c.assignee_id ? (agents[c.assignee_id]?.name ?? "") : t("unassigned")}
            unread={counts[c.id] ?? 0}
            checked={selected.has(c.id)}
            onCheck={toggle}
            now={now}
            lang={lang}
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

function SavedViews({
  saved,
  savedId,
  onPick,
  onSave,
  onDelete,
}: {
  saved: SavedView[];
  savedId: string;
  onPick: (id: string) => void;
  onSave: (name: string) => Promise<void>;
  onDelete: (id: string) => Promise<void>;
}) {
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState("");
  const [error, setError] = useState("");
  const save = async () => {
    setError("");
    try {
      await onSave(name.trim());
      setNaming(false);
      setName("");
    } catch (e) {
      const code = e instanceof ApiError ? e.code : "";
      setError(code === "name_taken" ? t("tl_view_taken") : code === "too_many_views" ? t("tl_view_limit") : String(e));
    }
  };
  return (
    <div className="saved-views">
      <select aria-label={t("tl_saved_views")} value={savedId} onChange={(e) => onPick(e.target.value)}>
        <option value="">{t("tl_saved_none")}</option>
        {saved.map((v) => (
          <option key={v.id} value={v.id}>
            {v.name}
          </option>
        ))}
      </select>
      {savedId ? (
        <button type="button" onClick={() => void onDelete(savedId)}>
          {t("tl_delete_view")}
        </button>
      ) : naming ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <input aria-label={t("tl_view_name")} value={name} maxLength={60} required autoFocus onChange={(e) => setName(e.target.value)} />
          <button type="submit" disabled={!name.trim()}>
            {t("tl_save")}
          </button>
          <button type="button" onClick={() => setNaming(false)}>
            {t("tl_cancel")}
          </button>
        </form>
      ) : (
        <button type="button" onClick={() => setNaming(true)}>
          {t("tl_save_view")}
        </button>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function BulkBar({
  count,
  all,
  onAll,
  agents,
  myId,
  run,
}: {
  count: number;
  all: boolean;
  onAll: (on: boolean) => void;
  agents: { id: string; name: string }[];
  myId: string;
  run: (body: { action: "assign" | "resolve" | "tag"; assignee_id?: string | null; tags?: string[] }) => Promise<void>;
}) {
  const [tag, setTag] = useState("");
  return (
    <div className="bulk" data-testid="bulk-bar">
      <label className="check">
        <input type="checkbox" checked={all} onChange={(e) => onAll(e.target.checked)} />
        <span>{count ? fill(t("tl_selected"), { n: count }) : t("tl_select_all")}</span>
      </label>
      {count > 0 && (
        <>
          <select
            aria-label={t("tl_bulk_assign")}
            value=""
            onChange={(e) => e.target.value && void run({ action: "assign", assignee_id: e.target.value })}
          >
            <option value="">{t("tl_bulk_assign_pick")}</option>
            {[...agents]
              .sort((a, b) => (a.id === myId ? -1 : b.id === myId ? 1 : a.name.localeCompare(b.name)))
              .map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
          </select>
          <button type="button" onClick={() => void run({ action: "resolve" })}>
            {t("tl_bulk_resolve")}
          </button>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (tag.trim()) void run({ action: "tag", tags: [tag.trim()] }).then(() => setTag(""));
            }}
          >
            <input aria-label={t("tl_bulk_tag")} value={tag} pattern="[\w][\w\-.:]{0,63}" onChange={(e) => setTag(e.target.value)} />
            <button type="submit">{t("tl_bulk_tag_add")}</button>
          </form>
          <button type="button" onClick={() => onAll(false)}>
            {t("tl_bulk_clear")}
          </button>
        </>
      )}
    </div>
  );
}

const FROM: Partial<Record<SenderKind, Key>> = { agent: "tl_from_agent", bot: "tl_from_bot", system: "tl_from_system" };

const Row = memo(function Row({
  c,
  open,
  name,
  inbox,
  channel,
  assignee,
  unread: n,
  checked,
  onCheck,
  now,
  lang,
}: {
  c: Conversation;
  open: boolean;
  name: string;
  inbox: string;
  channel: string | null;
  assignee: string;
  unread: number;
  checked: boolean;
  onCheck: (id: string) => void;
  now: number;
  lang: Lang;
}) {
  const sla = slaState(c, now);
  const from = c.last_message_sender_kind ? FROM[c.last_message_sender_kind] : undefined;
  return (
    <li className={`row ${open ? "open" : ""} ${n > 0 ? "unread" : ""} prio-${c.priority}`} data-conversation={c.id}>
      <input type="checkbox" className="pick" aria-label={fill(t("tl_select"), { name })} checked={checked} onChange={() => onCheck(c.id)} />
      <a href={`#/c/${c.id}`} aria-current={open ? "true" : undefined}>
        <span className="avatar" aria-hidden>
          {initials(name)}
        </span>
        <span className="line1">
          <span className="who" data-testid="row-name">
            {name}
          </span>
          {c.waiting_since ? (
            <time className="waiting" dateTime={c.waiting_since} data-testid="waiting" title={fill(t("tl_waiting_since"), { time: relative(c.waiting_since, now, lang) })}>
              {relative(c.waiting_since, now, lang)}
            </time>
          ) : c.last_message_at ? (
            <time className="when" dateTime={c.last_message_at}>
              {relative(c.last_message_at, now, lang)}
            </time>
          ) : null}
        </span>
        <span className="preview" data-testid="preview">
          {from && <span className="from">{t(from)} </span>}
          {c.last_message_preview ?? t("tl_no_messages")}
        </span>
        <span className="meta">
          <span className="channel" title={channel ? t(`tl_channel_${channel}` as Key) : undefined}>
            <ChannelIcon channel={channel} />
            <span>{inbox}</span>
          </span>
          {c.priority !== "normal" && <span className={`prio prio-${c.priority}`}>{t(`tl_prio_${c.priority}` as Key)}</span>}
          {sla && c.first_response_due_at && (
            <span className={`sla sla-${sla}`} data-testid="sla">
              {fill(t(sla === "breached" ? "tl_sla_breached" : "tl_sla_due"), { time: relative(c.first_response_due_at, now, lang) })}
            </span>
          )}
          <span className={`pill st-${c.status}`}>{statusLabel(c.status)}</span>
          <span className="assignee">{assignee}</span>
          {c.tags.length > 0 && <span className="tags">{c.tags.join(", ")}</span>}
        </span>
        {n > 0 && (
          <span className="badge" data-testid="unread" aria-label={fill(t("tl_unread"), { n })}>
            {unread.label(n)}
          </span>
        )}
      </a>
    </li>
  );
});
