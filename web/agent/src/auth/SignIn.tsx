import { type FormEvent, useState } from "react";
import { ApiError, request } from "../api/client";
import type { Agent } from "../api/types";
import { type Key, errorText, t } from "../i18n";
import { ForgotPassword, WorkspacePicker, type WorkspaceChoice, defaultWorkspace, login, rememberWorkspace, workspacesOf } from "./Reset";

const KNOWN: string[] = ["bad_credentials", "bad_otp", "rate_limited"];

function message(e: unknown): string {
  if (e instanceof ApiError && KNOWN.includes(e.code)) return t(e.code as Key);
  return errorText(e);
}

export function SignIn(props: { onSignedIn: (a: Agent) => void; notice?: string | undefined }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [otp, setOtp] = useState("");
  const [needOtp, setNeedOtp] = useState(false);
  const [error, setError] = useState<string | null>(props.notice ?? null);
  const [busy, setBusy] = useState(false);
  const [forgot, setForgot] = useState(false);
  const [choices, setChoices] = useState<WorkspaceChoice[] | null>(null);
  const [workspace, setWorkspace] = useState("");

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await login(email, password, needOtp ? otp : undefined, workspace || undefined);
      rememberWorkspace(workspace);
      props.onSignedIn(r.agent);
    } catch (err) {
      const ws = workspacesOf(err);
      if (ws) {
        setChoices(ws);
        setWorkspace(defaultWorkspace(ws));
      } else if (err instanceof ApiError && err.code === "otp_required") setNeedOtp(true);
      else setError(message(err));
    } finally {
      setBusy(false);
    }
  }

  if (forgot) {
    return (
      <div className="signin-page">
        <ForgotPassword email={email} onBack={() => setForgot(false)} />
      </div>
    );
  }
  return (
    <main className="signin-page">
    <form className="signin" onSubmit={submit} aria-label={t("sign_in")}>
      <h1>
        <span className="brand-mark" aria-hidden>
          K
        </span>
        kefu
      </h1>
      <p className="lead">{t("signin_welcome")}</p>
      {error && <p className="error" role="alert">{error}</p>}
      {!needOtp && choices ? (
        <WorkspacePicker choices={choices} value={workspace} onChange={setWorkspace} />
      ) : !needOtp ? (
        <>
          <label>
            {t("email")}
            <input name="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <label>
            {t("password")}
            <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
        </>
      ) : (
        <label>
          {t("otp")}
          <input name="otp" autoComplete="one-time-code" inputMode="numeric" autoFocus required value={otp} onChange={(e) => setOtp(e.target.value)} />
          <small>{t("otp_hint")}</small>
        </label>
      )}
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {t("sign_in")}
      </button>
      {!needOtp && !choices && <button type="button" className="link-button" onClick={() => setForgot(true)}>{t("pw_forgot")}</button>}
    </form>
    </main>
  );
}

export function AcceptInvite() {
  const token = location.hash.slice(1);
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [done, setDone] = useState<Agent | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      setDone(await request<Agent>("POST", "/invites/accept", { token, name, password }));
    } catch (err) {
      setError(message(err));
    }
  }
  if (done) {
    return (
      <main className="signin-page">
        <div className="signin">
          <p>{done.email}</p>
          <a className="btn btn-primary" href="/app/">
            {t("sign_in")}
          </a>
        </div>
      </main>
    );
  }
  return (
    <main className="signin-page">
    <form className="signin" onSubmit={submit} aria-label={t("create")}>
      <h1>
        <span className="brand-mark" aria-hidden>
          K
        </span>
        kefu
      </h1>
      {error && <p className="error" role="alert">{error}</p>}
      <label>
        {t("name")}
        <input required value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        {t("password")}
        <input type="password" minLength={8} required value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <button type="submit" className="btn btn-primary">
        {t("create")}
      </button>
    </form>
    </main>
  );
}
