// The customer in context: who they are (identities, attributes), where they are (the page,
// browser and local time their widget reported) and what they asked before, in any channel.
// A section with nothing to show is left out.
import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError } from "../api/client";
import type { Contact, Conversation, Inbox, VisitorContext } from "../api/types";
import { t, useLang, type Key, type Lang } from "../i18n";
import { contactName, wantContacts } from "../state/contacts";
import { store, useStore } from "../state/store";

const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function webUrl(raw: string | null | undefined): string | null {
  if (!raw) return null;
  try {
    const u = new URL(raw);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

function languageName(tag: string, lang: Lang): string {
  try {
    return new Intl.DisplayNames([lang], { type: "language" }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}

/** The visitor's wall-clock time, ticking (null: no usable time zone). */
function useLocalTime(zone: string | null | undefined, lang: Lang): string | null {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    if (!zone) return;
    const id = setInterval(() => setNow(new Date()), 15_000);
    return () => clearInterval(id);
  }, [zone]);
  if (!zone) return null;
  try {
    return new Intl.DateTimeFormat(lang, {
      timeZone: zone,
      weekday: "short",
      hour: "numeric",
      minute: "2-digit",
      timeZoneName: "short",
    }).format(now);
  } catch {
    return null;
  }
}

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Context({ ctx, lang }: { ctx: VisitorContext; lang: Lang }) {
  const time = useLocalTime(ctx.time_zone, lang);
  const page = webUrl(ctx.page_url);
  const referrer = webUrl(ctx.referrer);
  const browser = [ctx.browser, ctx.os].filter(Boolean).join(" · ");
  if (!time && !page && !referrer && !browser && !ctx.locale) return null;
  return (
    <section aria-labelledby="ctx-visitor" data-testid="visitor-context">
      <h4 id="ctx-visitor" title={t("ctx_claimed")}>
        {t("ctx_visitor")}
      </h4>
      <dl className="facts">
        {page && (
          <Row label={t("ctx_page")}>
            <a href={page} target="_blank" rel="noopener noreferrer" className="page-link">
              {ctx.page_title || page}
            </a>
            {ctx.page_title && <small className="url">{page}</small>}
          </Row>
        )}
        {referrer && (
          <Row label={t("ctx_referrer")}>
            <a href={referrer} target="_blank" rel="noopener noreferrer" className="url">
              {referrer}
            </a>
          </Row>
        )}
        {browser && <Row label={t("ctx_browser")}>{browser}</Row>}
        {ctx.locale && <Row label={t("ctx_language")}>{languageName(ctx.locale, lang)}</Row>}
        {time && (
          <Row label={t("ctx_local_time")}>
            <span data-testid="local-time">{time}</span>
          </Row>
        )}
      </dl>
      <p className="hint">{t("ctx_claimed")}</p>
    </section>
  );
}

function Attributes({ contact }: { contact: Contact }) {
  const [editing, setEditing] = useState<string | null>(null);
  const [draft, setDraft] = useState("");
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const entries = Object.entries(contact.attributes ?? {});

  const save = async (attributes: Record<string, unknown>) => {
    setError(null);
    try {
      const c = await api.updateContact(contact.id, { attributes });
      store.update((d) => ({ ...d, contacts: { ...d.contacts, [c.id]: c } }));
      return true;
    } catch (e) {
      setError(`${t("ctx_attr_failed")} ${e instanceof ApiError ? e.message : String(e)}`);
      return false;
    }
  };
  const add = async (ev: FormEvent) => {
    ev.preventDefault();
    const key = name.trim();
    if (!ATTRIBUTE_NAME.test(key)) {
      setError(t("ctx_attr_bad_name"));
      return;
    }
    if (await save({ [key]: value })) {
      setName("");
      setValue("");
    }
  };

  return (
    <section aria-labelledby="ctx-attributes">
      <h4 id="ctx-attributes">{t("ctx_attributes")}</h4>
      {entries.length > 0 && (
        <dl className="facts">
          {entries.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>
                {editing === k ? (
                  <form
                    className="attr-edit"
                    onSubmit={(ev) => {
                      ev.preventDefault();
                      void save({ [k]: draft }).then((ok) => ok && setEditing(null));
                    }}
                  >
                    <input aria-label={`${t("ctx_attr_value")} ${k}`} value={draft} maxLength={1000} autoFocus onChange={(e) => setDraft(e.target.value)} />
                    <button type="submit">{t("ctx_attr_save")}</button>
                    <button type="button" onClick={() => setEditing(null)}>
                      {t("ctx_attr_cancel")}
                    </button>
                  </form>
                ) : (
                  <>
                    <span>{String(v)}</span>{" "}
                    <button
                      type="button"
                      className="link"
                      aria-label={`${t("ctx_attr_edit")} ${k}`}
                      onClick={() => {
                        setEditing(k);
                        setDraft(String(v ?? ""));
                      }}
                    >
                      {t("ctx_attr_edit")}
                    </button>{" "}
                    <button type="button" className="link" aria-label={`${t("ctx_attr_remove")} ${k}`} onClick={() => void save({ [k]: null })}>
                      {t("ctx_attr_remove")}
                    </button>
                  </>
                )}
              </dd>
            </div>
          ))}
        </dl>
      )}
      <form className="attr-add" onSubmit={(ev) => void add(ev)}>
        <input aria-label={t("ctx_attr_name")} placeholder={t("ctx_attr_name")} value={name} maxLength={64} onChange={(e) => setName(e.target.value)} />
        <input aria-label={t("ctx_attr_value")} placeholder={t("ctx_attr_value")} value={value} maxLength={1000} onChange={(e) => setValue(e.target.value)} />
        <button type="submit">{t("ctx_attr_add")}</button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

export function ContactPanel({ conversationId }: { conversationId: string }) {
  const lang = useLang();
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
  }, [contactId, conversationId]);

  if (!conv) return <aside className="contact" />;
  // The app shows the panel as a column, or in a sheet on smaller screens (App.tsx).
  return <Panel conv={conv} contact={contact} history={history} lang={lang} inboxes={inboxes} />;
}

function Panel({
  conv,
  contact,
  history,
  lang,
  inboxes,
}: {
  conv: Conversation;
  contact: Contact | undefined;
  history: Conversation[];
  lang: Lang;
  inboxes: Record<string, Inbox>;
}) {
  const conversationId = conv.id;
  const identities = contact?.identities ?? [];
  const claimed = Object.entries(contact?.customer_attributes ?? {});
  const earlier = history.filter((c) => c.id !== conversationId);
  return (
    <aside id="contact-panel" className="contact" aria-label={t("contact")} data-testid="contact-panel">
      <h3>{contact ? contactName(contact.id) : t("ctx_unnamed")}</h3>
      {contact?.email && <p>✉ {contact.email}</p>}
      {contact?.phone && <p>☎ {contact.phone}</p>}
      {contact?.context && <Context ctx={contact.context} lang={lang} />}
      {identities.length > 0 && (
        <section aria-labelledby="ctx-identities">
          <h4 id="ctx-identities">{t("ctx_identities")}</h4>
          <ul className="identities">
            {identities.map((i) => (
              <li key={`${i.kind}:${i.value}`}>
                <code>{i.kind}</code> {i.value}{" "}
                {i.verified ? (
                  <span className="verified" title={t("ctx_verified")}>
                    ✓ <span className="sr">{t("ctx_verified")}</span>
                  </span>
                ) : (
                  <small className="muted-inline">· {t("ctx_unverified")}</small>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
      {contact && <Attributes contact={contact} />}
      {claimed.length > 0 && (
        <section aria-labelledby="ctx-claimed">
          <h4 id="ctx-claimed">{t("ctx_customer_attributes")}</h4>
          <dl className="facts">
            {claimed.map(([k, v]) => (
              <Row key={k} label={k}>
                {String(v)}
              </Row>
            ))}
          </dl>
        </section>
      )}
      {conv.tags.length > 0 && (
        <section aria-labelledby="ctx-tags">
          <h4 id="ctx-tags">{t("ctx_tags")}</h4>
          <ul className="tags">
            {conv.tags.map((tag) => (
              <li key={tag}>{tag}</li>
            ))}
          </ul>
        </section>
      )}
      {earlier.length > 0 && (
        <section aria-labelledby="ctx-history">
          <h4 id="ctx-history">{t("ctx_history")}</h4>
          <ul data-testid="history" className="history">
            {earlier.map((c) => {
              const inbox = inboxes[c.inbox_id];
              return (
                <li key={c.id}>
                  <a href={`#/c/${c.id}`} aria-label={`${t("ctx_open_conversation")}: ${inbox?.name ?? ""} ${new Date(c.created_at).toLocaleDateString(lang)}`}>
                    <span>{new Date(c.created_at).toLocaleDateString(lang)}</span>
                    <span>{inbox?.name ?? ""}</span>
                    {inbox?.channel && <code>{inbox.channel}</code>}
                    <span className="status">{t(`ctx_st_${c.status}` as Key)}</span>
                  </a>
                </li>
              );
            })}
          </ul>
        </section>
      )}
    </aside>
  );
}
