// One message as the customer sees it, by type (docs/messages.md).
import type { Attachment, ChatItem, JsonObject } from "../client/types";
import { formatSize, h, linkify, safeUrl } from "./dom";
import { t } from "./i18n";

export interface Button {
  id: string;
  label: string;
  action: "reply" | "url";
  value?: string;
}

export interface RenderContext {
  attachment(id: string): Promise<Attachment>;
  press(item: ChatItem, button: Button): void;
  preview(src: string, name: string): void;
  /** Content grew after it was drawn (an image loaded). */
  grew(): void;
}

function buttonsOf(payload: JsonObject | null): Button[] {
  const raw = payload?.buttons;
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (b): b is Button =>
      typeof b === "object" && b !== null && typeof b.id === "string" && typeof b.label === "string",
  );
}

function buttons(item: ChatItem, ctx: RenderContext): HTMLElement | null {
  const list = buttonsOf(item.payload);
  if (list.length === 0) return null;
  return h(
    "div",
    { class: "buttons", role: "group" },
    ...list.map((b) => {
      const url = b.action === "url" ? safeUrl(b.value) : null;
      if (b.action === "url") {
        return url
          ? h("a", { class: "btn", href: url, target: "_blank", rel: "noopener noreferrer" }, b.label)
          : null;
      }
      return h("button", { type: "button", class: "btn", onclick: () => ctx.press(item, b) }, b.label);
    }),
  );
}

function attachmentOf(payload: JsonObject | null): Attachment | null {
  if (!payload || typeof payload.attachment_id !== "string") return null;
  return payload as unknown as Attachment;
}

function media(item: ChatItem, ctx: RenderContext): HTMLElement {
  const a = attachmentOf(item.payload);
  const box = h("div", { class: `media media-${item.type}` });
  if (!a) return h("p", {}, item.content);
  const name = a.name || item.content;
  // An image's box is reserved from its known size before anything loads, so the thread's
  // height does not jump when it arrives (and the end stays in view).
  const size = item.type === "image" ? imageBox(a) : null;
  const frame = h("span", { class: size ? "placeholder sized" : "placeholder" }, name);
  if (size) {
    frame.style.width = `${size[0]}px`;
    frame.style.aspectRatio = `${size[0]} / ${size[1]}`;
  }
  box.append(frame);
  ctx.attachment(a.attachment_id).then(
    (view) => {
      const src = view.url ?? "";
      box.textContent = "";
      if (item.type === "image") {
        const thumb = view.thumbnail_url || src;
        const img = h("img", { src: thumb, alt: name });
        if (size) [img.width, img.height] = size;
        img.addEventListener("load", () => ctx.grew(), { once: true });
        box.append(
          h(
            "button",
            { type: "button", class: "thumb", "aria-label": t("viewImage", { name }), onclick: () => ctx.preview(src, name) },
            img,
          ),
        );
      } else if (item.type === "audio") {
        box.append(h("audio", { controls: true, preload: "metadata", src }));
      } else if (item.type === "video") {
        box.append(h("video", { controls: true, preload: "metadata", src, playsinline: true }));
      }
      box.append(
        h(
          "a",
          { class: "file", href: src, download: name, target: "_blank", rel: "noopener" },
          h("span", { class: "file-name" }, name),
          h("span", { class: "file-size" }, ` · ${formatSize(a.size)} · ${t("download")}`),
        ),
      );
      ctx.grew();
    },
    () => undefined,
  );
  return box;
}

const MAX_IMAGE_WIDTH = 240;

/** The width and height an image is shown at (at most 240 px wide), from its stored size. */
export function imageBox(a: { width?: number; height?: number }): [number, number] | null {
  const { width, height } = a;
  if (!width || !height || width <= 0 || height <= 0) return null;
  const w = Math.min(MAX_IMAGE_WIDTH, width);
  return [w, Math.max(1, Math.round((w / width) * height))];
}

function location(item: ChatItem): HTMLElement {
  const p = item.payload ?? {};
  const lat = Number(p.latitude);
  const lon = Number(p.longitude);
  const label = [p.name, p.address].filter((x) => typeof x === "string" && x).join(" · ");
  const box = h("div", { class: "location" }, h("strong", {}, `📍 ${label || item.content || t("location")}`));
  if (Number.isFinite(lat) && Number.isFinite(lon)) {
    const href = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`;
    box.append(
      h("div", { class: "coords" }, `${lat.toFixed(5)}, ${lon.toFixed(5)} · `,
        h("a", { href, target: "_blank", rel: "noopener noreferrer" }, t("openMap"))),
    );
  }
  return box;
}

function card(item: ChatItem, ctx: RenderContext): HTMLElement {
  const p = item.payload ?? {};
  const url = safeUrl(p.url);
  const img = safeUrl(p.image_url);
  const title = typeof p.title === "string" ? p.title : item.content;
  return h(
    "div",
    { class: "card" },
    img ? h("img", { src: img, alt: "", loading: "lazy", referrerpolicy: "no-referrer" }) : null,
    h("strong", { class: "card-title" }, url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, title) : title),
    typeof p.text === "string" ? h("p", {}, linkify(p.text)) : null,
    buttons(item, ctx),
  );
}

/** The body of one message bubble. */
export function body(item: ChatItem, ctx: RenderContext): HTMLElement {
  switch (item.type) {
    case "image":
    case "file":
    case "audio":
    case "video":
      return media(item, ctx);
    case "location":
      return location(item);
    case "card":
      return card(item, ctx);
    default:
      return h("div", {}, h("p", { class: "text" }, linkify(item.content)), buttons(item, ctx));
  }
}
