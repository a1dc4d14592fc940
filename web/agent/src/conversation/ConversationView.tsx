import * as M from "@radix-ui/react-dropdown-menu";
import { AlarmClock, ArrowLeft, ArrowLeftRight, ChevronDown, CircleCheck, Flag, PanelRight, RotateCcw, UserPlus, UserRound, Users, X } from "lucide-react";
import { type ReactNode, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, api } from "../api/client";
import type { Conversation, Message, Priority } from "../api/types";
import { type Key, errorText, formatTime, senderLabel, t, tn } from "../i18n";
import { contactName, wantContacts } from "../state/contacts";
import { currentRealtime, ensureConversation, loadThread } from "../state/session";
import { discard, type Outgoing, retry, useOutbox } from "../state/outbox";
import { useStore } from "../state/store";
import { transfer } from "./actions";
import { ChannelStateNotice } from "./ChannelStateNotice";
import { ClosedWindow } from "./ClosedWindow";
import { Composer } from "./Composer";
import { MessageBody } from "./MessageBody";
import { windowClosed } from "./reach";
import { threadOf } from "./thread";
import { backToList } from "../inbox/nav";
import { Button, Dialog, Field, IconButton, MenuChoices, openOverlay, toast } from "../ui";

export function ConversationView({ id }: { id: string }) {
  const conv = useStore((s) => s.data.conversations[id]);
  const thread = useStore((s) => s.data.messages[id]);
  const typing = useStore((s) => s.typing[id]);
  const contacts = useStore((s) => s.data.contacts);
  const inbox = useStore((s) => (conv ? s.data.inboxes[conv.inbox_id] : undefined));
  const pending = useOutbox(id);
  const now = useClock(conv?.window ? 1000 : null);
  const [missing, setMissing] = useState(false);
  const bottom = useRef<HTMLLIElement>(null);
  const messages = useMemo(() => threadOf(thread), [thread]);

  // Again when the connection is back: what failed for want of a network is not missing.
  const live = useStore((s) => s.connection === "live");
  useEffect(() => {
    if (!live) return;
    void ensureConversation(id).then((c) => c && wantContacts([c.contact_id]));
    void loadThread(id).catch((e: unknown) => {
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) setMissing(true);
    });
  }, [id, live]);

  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "end" });
    // Tell the server (and the other agents) how far we have read.
    if (conv && conv.last_seq > conv.agent_read_seq && !document.hidden) {
      void api.read(id, conv.last_seq).catch(() => undefined);
    }
  }, [messages.length, conv?.last_seq, conv?.agent_read_seq, id, conv]);

  if (missing) return <section className="conversation empty">{t("conversation_missing")}</section>;
  if (!conv) return <section className="conversation" />;
  const sent = new Set(messages.map((m) => m.client_msg_id));
  const closed = windowClosed(conv, inbox, now);
  const title = contacts[conv.contact_id] ? contactName(conv.contact_id) : "…";
  return (
    <section className="conversation" aria-label={contacts[conv.contact_id] ? contactName(conv.contact_id) : id}>
      <Header conv={conv} title={title} />
      <ol className="thread" data-testid="thread">
        {messages.map((m) => (
          <Bubble key={m.id} m={m} conv={conv} />
        ))}
        {pending
          .filter((o) => !sent.has(o.client_msg_id))
          .map((o) => (
            <Pending key={o.client_msg_id} o={o} />
          ))}
        <li ref={bottom} className="thread-end" aria-hidden />
      </ol>
      {closed ? (
        <ClosedWindow conv={conv} why={closed} />
      ) : (
        conv.window && <ReplyWindow closesAt={conv.window.closes_at} remaining={conv.window.remaining} />
      )}
      <ChannelStateNotice conv={conv} />
      {typing && <Typing name={typing.name} until={typing.until} />}
      <Composer conv={conv} closed={closed !== null} />
    </section>
  );
}

/** "… is typing": shown until the signal's time is up, then gone without another render from
 *  elsewhere (the signal is refreshed every few seconds while the customer types). */
function Typing({ name, until }: { name: string; until: number }) {
  const [, setTick] = useState(0);
  const left = until - Date.now();
  useEffect(() => {
    if (left <= 0) return;
    const h = setTimeout(() => setTick((n) => n + 1), left + 50);
    return () => clearTimeout(h);
  }, [until, left]);
  if (left <= 0) return null;
  return (
    <p className="typing" data-testid="typing">
      {name ? t("typing_name", { name }) : t("typing_name", { name: t("sender_customer") })}
    </p>
  );
}

/** A message of the outbox (state/outbox.ts): sending, waiting for the connection, or
 *  refused (then it can be sent again or discarded). */
function Pending({ o }: { o: Outgoing }) {
  const note = o.body.type === "note";
  const name = typeof o.body.payload?.["attachment_id"] === "string" ? "📎" : "";
  return (
    <li className={`msg ${note ? "note" : "out"} pending p-${o.state}`} data-testid="pending-message" data-state={o.state}>
      <div className="who">{note && <span className="tag-note">{t("internal_note")}</span>}</div>
      <p className="text">
        {name}
        {o.body.content}
      </p>
      <div className={`delivery d-${o.state}`} role={o.state === "failed" ? "alert" : "status"}>
        {o.state === "sending" && t("outbox_sending")}
        {o.state === "waiting" && t("outbox_waiting")}
        {o.state === "failed" && `${t("outbox_failed")}: ${errorText({ code: o.error ?? "error" })}`}
        {o.state !== "sending" && (
          <button type="button" data-testid="outbox-retry" onClick={() => retry(o)}>
            {t("outbox_retry")}
          </button>
        )}
        {o.state === "failed" && (
          <button type="button" data-testid="outbox-discard" onClick={() => discard(o)}>
            {t("outbox_discard")}
          </button>
        )}
      </div>
    </li>
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
        {note && <span className="tag-note">{t("internal_note")}</span>} {m.sender_name ?? (m.sender_kind === "customer" ? contactName(conv.contact_id) : senderLabel(m.sender_kind))}
        <time dateTime={m.created_at}>{formatTime(m.created_at)}</time>
      </div>
      {m.sender_kind === "system" && m.payload?.["kind"] === "out_of_hours" && (
        <p className="muted" data-testid="system-kind">
          {t("out_of_hours")}
          {typeof m.payload["next_open_at"] === "string" && ` · ${t("opens_again", { when: formatTime(m.payload["next_open_at"]) })}`}
        </p>
      )}
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

function useRun(): (p: Promise<unknown>) => void {
  return (p) => void p.catch((e: unknown) => toast.error(errorText(e)));
}

/** The conversation's header: who, its status, the main actions, and its properties
 *  (assignee, team, priority, tags) as menus. */
function Header({ conv, title }: { conv: Conversation; title: string }) {
  const me = useStore((s) => s.me);
  const [dialog, setDialog] = useState<"transfer" | "snooze" | null>(null);
  const run = useRun();
  const resolved = conv.status === "resolved";
  return (
    <header className="conv-header">
      <div className="conv-title-row">
        <IconButton className="conv-back" label={t("back_to_list")} onClick={backToList} data-testid="back-to-list">
          <ArrowLeft size={18} aria-hidden />
        </IconButton>
        <h2 data-testid="conversation-title">{title}</h2>
        <div className="primary-actions">
          {conv.assignee_id !== me?.id && (
            <Button size="sm" data-testid="assign-me" icon={<UserPlus size={14} aria-hidden />} onClick={() => run(api.assign(conv.id, me?.id ?? null))} aria-label={t("assign_me")}>
              <span className="btn-label">{t("assign_me")}</span>
            </Button>
          )}
          {!resolved && (
            <IconButton label={t("snooze")} variant="secondary" className="btn-sm-icon" data-testid="snooze" onClick={() => setDialog("snooze")}>
              <AlarmClock size={15} aria-hidden />
            </IconButton>
          )}
          <IconButton label={t("transfer")} variant="secondary" data-testid="transfer" onClick={() => setDialog("transfer")}>
            <ArrowLeftRight size={15} aria-hidden />
          </IconButton>
          {resolved ? (
            <Button size="sm" icon={<RotateCcw size={14} aria-hidden />} data-testid="reopen" onClick={() => run(api.setStatusOf(conv.id, "open"))}>
              {t("reopen")}
            </Button>
          ) : (
            <Button size="sm" variant="primary" icon={<CircleCheck size={14} aria-hidden />} data-testid="resolve" onClick={() => run(api.setStatusOf(conv.id, "resolved"))} aria-label={t("resolve")}>
              <span className="btn-label">{t("resolve")}</span>
            </Button>
          )}
          <IconButton className="conv-contact" label={t("show_contact")} variant="secondary" data-testid="show-contact" onClick={() => openOverlay("contact")}>
            <PanelRight size={15} aria-hidden />
          </IconButton>
        </div>
      </div>
      <div className="conv-props">
        <span className={`pill st-${conv.status}`} data-testid="conversation-status" data-value={conv.status}>
          {t(`status_${conv.status}` as Key)}
        </span>
        <AssigneeMenu conv={conv} />
        <TeamMenu conv={conv} />
        <PriorityMenu conv={conv} />
        <TagEditor conv={conv} />
      </div>
      <TransferDialog conv={conv} open={dialog === "transfer"} onClose={() => setDialog(null)} />
      <SnoozeDialog conv={conv} open={dialog === "snooze"} onClose={() => setDialog(null)} />
    </header>
  );
}

/** A property of the conversation shown as "Label: value ▾"; the menu changes it. */
function PropTrigger({ label, value, icon, testId, data }: { label: string; value: string; icon: ReactNode; testId?: string; data?: string }) {
  return (
    <M.Trigger asChild>
      <button type="button" className="prop" data-testid={testId} data-value={data} aria-label={`${label}: ${value}`}>
        <span aria-hidden>{icon}</span>
        <span className="prop-value" aria-hidden>
          {value}
        </span>
        <ChevronDown size={12} aria-hidden />
      </button>
    </M.Trigger>
  );
}

function PropMenu({ trigger, children, label }: { trigger: ReactNode; children: ReactNode; label: string }) {
  return (
    <M.Root modal={false}>
      {trigger}
      <M.Portal>
        <M.Content className="menu" align="start" sideOffset={6} collisionPadding={8} aria-label={label}>
          {children}
        </M.Content>
      </M.Portal>
    </M.Root>
  );
}

function AssigneeMenu({ conv }: { conv: Conversation }) {
  const agents = useStore((s) => s.data.agents);
  const run = useRun();
  const current = conv.assignee_id ? (agents[conv.assignee_id]?.name ?? "…") : t("unassigned");
  const options = [
    { value: "", label: t("unassigned"), icon: <UserRound size={14} /> },
    ...Object.values(agents)
      .filter((a) => a.active)
      .map((a) => ({ value: a.id, label: `${a.name} (${t(a.status)})`, icon: <span className={`dot dot-${a.status}`} />, testId: `assignee-${a.id}` })),
  ];
  return (
    <PropMenu label={t("assignee_menu")} trigger={<PropTrigger label={t("assignee_menu")} value={current} icon={<UserRound size={14} />} testId="assignee" data={conv.assignee_id ?? ""} />}>
      <MenuChoices label={t("assignee_menu")} value={conv.assignee_id ?? ""} options={options} onChange={(v) => run(api.assign(conv.id, v || null))} />
    </PropMenu>
  );
}

function TeamMenu({ conv }: { conv: Conversation }) {
  const teams = useStore((s) => s.data.teams);
  const run = useRun();
  const current = conv.team_id ? (teams[conv.team_id]?.name ?? "…") : t("no_team");
  const options = [{ value: "", label: t("no_team") }, ...Object.values(teams).map((x) => ({ value: x.id, label: x.name }))];
  return (
    <PropMenu label={t("team_menu")} trigger={<PropTrigger label={t("team_menu")} value={current} icon={<Users size={14} />} testId="team" data={conv.team_id ?? ""} />}>
      <MenuChoices label={t("team_menu")} value={conv.team_id ?? ""} options={options} onChange={(v) => run(api.assign(conv.id, conv.assignee_id, v || null))} />
    </PropMenu>
  );
}

function PriorityMenu({ conv }: { conv: Conversation }) {
  const run = useRun();
  const label = (p: Priority) => t(`prio_${p}` as Key);
  const icon = (p: Priority) => <Flag size={14} className={`prio-icon-${p}`} />;
  return (
    <PropMenu label={t("priority_menu")} trigger={<PropTrigger label={t("priority_menu")} value={label(conv.priority)} icon={icon(conv.priority)} testId="priority" data={conv.priority} />}>
      <MenuChoices<Priority>
        label={t("priority_menu")}
        value={conv.priority}
        options={PRIORITIES.map((p) => ({ value: p, label: label(p), icon: icon(p), testId: `priority-${p}` }))}
        onChange={(p) => run(api.setPriority(conv.id, p))}
      />
    </PropMenu>
  );
}

function TagEditor({ conv }: { conv: Conversation }) {
  const [text, setText] = useState("");
  const run = useRun();
  const save = (tags: string[]) => run(api.setTags(conv.id, tags));
  return (
    <span className="tags">
      {conv.tags.map((tag) => (
        <span key={tag} className="chip">
          {tag}
          <button type="button" className="chip-x" aria-label={`${t("remove_tag")} ${tag}`} title={t("remove_tag")} onClick={() => save(conv.tags.filter((x) => x !== tag))}>
            <X size={12} aria-hidden />
          </button>
        </span>
      ))}
      <input
        aria-label={t("add_tag")}
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

function TransferDialog({ conv, open, onClose }: { conv: Conversation; open: boolean; onClose: () => void }) {
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
      setTarget("");
      setComment("");
      onClose();
    } catch (e) {
      setError(errorText(e));
    }
  }
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => !o && onClose()}
      title={t("transfer")}
      description={t("transfer_desc")}
      testId="transfer-dialog"
      footer={
        <>
          <Button onClick={onClose}>{t("cancel")}</Button>
          <Button variant="primary" data-testid="transfer-submit" disabled={!target} onClick={() => void submit()}>
            {t("transfer")}
          </Button>
        </>
      }
    >
      <Field label={t("transfer_to")}>
        <select data-testid="transfer-target" value={target} onChange={(e) => setTarget(e.target.value)}>
          <option value="">{t("transfer_choose")}</option>
          <optgroup label={t("agents")}>
            {Object.values(agents)
              .filter((a) => a.active && a.id !== me?.id)
              .map((a) => (
                <option key={a.id} value={`agent:${a.id}`}>
                  {a.name} ({t(a.status)})
                </option>
              ))}
          </optgroup>
          <optgroup label={t("teams")}>
            {Object.values(teams).map((x) => (
              <option key={x.id} value={`team:${x.id}`}>
                {t("team")}: {x.name}
              </option>
            ))}
          </optgroup>
        </select>
      </Field>
      <Field label={t("transfer_comment")}>
        <textarea data-testid="transfer-comment" rows={3} value={comment} onChange={(e) => setComment(e.target.value)} />
      </Field>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}

function SnoozeDialog({ conv, open, onClose }: { conv: Conversation; open: boolean; onClose: () => void }) {
  const [until, setUntil] = useState(() => localInput(Date.now() + 3600_000));
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => !o && onClose()}
      title={t("snooze")}
      description={t("snooze_desc")}
      testId="snooze-dialog"
      footer={
        <>
          <Button onClick={onClose}>{t("cancel")}</Button>
          <Button
            variant="primary"
            data-testid="snooze-submit"
            onClick={() => {
              setError(null);
              api.setStatusOf(conv.id, "snoozed", new Date(until).toISOString()).then(onClose, (e: Error) => setError(e.message));
            }}
          >
            {t("snooze")}
          </Button>
        </>
      }
    >
      <Field label={t("snooze_until")}>
        <input type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
      </Field>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}

/** A time as a datetime-local input wants it: local, to the minute. */
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
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
      ⏱ {t("reply_window")} {hh}:{mm}:{ss} · {tn("replies_left", remaining)}
    </p>
  );
}
