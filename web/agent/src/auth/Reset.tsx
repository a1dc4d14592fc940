// Password reset (docs/security.md, "Password reset") and the workspace choice at sign-in
// ("Several workspaces, one email"): the "Forgot password?" form, the page the mailed link
// opens (/app/#/reset?token=…), and the list of workspaces a password opens.

import { KeyRound, Mail } from "lucide-react";
import { type FormEvent, useId, useState } from "react";
import { ApiError, request } from "../api/client";
import type { Agent } from "../api/types";
import { t, useLang } from "../i18n";
import { Button } from "../ui";
import "../styles/admin-ui.css";

export interface WorkspaceChoice {
  slug: string;
  name: string;
}

const WORKSPACE_KEY = "kefu.workspace";

/** `POST /auth/login`, with the workspace when the email has accounts in several. */
export function login(email: string, password: string, otp?: string, workspace?: string) {
  return request<{ token: string; agent: Agent; workspace_id: string }>("POST", "/auth/login", {
    email,
    password,
    ...(otp ? { otp } : {}),
    ...(workspace ? { workspace } : {}),
  });
}

/** The workspaces a `422 workspace_required` offers (`details.workspaces`). */
export function workspacesOf(err: unknown): WorkspaceChoice[] | null {
  if (!(err instanceof ApiError) || err.code !== "workspace_required") return null;
  const list = (err.details as { workspaces?: unknown } | undefined)?.workspaces;
  if (!Array.isArray(list)) return null;
  return list
    .filter((w): w is WorkspaceChoice => typeof w?.slug === "string" && typeof w?.name === "string")
    .map((w) => ({ slug: w.slug, name: w.name }));
}

/** The workspace picked last time, when it is among ``choices``; else the first. */
export function defaultWorkspace(choices: WorkspaceChoice[]): string {
  const saved = globalThis.localStorage?.getItem(WORKSPACE_KEY);
  return choices.find((w) => w.slug === saved)?.slug ?? choices[0]?.slug ?? "";
}

export function rememberWorkspace(slug: string | undefined): void {
  if (slug) globalThis.localStorage?.setItem(WORKSPACE_KEY, slug);
}

/** The choice of workspace, inside the sign-in form (its submit button sends it). */
export function WorkspacePicker({ choices, value, onChange }: { choices: WorkspaceChoice[]; value: string; onChange: (slug: string) => void }) {
  useLang();
  const hint = useId();
  return (
    <fieldset className="workspace-choices" data-testid="workspace-picker" aria-describedby={hint}>
      <legend>{t("ws_pick")}</legend>
      <p className="lead" id={hint}>
        {t("ws_pick_hint")}
      </p>
      {choices.map((w) => (
        <label key={w.slug} className="workspace-choice" data-slug={w.slug}>
          <input type="radio" name="workspace" value={w.slug} checked={value === w.slug} onChange={() => onChange(w.slug)} />
          <span className="ws-name">
            <b>{w.name}</b>
            <span className="ws-slug">{w.slug}</span>
          </span>
        </label>
      ))}
    </fieldset>
  );
}

type Sent = { kind: "sent" | "no_mail" | "error"; text: string };

/** "Forgot password?": an email → `POST /auth/password-reset`. The answer is the same
 *  whether or not the address has an account. */
export function ForgotPassword({ email: initial = "", onBack, notice }: { email?: string; onBack?: () => void; notice?: string }) {
  useLang();
  const [email, setEmail] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<Sent | null>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setSent(null);
    try {
      await request<{ message: string }>("POST", "/auth/password-reset", { email: email.trim() });
      setSent({ kind: "sent", text: t("pw_sent") });
    } catch (err) {
      if (err instanceof ApiError && err.code === "mail_not_configured") setSent({ kind: "no_mail", text: t("pw_no_mail") });
      else if (err instanceof ApiError && err.status === 429) setSent({ kind: "error", text: t("pw_too_many") });
      else setSent({ kind: "error", text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="signin" onSubmit={submit} aria-label={t("pw_forgot_title")} data-testid="forgot-password">
      <h1>
        <Mail size={22} aria-hidden /> {t("pw_forgot_title")}
      </h1>
      {notice && (
        <p className="error" role="alert">
          {notice}
        </p>
      )}
      <p className="lead">{t("pw_forgot_hint")}</p>
      {sent && (
        <p className={sent.kind === "sent" ? "form-ok" : "error"} role={sent.kind === "sent" ? "status" : "alert"} data-testid="forgot-result" data-kind={sent.kind}>
          {sent.text}
        </p>
      )}
      <label>
        {t("email")}
        <input name="email" type="email" autoComplete="username" required maxLength={320} value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <Button variant="primary" type="submit" disabled={busy || sent?.kind === "sent"}>
        {t("pw_send_link")}
      </Button>
      {onBack ? (
        <button type="button" className="link-button" onClick={onBack}>
          {t("pw_back")}
        </button>
      ) : (
        <a className="link-button" href="/app/">
          {t("pw_back")}
        </a>
      )}
    </form>
  );
}

function tokenOf(hash: string): string {
  const query = hash.split("?")[1] ?? "";
  return new URLSearchParams(query).get("token") ?? "";
}

/** The page the mailed link opens: a new password, twice → `POST /auth/password-reset/confirm`. */
export function ResetPassword() {
  useLang();
  const [token] = useState(() => tokenOf(location.hash));
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [state, setState] = useState<"form" | "done" | "invalid">(token ? "form" : "invalid");
  const [busy, setBusy] = useState(false);
  const hintId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (password !== confirm) {
      setError(t("pw_mismatch"));
      return;
    }
    setBusy(true);
    try {
      await request<void>("POST", "/auth/password-reset/confirm", { token, new_password: password });
      history.replaceState(null, "", `${location.pathname}#/reset`); // the used token leaves the address bar
      setState("done");
    } catch (err) {
      if (err instanceof ApiError && err.code === "link_invalid") setState("invalid");
      else if (err instanceof ApiError && err.status === 429) setError(t("rate_limited"));
      else setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  if (state === "invalid") {
    return (
      <div className="signin-page">
        <ForgotPassword notice={t("pw_link_invalid")} />
      </div>
    );
  }
  if (state === "done") {
    return (
      <div className="signin-page">
        <div className="signin" data-testid="reset-done">
          <h1>
            <KeyRound size={22} aria-hidden /> kefu
          </h1>
          <p className="form-ok" role="status">
            {t("pw_changed")}
          </p>
          <a className="btn btn-primary btn-md" href="/app/">
            {t("sign_in")}
          </a>
        </div>
      </div>
    );
  }
  return (
    <div className="signin-page">
      <form className="signin" onSubmit={submit} aria-label={t("pw_reset_title")} data-testid="reset-password">
        <h1>
          <KeyRound size={22} aria-hidden /> {t("pw_reset_title")}
        </h1>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <label>
          {t("pw_new")}
          <input name="new_password" type="password" autoComplete="new-password" required minLength={10} maxLength={1000} aria-describedby={hintId} value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <small className="field-hint" id={hintId}>
          {t("pw_new_hint")}
        </small>
        <label>
          {t("pw_confirm")}
          <input name="confirm_password" type="password" autoComplete="new-password" required maxLength={1000} value={confirm} onChange={(e) => setConfirm(e.target.value)} />
        </label>
        <Button variant="primary" type="submit" disabled={busy}>
          {t("pw_set")}
        </Button>
        <a className="link-button" href="/app/">
          {t("pw_back")}
        </a>
      </form>
    </div>
  );
}
