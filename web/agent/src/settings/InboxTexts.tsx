// An inbox's greeting and out-of-hours text per language, and what the widget reports of its
// visitors (docs/widget.md). The widget shows the text of its own language, else the default.
import { useState } from "react";
import { api } from "../api/client";
import type { Inbox } from "../api/types";
import { LANGUAGES, t } from "../i18n";
import { useError } from "./Admin";
import { LANGS } from "./prechat";

type Texts = Record<string, string>;
type Collect = NonNullable<Inbox["collect_context"]>;

const only = (texts: Texts): Texts => Object.fromEntries(Object.entries(texts).filter(([, v]) => v.trim()));

export function InboxTexts({ inbox }: { inbox: Inbox }) {
  const [error, run] = useError();
  const [saved, setSaved] = useState(false);
  const [greetings, setGreetings] = useState<Texts>(inbox.greetings ?? {});
  const [away, setAway] = useState<Texts>(inbox.away_messages ?? {});
  const [collect, setCollect] = useState<Collect>(inbox.collect_context ?? "basic");
  return (
    <form
      className="inbox-form inbox-texts"
      aria-label={`${inbox.name}: ${t("inbox_texts")}`}
      onSubmit={(e) => {
        e.preventDefault();
        setSaved(false);
        run(
          api
            .updateInbox(inbox.id, { greetings: only(greetings), away_messages: only(away), collect_context: collect })
            .then(() => setSaved(true)),
        );
      }}
    >
      <h4>{t("inbox_texts")}</h4>
      <p className="muted">{t("inbox_texts_hint")}</p>
      {error && <p className="error" role="alert">{error}</p>}
      {LANGS.map((lang) => (
        <fieldset key={lang} data-lang={lang}>
          <legend>{LANGUAGES[lang]}</legend>
          <label>
            {t("inbox_greeting_lang")} ({LANGUAGES[lang]})
            <textarea lang={lang} maxLength={2000} value={greetings[lang] ?? ""} onChange={(e) => setGreetings({ ...greetings, [lang]: e.target.value })} />
          </label>
          <label>
            {t("inbox_away_lang")} ({LANGUAGES[lang]})
            <textarea lang={lang} maxLength={2000} value={away[lang] ?? ""} onChange={(e) => setAway({ ...away, [lang]: e.target.value })} />
          </label>
        </fieldset>
      ))}
      <label>
        {t("inbox_collect")}
        <select value={collect} onChange={(e) => setCollect(e.target.value as Collect)}>
          <option value="off">{t("inbox_collect_off")}</option>
          <option value="basic">{t("inbox_collect_basic")}</option>
          <option value="full">{t("inbox_collect_full")}</option>
        </select>
      </label>
      <button type="submit">{t("save")}</button>
      {saved && <span role="status">{t("prechat_saved")}</span>}
    </form>
  );
}
