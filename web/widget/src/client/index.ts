export { KefuClient } from "./client";
export type { ClientEvents, ClientOptions } from "./client";
export { ApiError, MemoryStorage } from "./transport";
export type { FetchLike, KeyValueStorage, WebSocketCtor, WebSocketLike } from "./transport";
export type * from "./types";
