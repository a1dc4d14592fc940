// The loader a host page includes with one <script> tag. It draws the launcher in a
// shadow root and frames the chat page from kefu's origin; the two talk only by postMessage.
import { LABELS, pickLocale, type LoaderLabels } from "./labels";
import { LAUNCHER_CSS } from "./style";

type Handler = (value: unknown) => void;
type HostCall = [string, ...unknown[]];
interface KefuStub {
  (...args: unknown[]): void;
  q?: HostCall[];
}
interface HostWindow extends Window {
  Kefu?: KefuStub;
  kefuSettings?: Record<string, unknown>;
}

const w = window as HostWindow;
const script = document.currentScript as HTMLScriptElement | null;

function boot(el: HTMLScriptElement): void {
  const data = el.dataset;
  const key = data.inboxKey ?? "";
  const origin = new URL(el.src, location.href).origin;
  const settings = w.kefuSettings ?? {};
  const config: Record<string, unknown> = {
    locale: data.locale ?? settings.locale ?? null,
    pageLang: document.documentElement.lang || null, // the host page's language: after the browser's
    prechat: (data.prechat ?? (settings.prechat as string | undefined) ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s === "name" || s === "email"),
    sound: (data.sound ?? String(settings.sound ?? "")) === "true",
    source: data.source ?? settings.source ?? null,
    user: settings.user ?? null,
    attributes: settings.attributes ?? null,
  };
  const notifications = (data.notifications ?? String(settings.notifications ?? "")) === "true";
  let labels: LoaderLabels = LABELS[pickLocale((config.locale as string | null) ?? null)];

  const host = document.createElement("div");
  host.setAttribute("data-kefu-widget", "");
  const root = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = LAUNCHER_CSS;
  const panel = document.createElement("div");
  panel.className = "panel";
  panel.hidden = true;
  const frame = document.createElement("iframe");
  // The page's origin lets kefu answer a site the inbox does not allow with an explanation
  // instead of a frame the browser refuses (frame-ancestors) with a broken-page icon.
  frame.src = `${origin}/widget/chat.html?key=${encodeURIComponent(key)}&origin=${encodeURIComponent(
    location.origin,
  )}&lang=${pickLocale((config.locale as string | null) ?? null)}`;
  frame.title = labels.title;
  frame.setAttribute("allow", "autoplay");
  panel.append(frame);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "launcher";
  button.setAttribute("aria-expanded", "false");
  button.innerHTML =
    '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.hidden = true;
  badge.setAttribute("aria-hidden", "true");
  button.append(badge);
  root.append(style, panel, button);

  const handlers = new Map<string, Set<Handler>>();
  let isOpen = false;
  let unread = 0;
  let ready: unknown = null;
  const post = (msg: Record<string, unknown>): void => {
    frame.contentWindow?.postMessage({ kefu: 1, ...msg }, origin);
  };
  const fire = (name: string, value: unknown): void => {
    for (const fn of handlers.get(name) ?? []) {
      try {
        fn(value);
      } catch (e) {
        console.error(e);
      }
    }
  };
  const label = (): void => {
    const base = isOpen ? labels.close : labels.open;
    button.setAttribute("aria-label", unread > 0 ? `${base} (${labels.unread(unread)})` : base);
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread === 0;
    frame.title = labels.title;
  };
  const setOpen = (open: boolean, focus = true): void => {
    if (open === isOpen) return;
    isOpen = open;
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    host.toggleAttribute("data-open", open);
    post({ type: "visibility", open });
    if (open && focus) frame.focus();
    if (!open && focus) button.focus();
    label();
    fire(open ? "open" : "close", null);
  };

  const api = {
    setUser(user: unknown) {
      config.user = user;
      post({ type: "setUser", user });
    },
    setAttributes(attributes: unknown) {
      config.attributes = attributes;
      post({ type: "setAttributes", attributes });
    },
    setLocale(locale: string) {
      config.locale = locale;
      labels = LABELS[pickLocale(locale)];
      label();
      post({ type: "setLocale", locale });
    },
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle: () => setOpen(!isOpen),
    on(name: string, fn: Handler) {
      let set = handlers.get(name);
      if (!set) handlers.set(name, (set = new Set()));
      set.add(fn);
      if (name === "ready" && ready !== null) fn(ready);
      if (name === "unread") fn(unread);
    },
    off(name: string, fn: Handler) {
      handlers.get(name)?.delete(fn);
    },
    isOpen: () => isOpen,
  };
  type Api = typeof api;
  const call = (name: string, ...args: unknown[]): void => {
    const fn = (api as Record<string, unknown>)[name];
    if (typeof fn === "function") (fn as (...a: unknown[]) => void)(...args);
  };
  const queued = w.Kefu?.q ?? [];
  const kefu = Object.assign((name: string, ...args: unknown[]) => call(name, ...args), api) as
    KefuStub & Api;
  w.Kefu = kefu;
  for (const [name, ...args] of queued) call(name, ...args);

  button.addEventListener("click", () => setOpen(!isOpen));
  window.addEventListener("message", (ev: MessageEvent) => {
    if (ev.source !== frame.contentWindow || ev.origin !== origin) return;
    const msg = ev.data as { kefu?: number; type?: string; [k: string]: unknown };
    if (!msg || msg.kefu !== 1) return;
    switch (msg.type) {
      case "hello":
        post({ type: "init", config, open: isOpen, host: location.href.slice(0, 500) });
        break;
      case "ready":
        ready = msg.info ?? {};
        fire("ready", ready);
        break;
      case "labels":
        labels = { ...labels, ...(msg.labels as Partial<LoaderLabels>) };
        label();
        break;
      case "unread":
        unread = Number(msg.count) || 0;
        label();
        fire("unread", unread);
        break;
      case "message":
        fire("message", msg.message);
        if (notifications && (!isOpen || document.hidden)) notify(msg.notify as string[]);
        break;
      case "close":
        setOpen(false);
        break;
      case "context":
        if (msg.level === "full") followPage();
        break;
      case "blocked":
        console.error(
          `kefu: this page's origin (${location.origin}) may not show the chat of inbox ${key}. ` +
            `Add it to the inbox's "Allowed origins" setting (Settings → Inboxes), ` +
            `or to KEFU_ALLOWED_ORIGINS for every inbox.`,
        );
        break;
    }
  });

  // The page the visitor is on, sent to the chat when the inbox collects it ("full"): now,
  // and after each navigation of a single-page app (history.pushState, back and forward).
  let following = false;
  let pageTimer = 0;
  function followPage(): void {
    if (following) return;
    following = true;
    const sendPage = (): void => {
      clearTimeout(pageTimer);
      pageTimer = window.setTimeout(() => {
        const href = location.href.length <= 2048 ? location.href : (location.origin + location.pathname).slice(0, 2048);
        const ref = document.referrer.length <= 2048 ? document.referrer : "";
        post({ type: "page", page: { url: href, title: document.title.slice(0, 300), referrer: ref } });
      }, 300);
    };
    for (const name of ["pushState", "replaceState"] as const) {
      const original = history[name];
      history[name] = function (this: History, ...args: Parameters<History["pushState"]>) {
        const out = original.apply(this, args);
        sendPage();
        return out;
      };
    }
    window.addEventListener("popstate", sendPage);
    window.addEventListener("hashchange", sendPage);
    sendPage();
  }

  function notify(text: string[] | undefined): void {
    if (!text || typeof Notification === "undefined") return;
    const show = (): void => {
      const n = new Notification(text[0] ?? "", { body: text[1] ?? "" });
      n.onclick = () => {
        window.focus();
        setOpen(true);
      };
    };
    if (Notification.permission === "granted") show();
  }
  if (notifications && typeof Notification !== "undefined" && Notification.permission === "default") {
    button.addEventListener("click", () => void Notification.requestPermission(), { once: true });
  }

  label();
  (document.body ?? document.documentElement).append(host);
}

if (script && !document.querySelector("[data-kefu-widget]")) {
  if (document.body) boot(script);
  else document.addEventListener("DOMContentLoaded", () => boot(script), { once: true });
}
