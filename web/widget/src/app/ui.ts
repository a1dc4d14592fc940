// The chat panel: header, thread, composer. It renders the client's state and never keeps
// its own copy of the conversation.
import type { KefuClient } from "../client/client";
import type { ApiError } from "../client/transport";
import type { Attachment, Availability, ChatItem, PrechatField, PrechatValue, QueueInfo } from "../client/types";
import { h } from "./dom";
import { availabilityText, errorText, LOCALES, locale, pickText, queueText, t, type Locale } from "./i18n";
import { pick } from "./lang";
import { body, type Button, type RenderContext } from "./render";

const EMOJI = "😀 😂 😊 😍 🤔 😢 😡 👍 👎 🙏 👏 🎉 ❤️ 🔥 ✅ ❌ 👋 🙂 😅 😉 🤝 💡 📦 🚚".split(" ");
const CLIP =
  '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M16.5 6.5l-8 8a2.1 2.1 0 0 0 3 3l8.5-8.5a4 4 0 0 0-5.7-5.7L5.6 11.9a6 6 0 0 0 8.5 8.5L21 13.5"/></svg>';
const SMILE =
  '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" stroke-width="2"/><circle cx="9" cy="10" r="1.2" fill="currentColor"/><circle cx="15" cy="10" r="1.2" fill="currentColor"/><path d="M8 14.5a4.5 4.5 0 0 0 8 0" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>';
const CHECK =
  '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><path fill="currentColor" d="M8 0l2 2h3v3l2 2-2 2v3h-3l-2 2-2-2H3v-3L1 7l2-2V2h3zm-1.2 10.2l5-5-1.1-1.1-3.9 3.9-1.9-1.9-1.1 1.1z"/></svg>';

export interface UiHooks {
  close(): void;
  localeChanged(l: Locale): void;
  soundChanged(on: boolean): void;
  upload(files: File[]): void;
  /** Answers to a pre-chat form: the inbox's own (`inboxForm`) or the embed's name/email. */
  prechat(values: Record<string, PrechatValue>, inboxForm: boolean): Promise<void>;
}

export class ChatUi implements RenderContext {
  private nodes = new Map<string, { el: HTMLElement; sig: string }>();
  private attachments = new Map<string, Promise<Attachment>>();
  private log!: HTMLElement;
  private status!: HTMLElement;
  private heading!: HTMLElement;
  private agent!: HTMLElement;
  private banner!: HTMLElement;
  private alertBox!: HTMLElement;
  private typingEl!: HTMLElement;
  private input!: HTMLTextAreaElement;
  private composer!: HTMLFormElement;
  private prechatForm: HTMLFormElement | null = null;
  private prechatSettled = false;
  private bottom!: HTMLElement;
  private typingTimer = 0;
  /** Whether the thread follows new content: the reader is at (or near) its end. */
  private stick = true;
  queue: QueueInfo | null = null;
  availability: Availability | null = null;

  constructor(
    private readonly root: HTMLElement,
    private client: KefuClient,
    private readonly hooks: UiHooks,
    private readonly opts: { framed: boolean; sound: boolean; prechat: string[] },
  ) {
    this.root.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.opts.framed) this.hooks.close();
    });
    // A phone turned, a window resized: a log that showed its end still does (else the
    // next message would not scroll into view either).
    window.addEventListener("resize", () => {
      if (this.stick) this.log.scrollTop = this.log.scrollHeight;
    });
    this.build();
  }

  attachment(id: string): Promise<Attachment> {
    const conv = this.client.thread.conversation;
    let p = this.attachments.get(id);
    if (!p && conv) {
      p = this.client.api.attachment(conv.id, id);
      p.catch(() => this.attachments.delete(id));
      this.attachments.set(id, p);
    }
    return p ?? Promise.reject(new Error("no conversation"));
  }

  press(item: ChatItem, b: Button): void {
    this.client.send(b.label, "text", { button: { message_id: item.id, id: b.id } });
  }

  preview(src: string, name: string): void {
    const close = (): void => {
      overlay.remove();
      opener?.focus();
    };
    const opener = document.activeElement as HTMLElement | null;
    const btn = h("button", { type: "button", class: "preview-close", "aria-label": t("closePreview"), onclick: close }, "×");
    const overlay = h(
      "div",
      { class: "preview", role: "dialog", "aria-modal": "true", "aria-label": name },
      h("img", { src, alt: name }),
      btn,
    );
    overlay.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        ev.stopPropagation();
        close();
      }
    });
    overlay.addEventListener("click", (ev) => ev.target === overlay && close());
    document.body.append(overlay);
    btn.focus();
  }

  /** Content above the end grew (an image loaded): keep the end in view if the reader was
   * there. */
  grew(): void {
    if (this.stick) this.log.scrollTop = this.log.scrollHeight;
  }

  useClient(client: KefuClient): void {
    this.client = client;
    this.attachments.clear();
    for (const { el } of this.nodes.values()) el.remove();
    this.nodes.clear();
    this.render();
  }

  /** Builds the static parts again (after a language change). */
  build(): void {
    const draft = this.input?.value ?? "";
    const focused = this.input !== undefined && document.activeElement === this.input;
    this.root.textContent = "";
    this.nodes.clear();
    this.status = h("span", { class: "status", role: "status" });
    this.agent = h("div", { class: "agent" });
    this.heading = h("h1", {});
    const header = h(
      "header",
      {},
      h("div", { class: "heading" }, this.heading, this.status),
      this.agent,
      this.opts.framed
        ? h("button", { type: "button", class: "close", "aria-label": t("close"), onclick: () => this.hooks.close() }, "×")
        : null,
    );
    this.banner = h("div", { class: "banner", role: "status", hidden: true });
    this.alertBox = h("div", { class: "alert", role: "alert", hidden: true });
    this.log = h("main", { class: "log", role: "log", "aria-live": "polite", "aria-label": t("messages"), tabindex: "0" });
    this.log.addEventListener("scroll", () => (this.stick = this.atEnd()), { passive: true });
    this.stick = true;
    this.typingEl = h("div", { class: "typing", "aria-live": "polite" });
    this.root.append(header, this.banner, this.alertBox, this.log, this.typingEl, this.buildComposer(), this.buildFooter());
    this.input.value = draft;
    if (focused) this.input.focus();
    this.render();
  }

  private buildComposer(): HTMLElement {
    const file = h("input", { type: "file", multiple: true, hidden: true, tabindex: "-1" });
    file.addEventListener("change", () => {
      const files = [...(file.files ?? [])];
      file.value = "";
      if (files.length) this.hooks.upload(files);
    });
    const picker = h("div", { class: "emoji-picker", role: "group", "aria-label": t("emoji"), hidden: true },
      ...EMOJI.map((e) => h("button", { type: "button", onclick: () => this.insert(e) }, e)));
    const emojiBtn = icon(SMILE, t("emoji"));
    emojiBtn.setAttribute("aria-expanded", "false");
    emojiBtn.addEventListener("click", () => {
      picker.hidden = !picker.hidden;
      emojiBtn.setAttribute("aria-expanded", String(!picker.hidden));
      if (!picker.hidden) (picker.firstElementChild as HTMLElement | null)?.focus();
    });
    picker.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        ev.stopPropagation();
        picker.hidden = true;
        emojiBtn.setAttribute("aria-expanded", "false");
        emojiBtn.focus();
      }
    });
    this.input = h("textarea", { rows: "1", placeholder: t("placeholder"), "aria-label": t("placeholder"), maxlength: "10000" });
    this.input.addEventListener("input", () => this.client.typing());
    this.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.composer.requestSubmit();
      }
    });
    this.composer = h(
      "form",
      { class: "composer" },
      picker,
      icon(CLIP, t("attach"), () => file.click()),
      file,
      emojiBtn,
      this.input,
      h("button", { type: "submit", class: "send" }, t("send")),
    );
    this.composer.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      this.input.value = "";
      this.client.send(text);
      this.input.focus();
    });
    this.bottom = h("div", { class: "bottom" }, this.composer);
    this.prechatForm = null;
    this.prechatSettled = false;
    return this.bottom;
  }

  /** Shows the pre-chat form once the session says which one the inbox has: the inbox's own
   * form, else the embed's `data-prechat`; never to a verified user or after it was answered. */
  private syncPrechat(): void {
    const s = this.client.session;
    if (this.prechatForm && s?.verified) {
      this.prechatForm.remove();
      this.prechatForm = null;
    }
    if (this.prechatSettled || !s) return;
    this.prechatSettled = true;
    if (s.verified || localStorage.getItem(this.prechatKey()) === "done") return;
    const own = s.inbox.prechat?.fields ?? [];
    const legacy = this.opts.prechat
      .filter((f) => f === "name" || f === "email")
      .map((key): PrechatField => ({ key, type: key === "email" ? "email" : "text", required: true, label: {}, options: [] }));
    const fields = own.length ? own : legacy;
    if (!fields.length) return;
    this.prechatForm = this.buildPrechat(fields, own.length > 0);
    this.bottom.prepend(this.prechatForm);
  }

  private buildPrechat(fields: PrechatField[], inboxForm: boolean): HTMLFormElement {
    const text = (labels: Record<string, string>, fallback: string): string => {
      // Labels are keyed by canonical tags (the server's reading): ja-JP serves ja, zh-TW serves zh-CN.
      return pick(labels, locale()) ?? pick(labels, "en") ?? Object.values(labels)[0] ?? fallback;
    };
    const INPUT: Record<string, string> = { email: "email", phone: "tel", number: "number" };
    const AUTO: Record<string, string> = { name: "name", email: "email", phone: "tel" };
    const controls = fields.map((f) => {
      const common = { name: f.key, required: f.required, "aria-required": f.required ? "true" : null };
      const el =
        f.type === "textarea" ? h("textarea", { ...common, rows: "3", maxlength: "1000" })
        : f.type === "select" ? h("select", common, h("option", { value: "" }, t("choose")),
            ...f.options.map((o) => h("option", { value: o.value }, text(o.label, o.value))))
        : f.type === "checkbox" ? h("input", { ...common, type: "checkbox" })
        : h("input", { ...common, type: INPUT[f.type] ?? "text", step: f.type === "number" ? "any" : null,
            maxlength: f.type === "email" ? "320" : f.key === "name" ? "200" : "500", autocomplete: AUTO[f.key] ?? "off" });
      const caption = h("span", {}, text(f.label, f.key === "name" || f.key === "email" ? t(f.key) : f.key));
      const label = f.type === "checkbox" ? h("label", { class: "check" }, el, caption) : h("label", {}, caption, el);
      return { f, el, label };
    });
    const form = h(
      "form",
      { class: "prechat" },
      h("p", {}, t("prechatIntro")),
      ...controls.map((c) => c.label),
      h("button", { type: "submit", class: "send" }, t("start")),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const values: Record<string, PrechatValue> = {};
      for (const { f, el } of controls) {
        el.removeAttribute("aria-invalid");
        if (f.type === "checkbox") values[f.key] = (el as HTMLInputElement).checked;
        else if (f.type === "number") values[f.key] = el.value.trim() === "" ? null : Number(el.value);
        else values[f.key] = el.value.trim() || null;
      }
      this.hooks.prechat(values, inboxForm).then(() => {
        localStorage.setItem(this.prechatKey(), "done");
        form.remove();
        this.prechatForm = null;
        this.showError(null);
        this.render();
        this.input.focus();
      }, (e: ApiError) => {
        this.showError(e.code ?? "error");
        const bad = (e.details as { fields?: Record<string, string> } | null)?.fields ?? {};
        const marked = controls.filter((c) => c.f.key in bad);
        for (const c of marked) c.el.setAttribute("aria-invalid", "true");
        marked[0]?.el.focus();
      });
    });
    return form;
  }

  private prechatKey(): string {
    return `kefu:${new URLSearchParams(location.search).get("key") ?? ""}:prechat`;
  }

  private buildFooter(): HTMLElement {
    const select = h("select", { "aria-label": t("language") });
    for (const [code, name] of Object.entries(LOCALES)) {
      select.append(h("option", { value: code, selected: code === locale() }, name));
    }
    select.addEventListener("change", () => this.hooks.localeChanged(select.value as Locale));
    const sound = h("input", { type: "checkbox", checked: this.opts.sound });
    sound.addEventListener("change", () => {
      this.opts.sound = sound.checked;
      this.hooks.soundChanged(sound.checked);
    });
    return h("footer", {}, select, h("label", { class: "sound" }, sound, t("sound")));
  }

  private insert(text: string): void {
    const i = this.input;
    const at = i.selectionStart ?? i.value.length;
    i.value = i.value.slice(0, at) + text + i.value.slice(i.selectionEnd ?? at);
    i.selectionStart = i.selectionEnd = at + text.length;
    i.focus();
  }

  showError(code: string | null): void {
    this.alertBox.hidden = code === null;
    this.alertBox.textContent = code === null ? "" : errorText(code);
  }

  showTyping(name: string | null, typing: boolean): void {
    window.clearTimeout(this.typingTimer);
    this.typingEl.textContent = typing ? t("typing", { name: name ?? t("someone") }) : "";
    if (typing) this.typingTimer = window.setTimeout(() => (this.typingEl.textContent = ""), 6000);
  }

  showBanner(text: string | null): void {
    this.banner.hidden = !text;
    this.banner.textContent = text ?? "";
  }

  render(): void {
    const c = this.client;
    const conn = c.connection;
    this.heading.textContent = c.session?.inbox.name ?? t("title");
    this.status.textContent = conn === "online" ? availabilityText(this.availability) : conn === "offline" ? t("offline")
      : conn === "reconnecting" ? t("reconnecting") : conn === "connecting" ? t("connecting") : "";
    this.root.dataset.connection = conn;
    this.root.dataset.availability = this.availability?.status ?? "";
    const blocked = conn === "error";
    this.syncPrechat();
    this.composer.hidden = blocked || this.prechatForm !== null;
    this.renderAgent();
    this.renderQueue();
    this.renderThread();
  }

  private renderAgent(): void {
    const a = this.client.thread.conversation?.assignee;
    this.agent.textContent = "";
    if (!a) return;
    const avatar = a.avatar_url ? h("img", { class: "avatar", src: a.avatar_url, alt: "", referrerpolicy: "no-referrer" })
      : h("span", { class: "avatar", "aria-hidden": "true" }, a.name.slice(0, 1).toUpperCase());
    this.agent.append(avatar, h("span", { class: "agent-name" }, a.name), verifiedBadge());
    if (a.public_id) {
      const href = `/verify?id=${encodeURIComponent(a.public_id)}&lang=${encodeURIComponent(locale())}`;
      this.agent.append(
        h("a", { class: "agent-id", href, target: "_blank", rel: "noopener", title: t("checkId") },
          t("agentId", { id: a.public_id })),
      );
    }
  }

  private renderQueue(): void {
    const q = this.queue;
    const conv = this.client.thread.conversation;
    if (!q || !conv || q.conversation_id !== conv.id || conv.status !== "queued") {
      const closed = this.availability?.status === "closed" && this.client.connection === "online";
      this.showBanner(this.client.connection === "offline" ? t("offline") : closed ? this.awayText() : null);
      return;
    }
    const parts: string[] = [];
    if (q.open_now === false) parts.push(this.awayText());
    if (typeof q.position === "number") parts.push(queueText(q.position));
    if (typeof q.expected_wait_seconds === "number") {
      parts.push(t("wait", { m: Math.max(1, Math.round(q.expected_wait_seconds / 60)) }));
    }
    this.showBanner(parts.join(" ") || null);
  }

  /** The inbox's out-of-hours text in the widget's language, else the built-in one. */
  private awayText(): string {
    const inbox = this.client.session?.inbox;
    return pickText(inbox?.away_messages, locale()) ?? t("closedNow");
  }

  private atEnd(): boolean {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 80;
  }

  private renderThread(): void {
    const c = this.client;
    const near = this.stick || this.atEnd();
    const items = c.items();
    const conv = c.thread.conversation;
    const lastOwn = [...items].reverse().find((i) => i.sender_kind === "customer");
    const wanted: HTMLElement[] = [];
    if (c.thread.hasOlder()) {
      wanted.push(this.keyed("earlier", "earlier", () =>
        h("button", { type: "button", class: "earlier", onclick: () => void c.loadOlder() }, t("earlier"))));
    } else {
      const inbox = c.session?.inbox;
      const own = pickText(inbox?.greetings, locale());
      const greeting = own ?? (inbox?.greetings ? inbox.default_greeting : inbox?.greeting) ?? t("greetingFallback");
      wanted.push(this.keyed("greeting", greeting, () => h("div", { class: "msg from-agent greeting" }, h("p", { class: "text" }, greeting))));
    }
    let prev: ChatItem | null = null;
    for (const item of items) {
      let mark = "";
      if (item === lastOwn) {
        mark = item.status === "sent" && conv && item.seq !== null && item.seq <= conv.agent_read_seq ? "read" : item.status;
      }
      const showName = item.sender_kind !== "customer" && (prev?.sender_kind !== item.sender_kind || prev?.sender_name !== item.sender_name);
      const sig = `${item.seq}|${item.status}|${item.error}|${mark}|${showName}`;
      wanted.push(this.keyed(item.key, sig, () => this.bubble(item, mark, showName)));
      prev = item;
    }
    const keep = new Set(wanted);
    for (const [k, n] of this.nodes) if (!keep.has(n.el)) { n.el.remove(); this.nodes.delete(k); }
    wanted.forEach((el, i) => {
      if (this.log.children[i] !== el) this.log.insertBefore(el, this.log.children[i] ?? null);
    });
    if (near) {
      this.log.scrollTop = this.log.scrollHeight;
      this.stick = true;
    }
  }

  private keyed(key: string, sig: string, make: () => HTMLElement): HTMLElement {
    const hit = this.nodes.get(key);
    if (hit && hit.sig === sig) return hit.el;
    const el = make();
    if (hit) hit.el.replaceWith(el);
    this.nodes.set(key, { el, sig });
    return el;
  }

  private bubble(item: ChatItem, mark: string, showName: boolean): HTMLElement {
    const mine = item.sender_kind === "customer";
    const el = h("div", { class: `msg ${mine ? "from-me" : "from-agent"} type-${item.type}`, "data-seq": item.seq === null ? null : String(item.seq), "data-status": item.status });
    if (showName) {
      // The bot is named in the customer's language (the server calls every bot "Bot").
      const who = item.sender_kind === "bot" ? t("bot") : (item.sender_name ?? t("agent"));
      el.append(h("div", { class: "who" }, who, item.sender_kind === "agent" ? verifiedBadge() : null));
    }
    el.append(body(item, this));
    if (mine && mark) {
      const meta = h("div", { class: `meta meta-${mark}` }, mark === "failed" ? `${t("failed")} · ${errorText(item.error ?? "error")}` : t(mark as "sent" | "read" | "sending"));
      if (mark === "failed") {
        const cid = item.key.slice(2);
        meta.append(" ", h("button", { type: "button", class: "link", onclick: () => this.client.retry(cid) }, t("retry")));
      }
      el.append(meta);
    }
    return el;
  }
}

function icon(svg: string, label: string, onclick?: () => void): HTMLButtonElement {
  const b = h("button", { type: "button", class: "icon", "aria-label": label, onclick });
  b.insertAdjacentHTML("afterbegin", svg);
  return b;
}

/** Drawn by the widget for messages the server says an agent sent; never from text. */
function verifiedBadge(): HTMLElement {
  const badge = h("span", { class: "verified", title: t("verified") }, h("span", { class: "sr" }, t("verified")));
  badge.insertAdjacentHTML("afterbegin", CHECK);
  return badge;
}
