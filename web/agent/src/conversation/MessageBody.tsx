// Rich messages (docs/messages.md), always rendered as text: nothing a customer sends is
// interpreted as HTML.

import { useEffect, useState } from "react";
import type { Attachment, Message } from "../api/types";
import { t } from "../i18n";
import { signedLinks, sizeText } from "./attachments";

interface Button {
  id: string;
  label: string;
  action: "reply" | "url";
  value?: string;
}

/** Buttons are offered by the bot and agents only (docs/messages.md): a customer's message
 *  never shows any, whatever an old row holds. */
function buttonsOf(m: Message): Button[] {
  if (m.sender_kind !== "bot" && m.sender_kind !== "agent") return [];
  const b = m.payload?.["buttons"];
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
  const buttons = buttonsOf(m);
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
    case "video":
      return <AttachmentBody m={m} />;
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

/** A file message: images previewed (the thumbnail, opening the original), audio and video
 *  playable, other files a download link; links are fetched fresh, signed and expiring. */
function AttachmentBody({ m }: { m: Message }) {
  const p = m.payload ?? {};
  const id = typeof p["attachment_id"] === "string" ? p["attachment_id"] : null;
  const name = typeof p["name"] === "string" ? p["name"] : m.content;
  const size = typeof p["size"] === "number" ? ` · ${sizeText(p["size"])}` : "";
  const [file, setFile] = useState<Attachment | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!id) return;
    let live = true;
    signedLinks(m.conversation_id, id).then(
      (a) => live && setFile(a),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [m.conversation_id, id]);
  const caption = m.content && m.content !== name ? <p className="text">{m.content}</p> : null;
  if (file && m.type === "image") {
    return (
      <div className="attachment image">
        <a href={file.url} target="_blank" rel="noopener noreferrer" title={name}>
          <img src={file.thumbnail_url ?? file.url} alt={name} loading="lazy" data-testid="image-preview" />
        </a>
        {caption}
      </div>
    );
  }
  const media =
    file && m.type === "audio" ? (
      <audio controls preload="metadata" src={file.url} />
    ) : file && m.type === "video" ? (
      <video controls preload="metadata" src={file.url} />
    ) : null;
  return (
    <div className="attachment">
      {media}
      {file ? (
        <a href={file.url} target="_blank" rel="noopener noreferrer" download={name} data-testid="file-link">
          📎 {name}
        </a>
      ) : (
        <>📎 {name}</>
      )}
      {size}
      {failed && <span className="muted"> · {t("attachment_unavailable")}</span>}
      {caption}
    </div>
  );
}
