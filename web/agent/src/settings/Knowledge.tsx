// Knowledge-base articles (docs/bot.md): every agent may read them, supervisors and admins
// write them. The list stays live through the kb.article_* events.

import { useEffect, useMemo, useState } from "react";
import { ApiError, api } from "../api/client";
import type { Article, ArticleInput } from "../api/types";
import { errorText, t, tn } from "../i18n";
import { store, useStore } from "../state/store";

const LANGS = ["en", "zh-CN", "ja"];

export function blankArticle(): ArticleInput {
  return { title: "", answer: "", questions: [], language: "en", category: "", tags: [], enabled: true };
}

/** The form's text fields as the API wants them: one question a line, tags by commas. */
export function articleInput(form: ArticleForm): ArticleInput {
  const lines = (s: string, sep: RegExp) => [...new Set(s.split(sep).map((x) => x.trim()).filter(Boolean))];
  return {
    title: form.title.trim(),
    answer: form.answer,
    questions: lines(form.questions, /\n/),
    language: form.language.trim(),
    category: form.category.trim(),
    tags: lines(form.tags, /[,，、]/),
    enabled: form.enabled,
  };
}

export interface ArticleForm {
  id?: string;
  title: string;
  answer: string;
  questions: string;
  language: string;
  category: string;
  tags: string;
  enabled: boolean;
}

function formOf(a: ArticleInput & { id?: string }): ArticleForm {
  return { ...a, questions: a.questions.join("\n"), tags: a.tags.join(", ") };
}

/** Articles matching a filter, by category then language. */
export function filterArticles(all: Article[], q: string): Article[] {
  const needle = q.trim().toLowerCase();
  const hit = (a: Article) =>
    !needle ||
    [a.title, a.category, ...a.questions, ...a.tags].some((x) => x.toLowerCase().includes(needle));
  return all
    .filter(hit)
    .sort((a, b) => a.category.localeCompare(b.category) || a.language.localeCompare(b.language));
}

function messageOf(e: unknown): string {
  if (e instanceof ApiError && e.code === "article_exists") return t("article_exists");
  return errorText(e);
}

export function KnowledgeAdmin() {
  const articles = useStore((s) => s.data.articles);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState("");
  const [editing, setEditing] = useState<ArticleForm | null>(null);
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
    api.articles().then(
      (items) => {
        store.update((d) => ({ ...d, articles: Object.fromEntries(items.map((a) => [a.id, a])) }));
        setLoaded(true);
      },
      (e: unknown) => setError(errorText(e)),
    );
  }, []);

  const shown = useMemo(() => filterArticles(Object.values(articles), filter), [articles, filter]);
  const run = (p: Promise<unknown>, then?: () => void) => {
    setError(null);
    p.then(then, (e: unknown) => setError(messageOf(e)));
  };
  const toggle = (a: Article) => {
    const { id: _i, created_at: _c, updated_at: _u, ...body } = a;
    run(api.saveArticle({ ...body, enabled: !a.enabled }, a.id));
  };

  return (
    <div className="kb-admin">
      <h2>{t("knowledge_base")}</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="row-tools">
        <input type="search" aria-label={t("filter_articles")} placeholder={t("filter_articles")} value={filter} onChange={(e) => setFilter(e.target.value)} />
        <button type="button" data-testid="new-article" onClick={() => setEditing(formOf(blankArticle()))}>
          {t("new_article")}
        </button>
      </div>
      {editing && (
        <ArticleEditor
          form={editing}
          onChange={setEditing}
          onCancel={() => setEditing(null)}
          onSave={() => run(api.saveArticle(articleInput(editing), editing.id), () => setEditing(null))}
        />
      )}
      {loaded && shown.length === 0 && <p className="muted">{t("no_articles")}</p>}
      <table data-testid="articles">
        <tbody>
          {shown.map((a) => (
            <tr key={a.id} data-article={a.id} className={a.enabled ? "" : "disabled"}>
              <td>
                <b>{a.title}</b>
                <div className="muted">
                  {a.category} · {a.language} · {tn("questions_count", a.questions.length)}
                  {a.tags.length > 0 && ` · ${a.tags.join(", ")}`}
                </div>
              </td>
              <td>
                <span className={`pill ${a.enabled ? "st-open" : "st-resolved"}`} data-testid="article-state">
                  {a.enabled ? t("enabled") : t("disabled")}
                </span>
              </td>
              <td>
                <button type="button" onClick={() => setEditing(formOf(a))}>
                  {t("edit")}
                </button>
                <button type="button" data-testid="toggle-article" onClick={() => toggle(a)}>
                  {a.enabled ? t("disable_article") : t("enable_article")}
                </button>
                <button type="button" onClick={() => confirm(`${t("delete")}: ${a.title}?`) && run(api.deleteArticle(a.id))}>
                  {t("delete")}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ArticleEditor({
  form,
  onChange,
  onCancel,
  onSave,
}: {
  form: ArticleForm;
  onChange: (f: ArticleForm) => void;
  onCancel: () => void;
  onSave: () => void;
}) {
  const set = <K extends keyof ArticleForm>(k: K, v: ArticleForm[K]) => onChange({ ...form, [k]: v });
  return (
    <form
      className="article-form"
      data-testid="article-form"
      onSubmit={(e) => {
        e.preventDefault();
        onSave();
      }}
    >
      <label>
        {t("title")}
        <input name="title" required maxLength={200} value={form.title} onChange={(e) => set("title", e.target.value)} />
      </label>
      <label>
        {t("category")}
        <input name="category" required maxLength={200} value={form.category} onChange={(e) => set("category", e.target.value)} />
      </label>
      <label>
        {t("language")}
        <input name="language" required list="kb-languages" pattern="[a-z]{2,3}(-[A-Za-z0-9]{2,8})?" maxLength={16} value={form.language} onChange={(e) => set("language", e.target.value)} />
        <datalist id="kb-languages">
          {LANGS.map((l) => (
            <option key={l} value={l} />
          ))}
        </datalist>
      </label>
      <label>
        {t("answer")}
        <textarea name="answer" maxLength={20000} value={form.answer} onChange={(e) => set("answer", e.target.value)} />
        <small className="muted">{t("answer_hint")}</small>
      </label>
      <label>
        {t("example_questions")}
        <textarea name="questions" value={form.questions} onChange={(e) => set("questions", e.target.value)} />
      </label>
      <label>
        {t("tags_comma")}
        <input name="tags" value={form.tags} onChange={(e) => set("tags", e.target.value)} />
      </label>
      <label className="inline">
        <input name="enabled" type="checkbox" checked={form.enabled} onChange={(e) => set("enabled", e.target.checked)} />
        {t("article_enabled")}
      </label>
      <div>
        <button type="submit" data-testid="save-article">
          {form.id ? t("save") : t("create")}
        </button>
        <button type="button" onClick={onCancel}>
          {t("cancel")}
        </button>
      </div>
    </form>
  );
}
