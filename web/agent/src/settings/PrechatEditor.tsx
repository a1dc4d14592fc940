import { useEffect, useState } from "react";
import { ApiError, api } from "../api/client";
import type { Inbox, PrechatField, PrechatFieldType } from "../api/types";
import { errorText, t } from "../i18n";
import { FIELD_TYPES, KEY_PATTERN, LANGS, MAX_FIELDS, move, newField, problems, toForm, withKey, withType } from "./prechat";

/** The inbox's pre-chat form: fields added, removed, reordered and edited here; Save replaces
 *  the whole form. Another admin's save arrives as `inbox.updated` and replaces the draft. */
export function PrechatEditor({ inbox }: { inbox: Inbox }) {
  const saved = inbox.prechat?.fields ?? [];
  const [fields, setFields] = useState<PrechatField[]>(saved);
  const [errors, setErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const savedJson = JSON.stringify(saved);
  useEffect(() => setFields(JSON.parse(savedJson) as PrechatField[]), [savedJson]);

  const edit = (i: number, f: PrechatField) => {
    setDone(false);
    setFields((all) => all.map((x, j) => (j === i ? f : x)));
  };
  const setAll = (next: PrechatField[]) => {
    setDone(false);
    setFields(next);
  };
  const save = () => {
    const form = toForm(fields);
    setErrors([]);
    setBusy(true);
    api.setPrechat(inbox.id, form).then(
      () => {
        setBusy(false);
        setDone(true);
      },
      (e: unknown) => {
        setBusy(false);
        const lines = e instanceof ApiError ? problems(e.details, form, t("prechat_field")) : [];
        setErrors([`${t("prechat_refused")} ${errorText(e)}`, ...lines]);
      },
    );
  };

  return (
    <section className="prechat" data-testid="prechat">
      <h4>{t("prechat_form")}</h4>
      <p className="muted">{t("prechat_hint")}</p>
      {errors.length > 0 && (
        <div className="error" role="alert" data-testid="prechat-errors">
          {errors.map((line, i) => (
            <p key={i}>{line}</p>
          ))}
        </div>
      )}
      {fields.length === 0 && <p className="muted">{t("prechat_none")}</p>}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <ol>
          {fields.map((f, i) => (
            <li key={i} className="prechat-field" data-testid="prechat-field">
              <div className="prechat-row">
                <input
                  name="key"
                  required
                  pattern={KEY_PATTERN}
                  maxLength={40}
                  placeholder={t("prechat_key")}
                  aria-label={t("prechat_key")}
                  value={f.key}
                  onChange={(e) => edit(i, withKey(f, e.target.value))}
                />
                <select
                  name="type"
                  aria-label={t("prechat_type")}
                  value={f.type}
                  onChange={(e) => edit(i, withType(f, e.target.value as PrechatFieldType))}
                >
                  {FIELD_TYPES.map((type) => (
                    <option key={type} value={type}>
                      {t(`prechat_type_${type}` as const)}
                    </option>
                  ))}
                </select>
                <label className="inline">
                  <input type="checkbox" name="required" checked={f.required} onChange={(e) => edit(i, { ...f, required: e.target.checked })} />
                  {t("prechat_required")}
                </label>
                <button type="button" aria-label={t("move_up")} title={t("move_up")} disabled={i === 0} onClick={() => setAll(move(fields, i, -1))}>
                  ↑
                </button>
                <button type="button" aria-label={t("move_down")} title={t("move_down")} disabled={i === fields.length - 1} onClick={() => setAll(move(fields, i, 1))}>
                  ↓
                </button>
                <button type="button" data-testid="remove-field" onClick={() => setAll(fields.filter((_, j) => j !== i))}>
                  {t("remove")}
                </button>
              </div>
              <Labels value={f.label} onChange={(label) => edit(i, { ...f, label })} name="label" />
              {f.type === "select" && (
                <div className="prechat-options" data-testid="prechat-options">
                  <b>{t("prechat_options")}</b>
                  {f.options.map((o, k) => (
                    <div key={k} className="prechat-row" data-testid="prechat-option">
                      <input
                        name="value"
                        required
                        pattern="[A-Za-z0-9_\-.:]{1,100}"
                        placeholder={t("prechat_value")}
                        aria-label={t("prechat_value")}
                        value={o.value}
                        onChange={(e) => edit(i, { ...f, options: f.options.map((x, m) => (m === k ? { ...x, value: e.target.value } : x)) })}
                      />
                      <Labels
                        value={o.label}
                        name="option-label"
                        onChange={(label) => edit(i, { ...f, options: f.options.map((x, m) => (m === k ? { ...x, label } : x)) })}
                      />
                      <button type="button" onClick={() => edit(i, { ...f, options: f.options.filter((_, m) => m !== k) })}>
                        {t("remove")}
                      </button>
                    </div>
                  ))}
                  <button type="button" onClick={() => edit(i, { ...f, options: [...f.options, { value: "", label: {} }] })}>
                    {t("prechat_add_option")}
                  </button>
                </div>
              )}
            </li>
          ))}
        </ol>
        <button type="button" disabled={fields.length >= MAX_FIELDS} onClick={() => setAll([...fields, newField()])}>
          {t("prechat_add_field")}
        </button>{" "}
        <button type="submit" disabled={busy}>
          {t("prechat_save")}
        </button>{" "}
        {done && <span className="muted" data-testid="prechat-saved">{t("prechat_saved")}</span>}
      </form>
    </section>
  );
}

function Labels({ value, onChange, name }: { value: Record<string, string>; onChange: (v: Record<string, string>) => void; name: string }) {
  return (
    <div className="prechat-row prechat-labels">
      {LANGS.map((lang) => (
        <label key={lang} className="inline">
          <span lang={lang}>{lang}</span>
          <input
            name={`${name}-${lang}`}
            required={lang === "en" && !Object.values(value).some((v) => v.trim())}
            maxLength={200}
            value={value[lang] ?? ""}
            onChange={(e) => onChange({ ...value, [lang]: e.target.value })}
          />
        </label>
      ))}
    </div>
  );
}
