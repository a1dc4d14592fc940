// The REST half of the client API (docs/api.md, "Client API").
import { ApiError, type FetchLike } from "./transport";
import type {
  Attachment,
  Availability,
  Conversation,
  JsonObject,
  Message,
  PrechatValue,
  SessionInfo,
  VisitorContext,
} from "./types";

export interface SessionRequest {
  inbox_key: string;
  visitor_token?: string;
  user?: { id: string; name?: string; email?: string; hash: string };
  user_jwt?: string;
  locale?: string;
}

export interface Outgoing {
  content: string;
  type: string;
  payload: JsonObject | null;
  client_msg_id: string;
}

export class RestApi {
  token: string | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: FetchLike,
  ) {}

  async call<T>(method: string, path: string, body?: unknown, raw = false): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined && !raw) headers["content-type"] = "application/json";
    let res;
    try {
      res = await this.fetchImpl(`${this.baseUrl}/api/client/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "network", "the server could not be reached");
    }
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) {
      const err = (data as { error?: { code?: string; message?: string; details?: unknown } } | null)
        ?.error;
      throw new ApiError(
        res.status,
        err?.code ?? "http_error",
        err?.message ?? `HTTP ${res.status}`,
        err?.details ?? null,
      );
    }
    return data as T;
  }

  openSession(req: SessionRequest): Promise<SessionInfo> {
    return this.call("POST", "/sessions", req);
  }

  ticket(): Promise<{ subprotocol: string }> {
    return this.call("POST", "/realtime/ticket");
  }

  async conversations(): Promise<Conversation[]> {
    return (await this.call<{ items: Conversation[] }>("GET", "/conversations")).items;
  }

  async messages(id: string, query: Record<string, number>): Promise<Message[]> {
    const qs = Object.entries(query)
      .map(([k, v]) => `${k}=${v}`)
      .join("&");
    return (await this.call<{ items: Message[] }>("GET", `/conversations/${id}/messages?${qs}`))
      .items;
  }

  start(message: Outgoing | null, source: string | null = null): Promise<{
    conversation: Conversation;
    message: { message: Message; duplicate: boolean } | null;
  }> {
    return this.call("POST", "/conversations", {
      ...(message ? { message } : {}),
      ...(source ? { source: source.slice(0, 500) } : {}),
    });
  }

  send(id: string, m: Outgoing): Promise<{ message: Message; duplicate: boolean }> {
    return this.call("POST", `/conversations/${id}/messages`, m);
  }

  read(id: string, seq: number): Promise<{ seq: number }> {
    return this.call("POST", `/conversations/${id}/read`, { seq });
  }

  updateContact(fields: { name?: string; email?: string; attributes?: JsonObject }): Promise<null> {
    return this.call("PATCH", "/contact", fields);
  }

  /** Answers to the inbox's pre-chat form, by field key (checked by the server). */
  prechat(values: Record<string, PrechatValue>): Promise<null> {
    return this.call("POST", "/prechat", { values });
  }

  /** What the visitor's browser reports; the server keeps what the inbox collects. */
  context(ctx: VisitorContext): Promise<{ context: VisitorContext | null }> {
    return this.call("PUT", "/context", ctx);
  }

  /** Whether a person answers now (cached by the server; poll at most once a minute). */
  availability(): Promise<Availability> {
    return this.call("GET", "/availability");
  }

  /** `form` is a platform FormData with the file in the field `file`. */
  upload(id: string, form: unknown): Promise<Attachment> {
    return this.call("POST", `/conversations/${id}/attachments`, form, true);
  }

  attachment(conversationId: string, attachmentId: string): Promise<Attachment> {
    return this.call("GET", `/conversations/${conversationId}/attachments/${attachmentId}`);
  }
}
