// The chat page kefu serves at /widget/chat.html?key=<inbox key>. Framed by the loader, it
// takes its settings from the loader's `init` message; opened directly, it runs on its own.
import { KefuClient } from "../client/client";
import type { KeyValueStorage, WebSocketCtor } from "../client/transport";
import type { Attachment, CollectContext, JsonObject, UserClaim } from "../client/types";
import { locale, pickLocale, setLocale, t, type Locale } from "./i18n";
import { contextReport, type HostPage } from "./context";
import { ChatUi } from "./ui";
import "./style.css";

interface Config {
  locale: string | null;
  pageLang: string | null;
  prechat: string[];
  sound: boolean;
  source: string | null;
  user: UserClaim | null;
  attributes: JsonObject | null;
}

const query = new URLSearchParams(location.search);
const key = query.get("key") ?? "";
const framed = window.parent !== window;
const root = document.getElementById("root") as HTMLElement;
const prefs = `kefu:${key}:prefs`;
let hostOrigin: string | null = null;
let isOpen = !framed;
let lastUnread = -1;
// Entry links open this page on its own with `?source=` (a shop, a campaign, a QR code).
const urlSource = query.get("source")?.slice(0, 500) || null;
let config: Config = {
  locale: query.get("lang"),
  pageLang: null,
  prechat: [],
  sound: false,
  source: urlSource,
  user: null,
  attributes: null,
};
let client: KefuClient;
let ui: ChatUi;

const storage: KeyValueStorage = {
  get: (k) => localStorage.getItem(k),
  set: (k, v) => localStorage.setItem(k, v),
  remove: (k) => localStorage.removeItem(k),
};

function toParent(msg: Record<string, unknown>): void {
  if (framed && hostOrigin) window.parent.postMessage({ kefu: 1, ...msg }, hostOrigin);
}

function savedPrefs(): { locale?: Locale; sound?: boolean } {
  try {
    return JSON.parse(localStorage.getItem(prefs) ?? "{}") as { locale?: Locale; sound?: boolean };
  } catch {
    return {};
  }
}

function savePrefs(p: { locale?: Locale; sound?: boolean }): void {
  localStorage.setItem(prefs, JSON.stringify({ ...savedPrefs(), ...p }));
}

function applyLocale(wanted: string | null): void {
  // The host's choice, the customer's own, their browser's languages, then the host page's.
  const browser = navigator.languages ?? [navigator.language];
  setLocale(pickLocale(wanted ?? savedPrefs().locale, [...browser, config.pageLang]));
  document.title = t("frameTitle");
  toParent({ type: "labels", labels: { open: t("open"), close: t("close"), title: t("frameTitle") } });
}

function beep(): void {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.25);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.25);
  } catch {
    /* sound is optional */
  }
}

function visible(): boolean {
  return isOpen && document.visibilityState === "visible";
}

function update(): void {
  ui.render();
  if (visible()) client.markRead();
  const unread = client.thread.unread();
  if (unread !== lastUnread) {
    lastUnread = unread;
    toParent({ type: "unread", count: unread });
  }
}

function makeClient(): KefuClient {
  const c = new KefuClient({
    baseUrl: location.origin,
    inboxKey: key,
    fetch: (url, init) => fetch(url, init as RequestInit),
    WebSocket: WebSocket as unknown as WebSocketCtor,
    storage,
    user: config.user,
    source: config.source,
    locale: locale(),
  });
  let announced = false;
  c.on("change", update);
  c.on("connection", (state) => {
    if (state === "online") {
      ui.showError(null);
      if (!announced && c.session) {
        announced = true;
        toParent({ type: "ready", info: { verified: c.session.verified, contact_id: c.session.contact_id } });
        if (config.attributes) void c.updateContact({ attributes: config.attributes }).catch(() => undefined);
        level = c.session.inbox.collect_context ?? "basic";
        if (level === "full") toParent({ type: "context", level });
        reportContext();
      }
      pollAvailability();
    }
    update();
  });
  c.on("error", (e) => ui.showError(e.code));
  c.on("typing", (s) => ui.showTyping(s.sender_name, s.typing));
  c.on("queue", (q) => {
    ui.queue = q;
    update();
  });
  c.on("message", (m) => {
    const name = m.sender_kind === "bot" ? t("bot") : (m.sender_name ?? t("agent"));
    toParent({
      type: "message",
      message: { id: m.id, seq: m.seq, sender_kind: m.sender_kind, sender_name: m.sender_name, type: m.type, content: m.content },
      notify: [name, m.content.slice(0, 200)],
    });
    if (!visible() && (savedPrefs().sound ?? config.sound)) beep();
  });
  return c;
}

// What the visitor's browser reports, as far as the inbox collects it (docs/widget.md).
let level: CollectContext = "off";
let page: HostPage | null = null;
let lastReport = "";
let reportTimer = 0;

function reportContext(): void {
  window.clearTimeout(reportTimer);
  reportTimer = window.setTimeout(() => {
    const body = contextReport(level, page, navigator.language, Intl.DateTimeFormat().resolvedOptions().timeZone);
    const sig = JSON.stringify(body);
    if (!body || sig === lastReport || client.connection !== "online") return;
    lastReport = sig;
    void client.api.context(body).catch(() => (lastReport = ""));
  }, 1000);
}

// The team's availability, asked when the chat goes live and then once a minute while it
// is open and visible (the server caches it per inbox).
let availabilityTimer = 0;
let availabilityAt = 0;

function pollAvailability(): void {
  window.clearTimeout(availabilityTimer);
  availabilityTimer = window.setTimeout(pollAvailability, 60_000);
  if (client.connection !== "online" || (!visible() && availabilityAt > 0)) return;
  if (Date.now() - availabilityAt < 30_000) return;
  availabilityAt = Date.now();
  void client.api.availability().then((a) => {
    ui.availability = a;
    update();
  }, () => (availabilityAt = 0));
}

function restart(): void {
  lastReport = "";
  client.stop();
  client = makeClient();
  ui.useClient(client);
  void client.start();
}

const KINDS = new Set(["image", "file", "audio", "video"]);
const PAYLOAD_KEYS = ["attachment_id", "name", "mime", "size", "width", "height", "duration_ms", "thumbnail"];

async function upload(files: File[]): Promise<void> {
  for (const file of files) {
    ui.showBanner(t("uploading", { name: file.name }));
    try {
      const conv = await client.ensureConversation();
      const form = new FormData();
      form.append("file", file, file.name);
      const att = (await client.api.upload(conv.id, form)) as Attachment & { kind?: string };
      const payload: JsonObject = {};
      for (const k of PAYLOAD_KEYS) if ((att as unknown as JsonObject)[k] !== undefined) payload[k] = (att as unknown as JsonObject)[k];
      const type = att.kind && KINDS.has(att.kind) ? att.kind : "file";
      client.send(att.name, type, payload);
      ui.showError(null);
    } catch (e) {
      ui.showError((e as { code?: string }).code ?? "error");
    } finally {
      ui.showBanner(null);
      update();
    }
  }
}

function boot(): void {
  applyLocale(config.locale);
  client = makeClient();
  ui = new ChatUi(root, client, {
    close: () => toParent({ type: "close" }),
    localeChanged: (l) => {
      savePrefs({ locale: l });
      applyLocale(l);
      ui.build();
    },
    soundChanged: (on) => savePrefs({ sound: on }),
    upload: (files) => void upload(files),
    prechat: async (values, inboxForm) => {
      if (inboxForm) await client.api.prechat(values);
      else await client.updateContact({ name: values.name as string, email: values.email as string });
    },
  }, { framed, sound: savedPrefs().sound ?? config.sound, prechat: config.user ? [] : config.prechat });
  void client.start();
  window.addEventListener("offline", () => client.pause());
  window.addEventListener("online", () => client.resume());
  document.addEventListener("visibilitychange", () => {
    if (visible()) pollAvailability();
    update();
  });
}

window.addEventListener("message", (ev: MessageEvent) => {
  if (!framed || ev.source !== window.parent) return;
  const msg = ev.data as { kefu?: number; type?: string; [k: string]: unknown } | null;
  if (!msg || msg.kefu !== 1) return;
  if (msg.type === "init" && hostOrigin === null) {
    hostOrigin = ev.origin;
    config = { ...config, ...(msg.config as Partial<Config>) };
    config.source = config.source ?? urlSource;
    isOpen = msg.open === true;
    boot();
    return;
  }
  if (ev.origin !== hostOrigin) return;
  switch (msg.type) {
    case "visibility":
      isOpen = msg.open === true;
      if (isOpen) (root.querySelector("textarea") as HTMLElement | null)?.focus();
      if (isOpen) pollAvailability();
      update();
      break;
    case "page":
      page = msg.page as HostPage;
      reportContext();
      break;
    case "setUser":
      config.user = (msg.user as UserClaim | null) ?? null;
      restart();
      break;
    case "setAttributes":
      config.attributes = (msg.attributes as JsonObject | null) ?? null;
      if (config.attributes && client.connection === "online") {
        void client.updateContact({ attributes: config.attributes }).catch((e: { code?: string }) => ui.showError(e.code ?? "error"));
      }
      break;
    case "setLocale":
      savePrefs({ locale: pickLocale(msg.locale as string, []) });
      applyLocale(msg.locale as string);
      ui.build();
      break;
  }
});

if (framed) window.parent.postMessage({ kefu: 1, type: "hello" }, "*");
else boot();
