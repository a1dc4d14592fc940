import { move, newField, problems, toForm, withKey, withType } from "./prechat";

test("move swaps neighbours and leaves the ends alone", () => {
  expect(move(["a", "b", "c"], 1, -1)).toEqual(["b", "a", "c"]);
  expect(move(["a", "b", "c"], 1, 1)).toEqual(["a", "c", "b"]);
  const list = ["a", "b"];
  expect(move(list, 0, -1)).toBe(list);
  expect(move(list, 1, 1)).toBe(list);
});

test("a built-in key takes its type, and only a select keeps options", () => {
  expect(withKey(newField(), "phone").type).toBe("phone");
  expect(withKey({ ...newField(), type: "number" }, "topic").type).toBe("number");
  const select = { ...newField(), type: "select" as const, options: [{ value: "a", label: { en: "A" } }] };
  expect(withType(select, "text").options).toEqual([]);
  expect(withType(select, "select").options).toHaveLength(1);
});

test("Save sends trimmed keys and labels without empty languages", () => {
  const form = toForm([
    { key: " phone ", type: "phone", required: true, label: { en: " Phone ", "zh-CN": "", ja: "電話" }, options: [] },
    { key: "topic", type: "select", required: false, label: { en: "Topic" }, options: [{ value: "billing ", label: { en: "Billing", ja: " " } }] },
  ]);
  expect(form).toEqual({
    fields: [
      { key: "phone", type: "phone", required: true, label: { en: "Phone", ja: "電話" }, options: [] },
      { key: "topic", type: "select", required: false, label: { en: "Topic" }, options: [{ value: "billing", label: { en: "Billing" } }] },
    ],
  });
});

test("the server's refusals name the field, by number and key", () => {
  const form = toForm([
    { ...newField(), key: "phone", type: "phone", label: { en: "Phone" } },
    { ...newField(), key: "topic", type: "select", label: { en: "Topic" } },
  ]);
  const details = [
    { loc: ["body", "fields", "1"], type: "value_error", message: "Value error, a select field needs options with distinct values" },
    { loc: ["body", "fields", "0", "options", "0", "value"], type: "string_pattern_mismatch", message: "String should match pattern" },
    { loc: ["body"], type: "value_error", message: "Value error, field keys must be distinct" },
  ];
  expect(problems(details, form, "Field")).toEqual([
    "Field 2 (topic): a select field needs options with distinct values",
    "Field 1 (phone) options.0.value: String should match pattern",
    "field keys must be distinct",
  ]);
  expect(problems(undefined, form, "Field")).toEqual([]);
});
