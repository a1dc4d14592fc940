import { useEffect, useState } from "react";
import { ApiError, api } from "../api/client";
import type { CannedReply, EntryLink, Inbox } from "../api/types";
import { t } from "../i18n";
import { useStore } from "../state/store";
import { useError } from "./Admin";
import { ChannelSetup } from "./ChannelSetup";
import { PrechatEditor } from "./PrechatEditor";

const attr = (v: string) => v.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/** The snippet a site owner pastes into their pages (the widget's loader, docs/widget.md);
 *  with a source, the conversations it starts carry that source like an entry link's. */
export function embedSnippet(inbox: Inbox, origin: string, source?: string): string {
  const from = source ? ` data-source="${attr(source)}"` : "";
  return `<script async src="${origin}/widget/loader.js" data-inbox-key="${attr(inbox.key)}"${from}></script>`;
}

/** What entry-link sources the server accepts (docs/entry-links.md). */
export const SOURCE_PATTERN = "[\\p{L}\\p{N}_][\\p{L}\\p{N}_\\-.:\\/@+]{0,99}";

export function InboxesAdmin() {
  const inboxes = useStore((s) => s.data.inboxes);
  const [error, run] = useError();
  const [name, setName] = useState("");
  return (
    <div>
      <h2>{t("inboxes")}</h2>
      {error && <p className="error">{error}</p>}
      {Object.values(inboxes).map((i) => (
        <div key={i.id} className="inbox-admin" data-inbox={i.id}>
          <InboxForm inbox={i} />
          {i.channel !== "web" && <ChannelSetup inbox={i} />}
          <PrechatEditor inbox={i} />
          <EntryLinks inbox={i} />
        </div>
      ))}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run(api.createInbox(name).then(() => setName("")));
        }}
      >
        <input required placeholder={t("name")} value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit">{t("create")}</button>
      </form>
    </div>
  );
}

function InboxForm({ inbox }: { inbox: Inbox }) {
  const [error, run] = useError();
  const [greeting, setGreeting] = useState(inbox.greeting ?? "");
  const [origins, setOrigins] = useState(inbox.allowed_origins.join("\n"));
  const [color, setColor] = useState(inbox.widget.color);
  const [textColor, setTextColor] = useState(inbox.widget.text_color);
  const [position, setPosition] = useState(inbox.widget.position);
  const [requireIdentity, setRequireIdentity] = useState(inbox.require_identity);
  return (
    <form
      className="inbox-form"
      onSubmit={(e) => {
        e.preventDefault();
        run(
          api.updateInbox(inbox.id, {
            greeting: greeting.trim() || null,
            allowed_origins: origins.split("\n").map((o) => o.trim()).filter(Boolean),
            require_identity: requireIdentity,
            widget: { color, text_color: textColor, position },
          }),
        );
      }}
    >
      <h3>
        {inbox.name} <small>({inbox.channel})</small>
      </h3>
      {error && <p className="error">{error}</p>}
      <label>
        {t("greeting")}
        <textarea value={greeting} maxLength={10000} onChange={(e) => setGreeting(e.target.value)} />
      </label>
      <label>
        {t("allowed_origins")}
        <textarea value={origins} onChange={(e) => setOrigins(e.target.value)} />
      </label>
      <label className="inline">
        {t("color")} <input type="color" value={color} onChange={(e) => setColor(e.target.value)} />
      </label>
      <label className="inline">
        {t("text_color")} <input type="color" value={textColor} onChange={(e) => setTextColor(e.target.value)} />
      </label>
      <label className="inline">
        {t("position")}
        <select value={position} onChange={(e) => setPosition(e.target.value as "left" | "right")}>
          <option>right</option>
          <option>left</option>
        </select>
      </label>
      <label className="inline">
        <input type="checkbox" checked={requireIdentity} onChange={(e) => setRequireIdentity(e.target.checked)} />
        {t("require_identity")}
      </label>
      <label>
        {t("embed_snippet")}
        <textarea readOnly value={embedSnippet(inbox, location.origin)} onFocus={(e) => e.target.select()} />
      </label>
      <button type="submit">{t("save")}</button>
    </form>
  );
}

function EntryLinks({ inbox }: { inbox: Inbox }) {
  const [links, setLinks] = useState<EntryLink[]>([]);
  const [source, setSource] = useState("");
  const [label, setLabel] = useState("");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.entryLinks(inbox.id).then(
      (r) => setLinks(r.items),
      (e: Error) => setError(e.message),
    );
  }, [inbox.id]);
  const fail = (e: unknown) =>
    setError(e instanceof ApiError && e.code === "source_taken" ? t("source_taken") : (e as Error).message);
  return (
    <section className="entry-links" data-testid="entry-links">
      <h4>{t("entry_links")}</h4>
      <p className="muted">{t("entry_links_hint")}</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {links.length === 0 && <p className="muted">{t("no_links")}</p>}
      <ul>
        {links.map((l) => (
          <li key={l.id} data-testid="entry-link" data-source={l.source}>
            <img className="qr" src={l.qr_svg} alt={`QR ${l.source}`} width={96} height={96} loading="lazy" />
            <div>
              <b>{l.label ?? l.source}</b> <code>{l.source}</code>
              <input readOnly aria-label={t("entry_links")} value={l.url} onFocus={(e) => e.target.select()} />
              <textarea readOnly aria-label={t("embed_snippet")} value={embedSnippet(inbox, location.origin, l.source)} onFocus={(e) => e.target.select()} />
              <a href={l.qr_png} download={`qr-${l.source.replace(/[^\w-]+/g, "_")}.png`}>
                {t("download_png")}
              </a>{" "}
              <a href={l.qr_svg} download={`qr-${l.source.replace(/[^\w-]+/g, "_")}.svg`}>
                {t("download_svg")}
              </a>{" "}
              <button
                type="button"
                onClick={() =>
                  api.deleteEntryLink(inbox.id, l.id).then(() => setLinks((all) => all.filter((x) => x.id !== l.id)), fail)
                }
              >
                {t("delete")}
              </button>
            </div>
          </li>
        ))}
      </ul>
      <form
        data-testid="new-entry-link"
        onSubmit={(e) => {
          e.preventDefault();
          setError(null);
          api.createEntryLink(inbox.id, source.trim(), label.trim() || null).then((l) => {
            setLinks((all) => [...all, l]);
            setSource("");
            setLabel("");
          }, fail);
        }}
      >
        <input name="source" required placeholder={t("source")} aria-label={t("source")} pattern={SOURCE_PATTERN} maxLength={100} value={source} onChange={(e) => setSource(e.target.value)} />
        <input name="label" placeholder={t("label")} aria-label={t("label")} maxLength={200} value={label} onChange={(e) => setLabel(e.target.value)} />
        <button type="submit">{t("add_link")}</button>
      </form>
    </section>
  );
}

export function CannedAdmin() {
  const replies = useStore((s) => s.data.canned_replies);
  const [error, run] = useError();
  const [editing, setEditing] = useState<Partial<CannedReply>>({});
  return (
    <div>
      <h2>{t("canned_replies")}</h2>
      {error && <p className="error">{error}</p>}
      <table>
        <tbody>
          {Object.values(replies)
            .sort((a, b) => a.shortcut.localeCompare(b.shortcut))
            .map((r) => (
              <tr key={r.id}>
                <td>/{r.shortcut}</td>
                <td>{r.title}</td>
                <td className="pre">{r.content}</td>
                <td>
                  <button type="button" onClick={() => setEditing(r)}>
                    ✎
                  </button>
                  <button type="button" onClick={() => run(api.deleteCanned(r.id))}>
                    {t("delete")}
                  </button>
                </td>
              </tr>
            ))}
        </tbody>
      </table>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const body = { shortcut: editing.shortcut ?? "", title: editing.title ?? "", content: editing.content ?? "" };
          run(api.saveCanned(body, editing.id).then(() => setEditing({})));
        }}
      >
        <input required pattern="[a-z0-9][a-z0-9_\-]{0,63}" placeholder={t("shortcut")} value={editing.shortcut ?? ""} onChange={(e) => setEditing({ ...editing, shortcut: e.target.value })} />
        <input required placeholder={t("title")} value={editing.title ?? ""} onChange={(e) => setEditing({ ...editing, title: e.target.value })} />
        <textarea required placeholder={t("content")} value={editing.content ?? ""} onChange={(e) => setEditing({ ...editing, content: e.target.value })} />
        <button type="submit">{editing.id ? t("save") : t("create")}</button>
      </form>
    </div>
  );
}
