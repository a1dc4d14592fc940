import { Inbox as InboxIcon, MessageSquareText, Pencil, Trash2 } from "lucide-react";
import { useEffect, useState } from "react";
import { ApiError, api } from "../api/client";
import type { CannedReply, EntryLink, Inbox } from "../api/types";
import { errorText, t } from "../i18n";
import { useStore } from "../state/store";
import { Button, Card, Empty, Field, IconButton } from "../ui";
import { useError } from "./Admin";
import { InboxTexts } from "./InboxTexts";
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
  const all = Object.values(inboxes);
  return (
    <div>
      <h2>{t("inboxes")}</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {all.length === 0 && (
        <Card>
          <Empty icon={<InboxIcon size={20} />} title={t("no_inboxes")} hint={t("no_inboxes_hint")} />
        </Card>
      )}
      {all.map((i) => (
        <div key={i.id} className="inbox-admin" data-inbox={i.id}>
          <InboxForm inbox={i} />
          <InboxTexts inbox={i} />
          {i.channel !== "web" && <ChannelSetup inbox={i} />}
          <PrechatEditor inbox={i} />
          <EntryLinks inbox={i} />
        </div>
      ))}
      <Card title={t("create")}>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            run(
              api.createInbox(name).then(() => setName("")),
              t("created"),
            );
          }}
        >
          <Field label={t("new_inbox_name")}>
            <input required value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Button type="submit" variant="primary">
            {t("create")}
          </Button>
        </form>
      </Card>
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
          t("inbox_saved"),
        );
      }}
    >
      <h3>
        {inbox.name} <small>({inbox.channel})</small>
      </h3>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <Field label={t("greeting")} className="wide">
        <textarea value={greeting} maxLength={10000} onChange={(e) => setGreeting(e.target.value)} />
      </Field>
      <Field label={t("allowed_origins")} className="wide">
        <textarea value={origins} onChange={(e) => setOrigins(e.target.value)} />
      </Field>
      <Field label={t("color")}>
        <input type="color" value={color} onChange={(e) => setColor(e.target.value)} />
      </Field>
      <Field label={t("text_color")}>
        <input type="color" value={textColor} onChange={(e) => setTextColor(e.target.value)} />
      </Field>
      <Field label={t("position")}>
        <select value={position} onChange={(e) => setPosition(e.target.value as "left" | "right")}>
          <option value="right">{t("position_right")}</option>
          <option value="left">{t("position_left")}</option>
        </select>
      </Field>
      <Field label={t("require_identity")} inline>
        <input type="checkbox" checked={requireIdentity} onChange={(e) => setRequireIdentity(e.target.checked)} />
      </Field>
      <Field label={t("embed_snippet")} className="wide">
        <textarea readOnly value={embedSnippet(inbox, location.origin)} onFocus={(e) => e.target.select()} />
      </Field>
      <div className="form-actions">
        <Button type="submit" variant="primary" data-testid="save-inbox">
          {t("save")}
        </Button>
      </div>
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
      (e: unknown) => setError(errorText(e)),
    );
  }, [inbox.id]);
  const fail = (e: unknown) =>
    setError(e instanceof ApiError && e.code === "source_taken" ? t("source_taken") : errorText(e));
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
  const all = Object.values(replies).sort((a, b) => a.shortcut.localeCompare(b.shortcut));
  return (
    <div>
      <h2>{t("canned_replies")}</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <Card>
        {all.length === 0 ? (
          <Empty icon={<MessageSquareText size={20} />} title={t("no_canned")} hint={t("no_canned_hint")} />
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("shortcut")}</th>
                  <th scope="col">{t("title")}</th>
                  <th scope="col">{t("content")}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t("conversation_actions")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {all.map((r) => (
                  <tr key={r.id} data-canned={r.shortcut}>
                    <td>
                      <code>/{r.shortcut}</code>
                    </td>
                    <td>{r.title}</td>
                    <td className="pre">{r.content}</td>
                    <td>
                      <div className="row-actions">
                        <IconButton label={`${t("edit_canned")} /${r.shortcut}`} onClick={() => setEditing(r)}>
                          <Pencil size={15} aria-hidden />
                        </IconButton>
                        <IconButton label={`${t("delete_canned")} /${r.shortcut}`} className="btn-danger" onClick={() => run(api.deleteCanned(r.id), t("deleted"))}>
                          <Trash2 size={15} aria-hidden />
                        </IconButton>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Card title={editing.id ? `${t("edit")} /${editing.shortcut ?? ""}` : t("create")}>
        <form
          className="canned-form"
          onSubmit={(e) => {
            e.preventDefault();
            const body = { shortcut: editing.shortcut ?? "", title: editing.title ?? "", content: editing.content ?? "" };
            run(
              api.saveCanned(body, editing.id).then(() => setEditing({})),
              editing.id ? t("saved") : t("created"),
            );
          }}
        >
          <Field label={t("shortcut")}>
            <input name="shortcut" required pattern="[a-z0-9][a-z0-9_\-]{0,63}" value={editing.shortcut ?? ""} onChange={(e) => setEditing({ ...editing, shortcut: e.target.value })} />
          </Field>
          <Field label={t("title")}>
            <input name="title" required value={editing.title ?? ""} onChange={(e) => setEditing({ ...editing, title: e.target.value })} />
          </Field>
          <Field label={t("content")} className="wide">
            <textarea name="content" required value={editing.content ?? ""} onChange={(e) => setEditing({ ...editing, content: e.target.value })} />
          </Field>
          <div className="form-actions">
            {editing.id && <Button onClick={() => setEditing({})}>{t("cancel")}</Button>}
            <Button type="submit" variant="primary">
              {editing.id ? t("save") : t("create")}
            </Button>
          </div>
        </form>
      </Card>
    </div>
  );
}
