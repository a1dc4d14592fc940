import { useEffect, useMemo, useRef, useState } from "react";
import { api } from "../api/client";
import type { Conversation, Message, Priority } from "../api/types";
import { type Key, t } from "../i18n";
import { contactName, wantContacts } from "../state/contacts";
import { currentRealtime, ensureConversation, loadThread } from "../state/session";
import { useStore } from "../state/store";
import { transfer } from "./actions";
import { ChannelStateNotice } from "./ChannelStateNotice";
import { ClosedWindow } from "./ClosedWindow";
import { Composer } from "./Composer";
import { MessageBody } from "./MessageBody";
import { windowClosed } from "./reach";
import { threadOf } from "./thread";

export function ConversationView({ id }: { id: string }) {
  const conv = useStore((s) => s.data.conversations[id]);
  const thread = useStore((s) => s.data.messages[id]);
  const typing = useStore((s) => s.typing[id]);
  const contacts = useStore((s) => s.data.contacts);
  const inbox = useStore((s) => (conv ? s.data.inboxes[conv.inbox_id] : undefined));
  const now = useClock(conv?.window ? 1000 : null);
  const [missing, setMissing] = useState(false);
  const bottom = useRef<HTMLDivElement>(null);
  const messages = useMemo(() => threadOf(thread), [thread]);

  useEffect(() => {
    void ensureConversation(id).then((c) => {
      if (!c) setMissing(true);
      else wantContacts([c.contact_id]);
    });
    void loadThread(id).catch(() => setMissing(true));
  }, [id]);

  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "end" });
    // Tell the server (and the other agents) how far we have read.
    if (conv && conv.last_seq > conv.agent_read_seq && !document.hidden) {
      void api.read(id, conv.last_seq).catch(() => undefined);
    }
  }, [messages.length, conv?.last_seq, conv?.agent_read_seq, id, conv]);

  if (missing) return <section className="conversation empty">404</section>;
  if (!conv) return <section className="conversation" />;
  const showTyping = typing && typing.until > Date.now();
  const closed = windowClosed(conv, inbox, now);
  return (
    <section className="conversation" aria-label={contacts[conv.contact_id] ? contactName(conv.contact_id) : id}>
      <header>
        <h2 data-testid="conversation-title">{contacts[conv.contact_id] ? contactName(conv.contact_id) : "…"}</h2>
        <span className={`pill st-${conv.status}`} data-testid="conversation-status">
          {conv.status}
        </span>
        <Actions conv={conv} />
      </header>
      <ol className="thread" data-testid="thread">
        {messages.map((m) => (
          <Bubble key={m.id} m={m} conv={conv} />
        ))}
        <div ref={bottom} />
      </ol>
      {closed ? (
        <ClosedWindow conv={conv} why={closed} />
      ) : (
        conv.window && <ReplyWindow closesAt={conv.window.closes_at} remaining={conv.window.remaining} />
      )}
      <ChannelStateNotice conv={conv} />
      {showTyping && (
        <p className="typing">
          {typing.name} {t("typing")}
        </p>
      )}
      <Composer conv={conv} closed={closed !== null} />
    </section>
  );
}

function Bubble({ m, conv }: { m: Message; conv: Conversation }) {
  const note = m.type === "note";
  const mine = m.sender_kind === "agent" || m.sender_kind === "bot";
  let delivery = m.delivery;
  if (mine && m.seq !== null && m.seq <= conv.customer_read_seq && delivery !== "failed") delivery = "read";
  const failed = m.delivery === "failed" ? (m.delivery_error ?? "") : "";
  return (
    <li className={`msg ${note ? "note" : mine ? "out" : "in"}`} data-seq={m.seq ?? undefined} data-testid={note ? "note" : "message"}>
      <div className="who">
        {note && <span className="tag-note">{t("internal_note")}</span>} {m.sender_name ?? (m.sender_kind === "customer" ? contactName(conv.contact_id) : m.sender_kind)}
        <time dateTime={m.created_at}>{new Date(m.created_at).toLocaleTimeString()}</time>
      </div>
      <MessageBody m={m} />
      {mine && !note && (
        <div className={`delivery d-${delivery}`} data-testid="delivery">
          {t(`delivery_${delivery}` as Key) ?? delivery}
          {failed && `: ${failed}`}
        </div>
      )}
    </li>
  );
}

const PRIORITIES: Priority[] = ["low", "normal", "high", "urgent"];

function Actions({ conv }: { conv: Conversation }) {
  const me = useStore((s) => s.me);
  const agents = useStore((s) => s.data.agents);
  const teams = useStore((s) => s.data.teams);
  const [dialog, setDialog] = useState<"transfer" | "snooze" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = (p: Promise<unknown>) => {
    setError(null);
    p.catch((e: Error) => setError(e.message));
  };
  const resolved = conv.status === "resolved";
  return (
    <div className="actions">
      {conv.assignee_id !== me?.id && (
        <button type="button" data-testid="assign-me" onClick={() => run(api.assign(conv.id, me?.id ?? null))}>
          {t("assign_me")}
        </button>
      )}
      <select aria-label={t("agent")} data-testid="assignee" value={conv.assignee_id ?? ""} onChange={(e) => run(api.assign(conv.id, e.target.value || null))}>
        <option value="">{t("unassigned")}</option>
        {Object.values(agents)
          .filter((a) => a.active)
          .map((a) => (
            <option key={a.id} value={a.id}>
              {a.name} ({t(a.status)})
            </option>
          ))}
      </select>
      <select aria-label={t("team")} value={conv.team_id ?? ""} onChange={(e) => run(api.assign(conv.id, conv.assignee_id, e.target.value || null))}>
        <option value="">—</option>
        {Object.values(teams).map((x) => (
          <option key={x.id} value={x.id}>
            {x.name}
          </option>
        ))}
      </select>
      <button type="button" data-testid="transfer" onClick={() => setDialog("transfer")}>
        {t("transfer")}
      </button>
      {resolved ? (
        <button type="button" onClick={() => run(api.setStatusOf(conv.id, "open"))}>
          {t("reopen")}
        </button>
      ) : (
        <button type="button" data-testid="resolve" onClick={() => run(api.setStatusOf(conv.id, "resolved"))}>
          {t("resolve")}
        </button>
      )}
      {!resolved && (
        <button type="button" onClick={() => setDialog("snooze")}>
          {t("snooze")}
        </button>
      )}
      <select aria-label={t("priority")} value={conv.priority} onChange={(e) => run(api.setPriority(conv.id, e.target.value))}>
        {PRIORITIES.map((p) => (
          <option key={p}>{p}</option>
        ))}
      </select>
      <TagEditor conv={conv} onError={setError} />
      {error && <span className="error" role="alert">{error}</span>}
      {dialog === "transfer" && <TransferDialog conv={conv} onClose={() => setDialog(null)} />}
      {dialog === "snooze" && <SnoozeDialog conv={conv} onClose={() => setDialog(null)} />}
    </div>
  );
}

function TagEditor({ conv, onError }: { conv: Conversation; onError: (e: string) => void }) {
  const [text, setText] = useState("");
  const save = (tags: string[]) => void api.setTags(conv.id, tags).catch((e: Error) => onError(e.message));
  return (
    <span className="tags">
      {conv.tags.map((tag) => (
        <button key={tag} type="button" className="chip" title={t("delete")} onClick={() => save(conv.tags.filter((x) => x !== tag))}>
          {tag} ×
        </button>
      ))}
      <input
        aria-label={t("tags")}
        placeholder={`+ ${t("tag")}`}
        value={text}
        maxLength={64}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && text.trim()) {
            save([...new Set([...conv.tags, text.trim()])]);
            setText("");
          }
        }}
      />
    </span>
  );
}

function TransferDialog({ conv, onClose }: { conv: Conversation; onClose: () => void }) {
  const agents = useStore((s) => s.data.agents);
  const teams = useStore((s) => s.data.teams);
  const me = useStore((s) => s.me);
  const [target, setTarget] = useState("");
  const [comment, setComment] = useState("");
  const [error, setError] = useState<string | null>(null);
  async function submit() {
    const [kind, id] = target.split(":");
    try {
      await transfer(conv.id, kind === "team" ? { team_id: id } : { agent_id: id }, comment);
      onClose();
    } catch (e) {
      setError((e as Error).message);
    }
  }
  return (
    <div className="dialog" role="dialog" aria-label={t("transfer")}>
      <select aria-label={t("transfer")} data-testid="transfer-target" value={target} onChange={(e) => setTarget(e.target.value)}>
        <option value="" />
        {Object.values(agents)
          .filter((a) => a.active && a.id !== me?.id)
          .map((a) => (
            <option key={a.id} value={`agent:${a.id}`}>
              {a.name} ({t(a.status)})
            </option>
          ))}
        {Object.values(teams).map((x) => (
          <option key={x.id} value={`team:${x.id}`}>
            {t("team")}: {x.name}
          </option>
        ))}
      </select>
      <textarea aria-label={t("transfer_comment")} data-testid="transfer-comment" placeholder={t("transfer_comment")} value={comment} onChange={(e) => setComment(e.target.value)} />
      {error && <p className="error">{error}</p>}
      <button type="button" data-testid="transfer-submit" disabled={!target} onClick={() => void submit()}>
        {t("transfer")}
      </button>
      <button type="button" onClick={onClose}>
        {t("back")}
      </button>
    </div>
  );
}

function SnoozeDialog({ conv, onClose }: { conv: Conversation; onClose: () => void }) {
  const [until, setUntil] = useState(() => new Date(Date.now() + 3600_000).toISOString().slice(0, 16));
  return (
    <div className="dialog" role="dialog" aria-label={t("snooze")}>
      <label>
        {t("snooze_until")}
        <input type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
      </label>
      <button
        type="button"
        onClick={() => {
          void api.setStatusOf(conv.id, "snoozed", new Date(until).toISOString()).then(onClose);
        }}
      >
        {t("snooze")}
      </button>
      <button type="button" onClick={onClose}>
        {t("back")}
      </button>
    </div>
  );
}

export function dropSocket(): void {
  currentRealtime()?.drop();
}

/** The time now, again every ``ms`` (never while ``ms`` is null). */
function useClock(ms: number | null): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (ms === null) return;
    const h = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(h);
  }, [ms]);
  return ms === null ? Date.now() : now;
}

/** A channel that limits how long (and how often) an agent may answer: a live countdown. */
function ReplyWindow({ closesAt, remaining }: { closesAt: string; remaining: number }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const h = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(h);
  }, []);
  const left = Math.max(0, Math.floor((Date.parse(closesAt) - now) / 1000));
  const hh = Math.floor(left / 3600);
  const mm = String(Math.floor((left % 3600) / 60)).padStart(2, "0");
  const ss = String(left % 60).padStart(2, "0");
  return (
    <p className={`window ${left < 600 ? "closing" : ""}`} data-testid="reply-window">
      ⏱ {t("reply_window")} {hh}:{mm}:{ss} · {remaining} {t("replies_left")}
    </p>
  );
}
