// Windowed rendering for the conversation list: with hundreds of conversations in a view, only
// the rows in sight (and a few either side) are in the DOM; the rest is empty space of the
// same height, so the scroll bar and scroll position behave as with every row present.

/** Every list row is this tall (inbox/list.css keeps `.row` at this height). */
export const ROW_HEIGHT = 84;
const OVERSCAN = 8;

export interface Slice {
  start: number; // first row rendered
  end: number; // one past the last row rendered
}

export function windowOf(scrollTop: number, viewport: number, count: number, row = ROW_HEIGHT, overscan = OVERSCAN): Slice {
  if (count === 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / row);
  const visible = Math.ceil(Math.max(viewport, row) / row) + 1;
  const start = Math.max(0, Math.min(first, count - 1) - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end };
}

/** The scroll position that brings row `index` fully into view (or the current one if it is). */
export function scrollToShow(index: number, scrollTop: number, viewport: number, row = ROW_HEIGHT): number {
  const top = index * row;
  if (top < scrollTop) return top;
  if (top + row > scrollTop + viewport) return top + row - viewport;
  return scrollTop;
}

/** Near enough to the end to fetch the next page. */
export function nearEnd(scrollTop: number, viewport: number, count: number, row = ROW_HEIGHT): boolean {
  return scrollTop + viewport >= count * row - 10 * row;
}

// The list's order, for the j / k shortcuts (rows outside the window are not in the DOM).
let order: string[] = [];
export function setListOrder(ids: string[]): void {
  order = ids;
}
export function listOrder(): string[] {
  return order;
}
