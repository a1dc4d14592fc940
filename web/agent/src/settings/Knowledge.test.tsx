import type { Article } from "../api/types";
import { articleInput, filterArticles } from "./Knowledge";

const article = (id: string, category: string, language: string, extra: Partial<Article> = {}): Article => ({
  id,
  title: `About ${category}`,
  answer: "",
  questions: [],
  language,
  category,
  tags: [],
  enabled: true,
  created_at: "t",
  updated_at: "t",
  ...extra,
});

test("the form's lines and commas become the API's lists, trimmed and without repeats", () => {
  const body = articleInput({
    title: "  Parcel ",
    answer: "<p>x</p>",
    questions: "where is it\n\n  track parcel \nwhere is it",
    language: " zh-CN ",
    category: " shipping ",
    tags: "delivery, orders，配送、delivery",
    enabled: false,
  });
  expect(body).toEqual({
    title: "Parcel",
    answer: "<p>x</p>",
    questions: ["where is it", "track parcel"],
    language: "zh-CN",
    category: "shipping",
    tags: ["delivery", "orders", "配送"],
    enabled: false,
  });
});

test("articles are filtered by title, category, question or tag and ordered by category", () => {
  const all = [
    article("1", "refunds", "en", { questions: ["money back"] }),
    article("2", "shipping", "ja", { tags: ["delivery"] }),
    article("3", "shipping", "en"),
  ];
  expect(filterArticles(all, "").map((a) => a.id)).toEqual(["1", "3", "2"]);
  expect(filterArticles(all, "MONEY").map((a) => a.id)).toEqual(["1"]);
  expect(filterArticles(all, "deliv").map((a) => a.id)).toEqual(["2"]);
  expect(filterArticles(all, "ship").map((a) => a.id)).toEqual(["3", "2"]);
});
