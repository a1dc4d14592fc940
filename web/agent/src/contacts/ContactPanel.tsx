import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { Conversation } from "../api/types";
import { t } from "../i18n";
import { contactName, wantContacts } from "../state/contacts";
import { useStore } from "../state/store";

export function ContactPanel({ conversationId }: { conversationId: string }) {
  const conv = useStore((s) => s.data.conversations[conversationId]);
  const contact = useStore((s) => (conv ? s.data.contacts[conv.contact_id] : undefined));
  const inboxes = useStore((s) => s.data.inboxes);
  const [history, setHistory] = useState<Conversation[]>([]);
  const contactId = conv?.contact_id;

  useEffect(() => {
    if (!contactId) return;
    wantContacts([contactId]);
    void api
      .conversations({ contact_id: contactId, limit: 50 })
      .then((p) => setHistory(p.items))
      .catch(() => setHistory([]));
  }, [contactId]);

  if (!conv) return <aside className="contact" />;
  return (
    <aside className="contact" aria-label={t("contact")} data-testid="contact-panel">
      <h3>{contact ? contactName(contact.id) : t("contact")}</h3>
      {contact?.email && <p>✉ {contact.email}</p>}
      {contact?.phone && <p>☎ {contact.phone}</p>}
      <h4>{t("identities")}</h4>
      <ul>
        {(contact?.identities ?? []).map((i) => (
          <li key={`${i.kind}:${i.value}`}>
            <code>{i.kind}</code> {i.value}
            {!i.verified && <small> · {t("unverified")}</small>}
          </li>
        ))}
      </ul>
      <h4>{t("attributes")}</h4>
      <dl>
        {Object.entries(contact?.attributes ?? {}).map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{String(v)}</dd>
          </div>
        ))}
      </dl>
      {Object.keys(contact?.customer_attributes ?? {}).length > 0 && (
        <>
          <h4>{t("customer_attributes")}</h4>
          <dl>
            {Object.entries(contact?.customer_attributes ?? {}).map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{String(v)}</dd>
              </div>
            ))}
          </dl>
        </>
      )}
      <h4>{t("earlier_conversations")}</h4>
      <ul data-testid="history">
        {history
          .filter((c) => c.id !== conversationId)
          .map((c) => (
            <li key={c.id}>
              <a href={`#/c/${c.id}`}>
                {new Date(c.created_at).toLocaleDateString()} · {inboxes[c.inbox_id]?.name ?? ""} · {c.status}
              </a>
            </li>
          ))}
      </ul>
    </aside>
  );
}
