import { useEffect, useMemo, useRef, useState } from "react";
import { uploadFile } from "../api/client";
import type { Agent, Attachment, CannedReply, Conversation } from "../api/types";
import { t } from "../i18n";
import { enqueue } from "../state/outbox";
import { currentRealtime } from "../state/session";
import { loadDraft, saveDraft, useStore } from "../state/store";
import { newClientId } from "./actions";
import { messageTypeOf, namedForUpload, sizeText, uploadErrorKey } from "./attachments";

/** A file on its way into the conversation: uploading, ready to send, or refused. */
interface Staged {
  key: string;
  name: string;
  size: number;
  progress: number;
  error: string | null;
  attachment: Attachment | null;
  clientId: string; // one per file: a retried send is recognised, never stored twice
  abort: () => void;
}

const EMOJI = ["😀", "😊", "🙏", "👍", "👌", "🎉", "❤️", "😅", "🤔", "😢", "👋", "✅", "⏳", "📦", "💳", "🔧"];

/** Canned replies whose shortcut starts with what follows a leading "/". */
export function cannedMatches(text: string, replies: CannedReply[]): CannedReply[] {
  const m = /^\/([a-z0-9_-]*)$/i.exec(text.trim());
  if (!m) return [];
  const prefix = (m[1] ?? "").toLowerCase();
  return replies.filter((r) => r.shortcut.startsWith(prefix)).sort((a, b) => a.shortcut.localeCompare(b.shortcut)).slice(0, 8);
}

/** Agents named as "@Name" in a note's text. */
export function mentionsIn(text: string, agents: Agent[]): string[] {
  return agents.filter((a) => text.includes(`@${a.name}`)).map((a) => a.id);
}

/** ``closed``: the channel's messaging window is closed, so replies are off (notes are not). */
export function Composer({ conv, closed = false }: { conv: Conversation; closed?: boolean }) {
  const canned = useStore((s) => s.data.canned_replies);
  const agents = useStore((s) => s.data.agents);
  const [text, setText] = useState(() => loadDraft(conv.id));
  const [note, setNote] = useState(false);
  const [pick, setPick] = useState(0);
  const [emoji, setEmoji] = useState(false);
  const [staged, setStaged] = useState<Staged[]>([]);
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const lastTyping = useRef(0);
  // One id per message: however often the outbox sends it again, it is stored once.
  const clientId = useRef(newClientId());
  const box = useRef<HTMLTextAreaElement>(null);

  useEffect(() => saveDraft(conv.id, text), [conv.id, text]);
  // Leaving the conversation cancels uploads still under way (their files are not kept).
  const stagedNow = useRef(staged);
  stagedNow.current = staged;
  useEffect(
    () => () => stagedNow.current.forEach((s) => !s.attachment && !s.error && s.abort()),
    [],
  );
  useEffect(() => {
    const focus = (e: Event) => {
      setNote((e as CustomEvent<string>).detail === "note");
      box.current?.focus();
    };
    addEventListener("kefu:compose", focus);
    return () => removeEventListener("kefu:compose", focus);
  }, []);

  const suggestions = useMemo(() => cannedMatches(text, Object.values(canned)), [text, canned]);
  const mentionQuery = note ? /@([^\s@]*)$/.exec(text)?.[1] : undefined;
  const mentionable = useMemo(
    () =>
      mentionQuery === undefined
        ? []
        : Object.values(agents)
            .filter((a) => a.active && a.name.toLowerCase().startsWith(mentionQuery.toLowerCase()))
            .slice(0, 6),
    [agents, mentionQuery],
  );

  function typing() {
    const now = Date.now();
    if (now - lastTyping.current > 3000) {
      lastTyping.current = now;
      currentRealtime()?.send({ type: "typing", conversation_id: conv.id, typing: true, private: note });
    }
  }

  function insertCanned(r: CannedReply) {
    setText(r.content);
    setPick(0);
    box.current?.focus();
  }

  const change = (key: string, patch: Partial<Staged>) =>
    setStaged((all) => all.map((s) => (s.key === key ? { ...s, ...patch } : s)));

  function addFiles(list: FileList | File[] | null) {
    for (const raw of Array.from(list ?? [])) {
      const file = namedForUpload(raw);
      const key = newClientId();
      const up = uploadFile(conv.id, file, (progress) => change(key, { progress }));
      const item: Staged = {
        key,
        name: file.name,
        size: file.size,
        progress: 0,
        error: null,
        attachment: null,
        clientId: newClientId(),
        abort: up.abort,
      };
      setStaged((all) => [...all, item]);
      up.done.then(
        (attachment) => change(key, { attachment, name: attachment.name, progress: 1 }),
        (e: unknown) => change(key, { error: t(uploadErrorKey(e)) }),
      );
    }
    box.current?.focus();
  }

  function unstage(s: Staged) {
    if (!s.attachment && !s.error) s.abort();
    setStaged((all) => all.filter((x) => x.key !== s.key));
  }

  const ready = note || closed ? [] : staged.filter((s) => s.attachment);
  const locked = closed && !note; // a reply that could not leave
  const uploading = staged.some((s) => !s.attachment && !s.error);

  /** Into the outbox (state/outbox.ts): shown at once as pending, sent now or, while the
   *  server cannot be reached, as soon as it can, with the same client_msg_id. */
  function send() {
    const content = text.trim();
    if ((!content && !ready.length) || locked) return;
    // Each file is its own message, before the text that may talk about it.
    for (const s of ready) {
      const a = s.attachment as Attachment;
      enqueue(conv.id, { content: "", type: messageTypeOf(a.kind), payload: { attachment_id: a.attachment_id } }, s.clientId);
    }
    if (ready.length) setStaged((all) => all.filter((x) => !ready.includes(x)));
    if (!content) return;
    const mentions = note ? mentionsIn(content, Object.values(agents)) : [];
    enqueue(conv.id, { content, type: note ? "note" : "text", ...(mentions.length ? { payload: { mentions } } : {}) }, clientId.current);
    setText("");
    clientId.current = newClientId();
  }

  return (
    <div
      className={`composer ${note ? "is-note" : ""} ${dragging ? "dragging" : ""}`}
      onDragOver={(e) => {
        if (note || !e.dataTransfer.types.includes("Files")) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        setDragging(false);
        if (note || !e.dataTransfer.files.length) return;
        e.preventDefault();
        addFiles(e.dataTransfer.files);
      }}
    >
      <div className="modes" role="tablist">
        <button type="button" role="tab" aria-selected={!note} onClick={() => setNote(false)}>
          {t("reply")}
        </button>
        <button type="button" role="tab" aria-selected={note} data-testid="note-mode" onClick={() => setNote(true)}>
          {t("note")}
        </button>
      </div>
      {suggestions.length > 0 && (
        <ul className="suggest" role="listbox" data-testid="canned-suggestions">
          {suggestions.map((r, i) => (
            <li key={r.id} role="option" aria-selected={i === pick}>
              <button type="button" onMouseDown={(e) => (e.preventDefault(), insertCanned(r))}>
                <b>/{r.shortcut}</b> {r.title}
              </button>
            </li>
          ))}
        </ul>
      )}
      {mentionable.length > 0 && (
        <ul className="suggest" role="listbox">
          {mentionable.map((a) => (
            <li key={a.id}>
              <button type="button" onMouseDown={(e) => (e.preventDefault(), setText(text.replace(/@([^\s@]*)$/, `@${a.name} `)))}>
                @{a.name}
              </button>
            </li>
          ))}
        </ul>
      )}
      <textarea
        ref={box}
        data-testid="composer"
        aria-label={note ? t("note") : t("reply")}
        placeholder={note ? t("note_placeholder") : locked ? t("reply_disabled_window") : t("composer_placeholder")}
        disabled={locked}
        value={text}
        maxLength={10000}
        onChange={(e) => {
          setText(e.target.value);
          typing();
        }}
        onPaste={(e) => {
          if (note || !e.clipboardData.files.length) return;
          e.preventDefault();
          addFiles(e.clipboardData.files);
        }}
        onKeyDown={(e) => {
          if (suggestions.length && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
            e.preventDefault();
            setPick((p) => (p + (e.key === "ArrowDown" ? 1 : suggestions.length - 1)) % suggestions.length);
          } else if (suggestions.length && (e.key === "Tab" || (e.key === "Enter" && !e.ctrlKey && !e.metaKey))) {
            e.preventDefault();
            const r = suggestions[pick] ?? suggestions[0];
            if (r) insertCanned(r);
          } else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            send();
          } else if (e.key === "Escape") {
            box.current?.blur();
          }
        }}
      />
      {staged.length > 0 && (
        <ul className="uploads" data-testid="uploads">
          {staged.map((s) => (
            <li key={s.key} className={s.error ? "failed" : s.attachment ? "ready" : "uploading"} data-testid="upload">
              <span className="name">📎 {s.name}</span> <span className="muted">{sizeText(s.size)}</span>{" "}
              {s.error ? (
                <span className="error" role="alert" data-testid="upload-error">
                  {s.error}
                </span>
              ) : s.attachment ? (
                <span className="muted">{note ? t("attachments_not_in_notes") : t("upload_ready")}</span>
              ) : (
                <progress max={1} value={s.progress} aria-label={t("uploading")} />
              )}
              <button type="button" aria-label={t("remove")} title={t("remove")} onClick={() => unstage(s)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="composer-bar">
        <button type="button" aria-label={t("emoji")} onClick={() => setEmoji(!emoji)}>
          😀
        </button>
        {locked && (
          <span className="muted" data-testid="composer-closed">
            {t("reply_disabled_window")}
          </span>
        )}
        {!note && !locked && (
          <button type="button" aria-label={t("attach")} title={t("attach")} data-testid="attach" onClick={() => fileInput.current?.click()}>
            📎
          </button>
        )}
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="attach-input"
          onChange={(e) => {
            addFiles(e.target.files);
            e.target.value = "";
          }}
        />
        {emoji && (
          <span className="emoji">
            {EMOJI.map((x) => (
              <button key={x} type="button" onClick={() => (setText(text + x), setEmoji(false), box.current?.focus())}>
                {x}
              </button>
            ))}
          </span>
        )}
        <span className="spacer" />
        <button type="button" data-testid="send" disabled={locked || (!text.trim() && !ready.length)} title={uploading ? t("uploading") : undefined} onClick={send}>
          {t("send")}
        </button>
      </div>
    </div>
  );
}
