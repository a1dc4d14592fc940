// Rich messages (docs/messages.md), always rendered as text: nothing a customer sends is
// interpreted as HTML.

import type { Message } from "../api/types";

interface Button {
  id: string;
  label: string;
  action: "reply" | "url";
  value?: string;
}

function buttonsOf(payload: Record<string, unknown> | null): Button[] {
  const b = payload?.["buttons"];
  return Array.isArray(b) ? (b as Button[]).filter((x) => typeof x?.label === "string") : [];
}

function safeUrl(u: unknown): string | null {
  if (typeof u !== "string") return null;
  try {
    const url = new URL(u);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

export function MessageBody({ m }: { m: Message }) {
  const p = m.payload ?? {};
  const buttons = buttonsOf(m.payload);
  switch (m.type) {
    case "card": {
      const url = safeUrl(p["url"]);
      return (
        <div className="card">
          {typeof p["title"] === "string" && <b>{p["title"]}</b>}
          <p>{typeof p["text"] === "string" ? p["text"] : m.content}</p>
          {url && (
            <a href={url} target="_blank" rel="noopener noreferrer">
              {url}
            </a>
          )}
          <Buttons items={buttons} />
        </div>
      );
    }
    case "image":
    case "file":
    case "audio":
    case "video": {
      const name = typeof p["name"] === "string" ? p["name"] : m.content;
      const size = typeof p["size"] === "number" ? ` · ${Math.ceil(p["size"] / 1024)} KB` : "";
      return (
        <div className="attachment">
          📎 {name}
          {size}
          {m.content && m.content !== name && <p>{m.content}</p>}
        </div>
      );
    }
    case "location": {
      const lat = Number(p["latitude"]);
      const lon = Number(p["longitude"]);
      return (
        <div className="location">
          📍 {m.content || String(p["name"] ?? "")} ({lat.toFixed(5)}, {lon.toFixed(5)})
        </div>
      );
    }
    default:
      return (
        <>
          <p className="text">{m.content}</p>
          <Buttons items={buttons} />
        </>
      );
  }
}

function Buttons({ items }: { items: Button[] }) {
  if (!items.length) return null;
  return (
    <div className="buttons">
      {items.map((b) => (
        <span key={b.id} className="btn-chip" title={b.action === "url" ? b.value : undefined}>
          {b.label}
        </span>
      ))}
    </div>
  );
}
