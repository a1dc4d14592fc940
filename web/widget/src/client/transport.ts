// What the client needs from its platform: fetch, WebSocket, storage and timers. Browsers and
// React Native both have them; nothing here touches the DOM.

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
}
export interface FetchResponse {
  status: number;
  ok: boolean;
  json(): Promise<unknown>;
}
export type FetchLike = (url: string, init?: FetchInit) => Promise<FetchResponse>;

export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketCtor = new (url: string, protocols: string[]) => WebSocketLike;

/** Key-value storage: `localStorage` in a browser, AsyncStorage in React Native. */
export interface KeyValueStorage {
  get(key: string): string | null | Promise<string | null>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
}

export class MemoryStorage implements KeyValueStorage {
  private data = new Map<string, string>();
  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }
  set(key: string, value: string): void {
    this.data.set(key, value);
  }
  remove(key: string): void {
    this.data.delete(key);
  }
}

interface Timers {
  setTimeout(cb: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
export const timers = globalThis as unknown as Timers;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error's `details`, e.g. `{fields: {email: "invalid"}}` for `invalid_prechat`. */
    readonly details: unknown = null,
  ) {
    super(message);
  }
}

/** A client message id: 1–64 characters of `A–Z a–z 0–9 _ - . :` (docs/api.md). */
export function newClientMsgId(): string {
  const rand = Math.random().toString(36).slice(2, 12);
  return `w-${Date.now().toString(36)}-${rand}`;
}
