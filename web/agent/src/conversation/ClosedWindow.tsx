import { useEffect, useMemo, useState } from "react";
import { ApiError, api } from "../api/client";
import type { ChannelReach, Conversation } from "../api/types";
import { type Key, errorText, t } from "../i18n";
import { store, useStore } from "../state/store";
import { type WindowClosed, suggestions } from "./reach";

/** A conversation whose messaging window is closed: why, and the contact's other channels
 *  (GET /conversations/{id}/channels), each one click away: open that conversation, or start
 *  an email conversation (POST /conversations/{id}/email) and open it. */
export function ClosedWindow({ conv, why }: { conv: Conversation; why: WindowClosed }) {
  const contact = useStore((s) => s.data.contacts[conv.contact_id]);
  const inboxes = useStore((s) => s.data.inboxes);
  const [reach, setReach] = useState<ChannelReach[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api.channels(conv.id).then(
      (r) => live && setReach(r),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [conv.id, why]);
  const options = useMemo(() => (reach ? suggestions(reach, contact, Object.values(inboxes)) : []), [reach, contact, inboxes]);
  return (
    <div className="closed-window" role="status" data-testid="window-closed">
      <p className="reason">⛔ {t(`window_${why}` as Key)}</p>
      {reach && options.length === 0 && <p className="muted">{t("reach_none")}</p>}
      {options.length > 0 && (
        <>
          <p>{t("reach_elsewhere")}</p>
          <ul className="reach" data-testid="reach">
            {options.map((o) =>
              o.kind === "open" ? (
                <li key={o.conversationId}>
                  <a href={`#/c/${o.conversationId}`} data-testid="reach-open">
                    {t("open_conversation_in")} {o.inboxName} ({o.channel})
                  </a>
                </li>
              ) : (
                <li key={o.inboxId}>
                  <EmailStarter conv={conv} inboxId={o.inboxId} inboxName={o.inboxName} to={o.to} />
                </li>
              ),
            )}
          </ul>
        </>
      )}
      {error && <p className="error">{error}</p>}
    </div>
  );
}

function EmailStarter({ conv, inboxId, inboxName, to: known }: { conv: Conversation; inboxId: string; inboxName: string; to: string }) {
  const [to, setTo] = useState(known);
  const [subject, setSubject] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setTo((x) => x || known), [known]);
  async function start() {
    setBusy(true);
    setError(null);
    try {
      const c = await api.startEmail(conv.id, { inbox_id: inboxId, to: to.trim(), ...(subject.trim() ? { subject: subject.trim() } : {}) });
      store.update((d) => ({ ...d, conversations: { ...d.conversations, [c.id]: c } }));
      location.hash = `#/c/${c.id}`;
    } catch (e) {
      const open = e instanceof ApiError && e.code === "conversation_open" ? (e.details as { conversation_id?: string } | undefined)?.conversation_id : undefined;
      if (open) location.hash = `#/c/${open}`;
      else setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form
      className="email-start"
      data-testid="reach-email"
      onSubmit={(e) => {
        e.preventDefault();
        void start();
      }}
    >
      <b>
        ✉ {t("email_to")} · {inboxName}
      </b>{" "}
      <input type="email" required aria-label={t("email_address")} placeholder={t("email_address")} value={to} maxLength={320} onChange={(e) => setTo(e.target.value)} />{" "}
      <input aria-label={t("email_subject")} placeholder={t("email_subject")} value={subject} maxLength={200} onChange={(e) => setSubject(e.target.value)} />{" "}
      <button type="submit" disabled={busy || !to.trim()} data-testid="reach-email-start">
        {t("start_email")}
      </button>
      {error && <span className="error" role="alert">{error}</span>}
    </form>
  );
}
