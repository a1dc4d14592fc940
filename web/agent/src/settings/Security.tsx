import { useEffect, useState } from "react";
import { api } from "../api/client";
import { t } from "../i18n";
import { Button, Card, Field } from "../ui";
import { useError } from "./Admin";

export function Security() {
  const [state, setState] = useState<{ enabled: boolean; recovery_codes_left: number } | null>(null);
  const [enrol, setEnrol] = useState<{ secret: string; uri: string } | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState("");
  const [error, run] = useError();
  const refresh = () => void api.totpState().then(setState);
  useEffect(refresh, []);
  if (!state) return null;
  return (
    <div>
      <h2>{t("security")}</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <Card
        title={t("two_factor")}
        actions={
          <span className={`pill ${state.enabled ? "st-open" : "st-resolved"}`} data-testid="totp-state">
            {state.enabled ? t("enabled") : t("disabled")}
          </span>
        }
      >
        <div className="card-body">
          <p className="muted">{t("otp_hint")}</p>
          {codes && (
            <div className="recovery">
              <p>{t("recovery_codes")}</p>
              <pre data-testid="recovery-codes">{codes.join("\n")}</pre>
            </div>
          )}
          {!state.enabled && !enrol && (
            <Button variant="primary" onClick={() => run(api.totpBegin().then(setEnrol), false)}>
              {t("enable")}
            </Button>
          )}
          {enrol && !state.enabled && (
            <div>
              <p>
                {t("secret")}: <code data-testid="totp-secret">{enrol.secret}</code>
              </p>
              <p>
                <code className="uri">{enrol.uri}</code>
              </p>
            </div>
          )}
          {(enrol || state.enabled) && (
            <form
              className="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                if (state.enabled) run(api.totpDisable(code).then(refresh));
                else run(api.totpConfirm(code).then((r) => (setCodes(r.recovery_codes), setEnrol(null), refresh())));
                setCode("");
              }}
            >
              <Field label={t("totp_code")}>
                <input name="otp" autoComplete="one-time-code" inputMode="numeric" required value={code} onChange={(e) => setCode(e.target.value)} />
              </Field>
              <Button type="submit" variant={state.enabled ? "danger" : "primary"}>
                {state.enabled ? t("disable") : t("confirm")}
              </Button>
            </form>
          )}
        </div>
      </Card>
    </div>
  );
}
