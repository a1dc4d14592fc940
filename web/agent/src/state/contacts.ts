// Contacts are fetched in batches as conversations that name them come into view.

import { api } from "../api/client";
import { currentLang } from "../i18n";
import { visitorName } from "../inbox/triage";
import { store } from "./store";

const asked = new Set<string>();
let queued = new Set<string>();
let timer: ReturnType<typeof setTimeout> | null = null;

export function wantContacts(ids: Iterable<string>): void {
  const known = store.get().data.contacts;
  for (const id of ids) if (!known[id] && !asked.has(id)) queued.add(id);
  if (queued.size && !timer) timer = setTimeout(flush, 30);
}

async function flush(): Promise<void> {
  timer = null;
  const ids = [...queued];
  queued = new Set();
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    chunk.forEach((id) => asked.add(id));
    try {
      const { items } = await api.contacts(chunk);
      store.update((d) => ({ ...d, contacts: { ...d.contacts, ...Object.fromEntries(items.map((c) => [c.id, c])) } }));
    } catch {
      chunk.forEach((id) => asked.delete(id));
    }
  }
}

/** Contacts dropped from the store (state/evict.ts) are fetched again when next wanted. */
export function forgetContacts(ids: Iterable<string>): void {
  for (const id of ids) asked.delete(id);
}

/** What to call a contact: their name, email or phone, else their friendly visitor name. */
export function contactName(id: string): string {
  const c = store.get().data.contacts[id];
  return c?.name || c?.email || c?.phone || visitorName(id, currentLang());
}
