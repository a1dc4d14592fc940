import { useEffect, useState } from "react";
import { api } from "../api/client";
import { t } from "../i18n";
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
      <h2>{t("two_factor")}</h2>
      {error && <p className="error">{error}</p>}
      <p>{state.enabled ? t("enabled") : t("disabled")}</p>
      {codes && (
        <div>
          <p>{t("recovery_codes")}</p>
          <pre data-testid="recovery-codes">{codes.join("\n")}</pre>
        </div>
      )}
      {!state.enabled && !enrol && (
        <button type="button" onClick={() => run(api.totpBegin().then(setEnrol))}>
          {t("enable")}
        </button>
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
          onSubmit={(e) => {
            e.preventDefault();
            if (state.enabled) run(api.totpDisable(code).then(refresh));
            else run(api.totpConfirm(code).then((r) => (setCodes(r.recovery_codes), setEnrol(null), refresh())));
            setCode("");
          }}
        >
          <input aria-label={t("otp")} required value={code} onChange={(e) => setCode(e.target.value)} />
          <button type="submit">{state.enabled ? t("disable") : t("confirm")}</button>
        </form>
      )}
    </div>
  );
}
