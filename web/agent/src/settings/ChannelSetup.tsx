// An external inbox's channel set-up (admins): the settings and write-only secrets its provider
// needs (docs/channels.md, "Configuration"), the webhook URL to paste into the provider's
// console, Save (each refused field's reason next to it) and Test connection.

import { CheckCircle2, Copy, KeyRound, PlugZap, XCircle } from "lucide-react";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { ApiError, request } from "../api/client";
import type { Inbox } from "../api/types";
import { type Key, t, useLang } from "../i18n";
import { Button, Card, IconButton, toast } from "../ui";
import {
  CHANNEL_FIELDS,
  type ChannelConfig,
  type FieldErrors,
  type FieldSpec,
  HAS_WEBHOOK,
  buildBody,
  fieldId,
  initialValues,
  mapErrors,
  webhookUrl,
} from "./channelForm";
import "../styles/admin-ui.css";

const channelApi = {
  get: (id: string) => request<ChannelConfig>("GET", `/inboxes/${id}/channel`),
  save: (id: string, body: unknown) => request<ChannelConfig>("PUT", `/inboxes/${id}/channel`, body),
  test: (id: string) => request<{ ok: boolean; detail: string }>("POST", `/inboxes/${id}/channel/test`),
};

const label = (key: string) => t(`ch_f_${key}` as Key);
const help = (key: string) => t(`ch_h_${key}` as Key);

function optionLabel(f: FieldSpec, value: string): string {
  if (value === "") return t("ch_default");
  if (f.key === "mode") return t(`ch_mode_${value}` as Key);
  return t(`ch_sec_${value}` as Key);
}

/** Set-up for the channels the screen knows (Telegram, WeChat OA, WeCom kf, email). */
export function ChannelSetup({ inbox }: { inbox: Inbox }) {
  useLang();
  const fields = CHANNEL_FIELDS[inbox.channel];
  const [config, setConfig] = useState<ChannelConfig | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<FieldErrors>({ fields: {}, general: [] });
  const [loadError, setLoadError] = useState<string | null>(null);
  const [busy, setBusy] = useState<"save" | "test" | null>(null);
  const [webhook, setWebhook] = useState<ChannelConfig["webhook"]>(null);
  const [tested, setTested] = useState<{ ok: boolean; detail: string } | null>(null);

  useEffect(() => {
    if (!fields) return;
    channelApi.get(inbox.id).then(
      (c) => {
        setConfig(c);
        setValues(initialValues(fields, c));
      },
      (e: Error) => setLoadError(e.message),
    );
  }, [inbox.id, fields]);

  if (!fields) return null;

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!fields) return;
    setBusy("save");
    setErrors({ fields: {}, general: [] });
    setWebhook(null);
    setTested(null);
    try {
      const saved = await channelApi.save(inbox.id, buildBody(fields, values, config?.settings));
      setConfig(saved);
      setValues(initialValues(fields, saved));
      setWebhook(saved.webhook ?? null);
      toast.success(t("ch_saved"));
    } catch (err) {
      const mapped = err instanceof ApiError ? mapErrors(fields, err, t("ch_required")) : { fields: {}, general: [(err as Error).message] };
      setErrors(mapped);
      const first = Object.keys(mapped.fields)[0];
      if (first) document.getElementById(`${inbox.id}-${first}`)?.focus();
    } finally {
      setBusy(null);
    }
  }

  async function test() {
    setBusy("test");
    setTested(null);
    try {
      setTested(await channelApi.test(inbox.id));
    } catch (err) {
      const unsaved = err instanceof ApiError && (err.code === "channel_not_configured" || err.code === "nothing_to_test");
      setTested({ ok: false, detail: unsaved ? t("ch_save_first") : (err as Error).message });
    } finally {
      setBusy(null);
    }
  }

  const intro = t(`ch_intro_${inbox.channel}` as Key);
  return (
    <Card
      className="channel-setup"
      data-testid="channel-setup"
      data-channel={inbox.channel}
      title={
        <>
          <PlugZap size={16} aria-hidden /> {t("ch_title")}
        </>
      }
    >
      <form className="channel-form" onSubmit={save} aria-label={`${t("ch_title")}: ${inbox.name}`} noValidate>
        <p className="channel-intro">{intro}</p>
        {loadError && (
          <p className="form-error" role="alert">
            {loadError}
          </p>
        )}
        {!config && !loadError && <p className="muted">{t("ch_loading")}</p>}
        {config && HAS_WEBHOOK.has(inbox.channel) && <WebhookUrl path={config.webhook_path} channel={inbox.channel} />}
        {errors.general.length > 0 && (
          <div className="form-error" role="alert" data-testid="channel-errors">
            {t("ch_not_saved")} {errors.general.join(" ")}
          </div>
        )}
        {config && (
          <>
            <div className="channel-grid">
              {fields.map((f) => (
                <ChannelField
                  key={fieldId(f)}
                  inboxId={inbox.id}
                  field={f}
                  value={values[fieldId(f)] ?? ""}
                  isSet={f.part === "secrets" && config.secrets_set.includes(f.key)}
                  error={errors.fields[fieldId(f)]}
                  onChange={(v) => setValues((all) => ({ ...all, [fieldId(f)]: v }))}
                />
              ))}
            </div>
            <p className="muted small">
              <KeyRound size={12} aria-hidden /> {t("ch_section_secrets")}
            </p>
            {webhook && (
              <p className={`result ${webhook.registered ? "ok" : "bad"}`} role="status" data-testid="channel-webhook">
                {webhook.registered ? <CheckCircle2 size={16} aria-hidden /> : <XCircle size={16} aria-hidden />}
                <span>
                  {webhook.registered ? t("ch_webhook_ok") : t("ch_webhook_failed")} {webhook.detail}
                </span>
              </p>
            )}
            {tested && (
              <p className={`result ${tested.ok ? "ok" : "bad"}`} role="status" data-testid="channel-test-result" data-ok={String(tested.ok)}>
                {tested.ok ? <CheckCircle2 size={16} aria-hidden /> : <XCircle size={16} aria-hidden />}
                <span>
                  <b>{tested.ok ? t("ch_test_ok") : t("ch_test_failed")}</b> {tested.detail}
                </span>
              </p>
            )}
            <div className="form-actions">
              <Button variant="primary" type="submit" disabled={busy !== null} data-testid="channel-save">
                {t("ch_save")}
              </Button>
              <Button onClick={() => void test()} disabled={busy !== null} data-testid="channel-test" icon={<PlugZap size={14} aria-hidden />}>
                {busy === "test" ? t("ch_testing") : t("ch_test")}
              </Button>
            </div>
          </>
        )}
      </form>
    </Card>
  );
}

function ChannelField(props: { inboxId: string; field: FieldSpec; value: string; isSet: boolean; error: string | undefined; onChange: (v: string) => void }) {
  const { field: f, value, isSet, error } = props;
  const id = `${props.inboxId}-${fieldId(f)}`;
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const common = {
    id,
    name: fieldId(f),
    value,
    "aria-describedby": error ? `${errorId} ${helpId}` : helpId,
    "aria-invalid": error ? true : undefined,
    "data-testid": `field-${f.key}`,
  } as const;
  let control;
  if (f.input === "select") {
    control = (
      <select {...common} onChange={(e) => props.onChange(e.target.value)}>
        {(f.options ?? []).map((o) => (
          <option key={o} value={o}>
            {optionLabel(f, o)}
          </option>
        ))}
      </select>
    );
  } else if (f.input === "textarea") {
    control = <textarea {...common} rows={2} maxLength={2000} placeholder={f.placeholder} onChange={(e) => props.onChange(e.target.value)} />;
  } else if (f.part === "secrets") {
    control = (
      <input
        {...common}
        type="password"
        autoComplete="new-password"
        spellCheck={false}
        maxLength={2000}
        placeholder={isSet ? "••••••••" : f.placeholder}
        onChange={(e) => props.onChange(e.target.value)}
      />
    );
  } else {
    control = (
      <input
        {...common}
        type={f.input === "number" ? "text" : f.input}
        inputMode={f.input === "number" ? "numeric" : undefined}
        spellCheck={false}
        maxLength={2000}
        placeholder={f.placeholder}
        onChange={(e) => props.onChange(e.target.value)}
      />
    );
  }
  return (
    <div className={`field ${f.wide || f.input === "textarea" ? "span-2" : ""} ${error ? "has-error" : ""}`} data-field={fieldId(f)}>
      <div className="field-top">
        <label className="field-label" htmlFor={id}>
          {label(f.key)}
          {f.required && <span className="req"> · {t("ch_required_mark")}</span>}
        </label>
        {f.part === "secrets" && (
          <span className={`pill ${isSet ? "st-open" : ""}`} data-testid={`secret-state-${f.key}`}>
            {isSet ? t("ch_secret_set") : t("ch_secret_unset")}
          </span>
        )}
      </div>
      {control}
      {error && (
        <span className="field-error" id={errorId} data-testid={`error-${f.key}`}>
          {error}
        </span>
      )}
      <span className="field-hint" id={helpId}>
        {f.part === "secrets" && isSet ? `${t("ch_secret_keep")} ` : ""}
        {help(f.key)}
      </span>
    </div>
  );
}

function WebhookUrl({ path, channel }: { path: string; channel: string }) {
  const url = webhookUrl(location.origin, path);
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      input.current?.select();
      document.execCommand("copy");
    }
    toast.success(t("ch_copied"));
  }
  return (
    <div className="field span-2 webhook-url">
      <label className="field-label" htmlFor={id}>
        {t("ch_webhook_url")}
      </label>
      <div className="input-row">
        <input id={id} ref={input} readOnly value={url} data-testid="webhook-url" onFocus={(e) => e.target.select()} aria-describedby={`${id}-hint`} />
        <IconButton label={t("ch_copy_webhook")} onClick={() => void copy()} data-testid="copy-webhook">
          <Copy size={14} aria-hidden />
        </IconButton>
      </div>
      <span className="field-hint" id={`${id}-hint`}>
        {channel === "telegram" ? t("ch_webhook_hint_telegram") : t("ch_webhook_hint_wechat")}
      </span>
    </div>
  );
}
