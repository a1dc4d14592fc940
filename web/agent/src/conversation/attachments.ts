// Attachments in the agent app: what an upload error means in words, which message type an
// upload is sent as (docs/messages.md), and fresh signed links for the thread.

import { ApiError, api } from "../api/client";
import type { Attachment, AttachmentKind, MessageType } from "../api/types";
import type { Key } from "../i18n";

const UPLOAD_ERRORS: Record<string, Key> = {
  too_large: "err_too_large",
  unsupported_type: "err_unsupported_type",
  unsupported_media_type: "err_unsupported_type",
  image_too_large: "err_image_too_large",
  invalid_file_name: "err_invalid_file_name",
  invalid_image: "err_invalid_image",
  empty_file: "err_empty_file",
  archive_refused: "err_archive_refused",
  rate_limited: "rate_limited",
};

/** The sentence an agent sees for a refused upload; 413 and 415 whatever the body said. */
export function uploadErrorKey(e: unknown): Key {
  if (!(e instanceof ApiError)) return "err_upload";
  if (e.status === 413) return "err_too_large";
  if (e.status === 415) return "err_unsupported_type";
  return UPLOAD_ERRORS[e.code] ?? "err_upload";
}

/** An upload is sent as a message of its kind: image, audio, video, or file. */
export function messageTypeOf(kind: AttachmentKind | undefined): MessageType {
  return kind === "image" || kind === "audio" || kind === "video" ? kind : "file";
}

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

// Signed links live about fifteen minutes: keep each one until a minute before it expires.
const links = new Map<string, Promise<Attachment>>();
const expiry = new Map<string, number>();

export function signedLinks(conversationId: string, attachmentId: string): Promise<Attachment> {
  const key = `${conversationId}/${attachmentId}`;
  const cached = links.get(key);
  if (cached && (expiry.get(key) ?? Infinity) > Date.now() + 60_000) return cached;
  const p = api.attachment(conversationId, attachmentId);
  links.set(key, p);
  expiry.delete(key);
  p.then(
    (a) => expiry.set(key, a.expires_at * 1000),
    () => links.delete(key),
  );
  return p;
}

/** Files an agent pastes: a screenshot arrives as "image.png" from every browser, so name it. */
export function namedForUpload(file: File, now: Date = new Date()): File {
  if (file.name && file.name !== "image.png") return file;
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
  const ext = file.type.split("/")[1]?.replace(/[^a-z0-9]/g, "") || "png";
  return new File([file], `pasted-${stamp}.${ext}`, { type: file.type });
}
