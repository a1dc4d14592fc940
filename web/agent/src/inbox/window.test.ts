import { nearEnd, scrollToShow, windowOf } from "./window";

test("only the rows in sight, and a few either side, are rendered", () => {
  expect(windowOf(0, 560, 500, 56, 8)).toEqual({ start: 0, end: 19 });
  expect(windowOf(56 * 100, 560, 500, 56, 8)).toEqual({ start: 92, end: 119 });
  expect(windowOf(56 * 495, 560, 500, 56, 8)).toEqual({ start: 487, end: 500 });
  expect(windowOf(1e9, 560, 500, 56, 8)).toEqual({ start: 491, end: 500 });
  expect(windowOf(0, 560, 3, 56, 8)).toEqual({ start: 0, end: 3 });
  expect(windowOf(0, 0, 0)).toEqual({ start: 0, end: 0 });
});

test("the open row is scrolled into view only when it is out of sight", () => {
  expect(scrollToShow(0, 560, 560, 56)).toBe(0);
  expect(scrollToShow(20, 0, 560, 56)).toBe(21 * 56 - 560);
  expect(scrollToShow(5, 0, 560, 56)).toBe(0);
});

test("the next page is asked for ten rows before the end", () => {
  expect(nearEnd(0, 560, 50, 56)).toBe(false);
  expect(nearEnd(56 * 30, 560, 50, 56)).toBe(true);
});
