// A small typed event emitter.
export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  private handlers = new Map<keyof Events, Set<(value: never) => void>>();

  on<K extends keyof Events>(name: K, fn: (value: Events[K]) => void): () => void {
    let set = this.handlers.get(name);
    if (!set) this.handlers.set(name, (set = new Set()));
    set.add(fn as (value: never) => void);
    return () => set.delete(fn as (value: never) => void);
  }

  emit<K extends keyof Events>(name: K, value: Events[K]): void {
    for (const fn of this.handlers.get(name) ?? []) (fn as (v: Events[K]) => void)(value);
  }
}
