import { useState } from "react";
import { api } from "../api/client";
import type { CannedReply, Inbox } from "../api/types";
import { t } from "../i18n";
import { useStore } from "../state/store";
import { useError } from "./Admin";

/** The snippet a site owner pastes into their pages (the widget's loader). */
export function embedSnippet(inbox: Inbox, origin: string): string {
  return `<script src="${origin}/widget/loader.js" data-inbox="${inbox.key}" async></script>`;
}

export function InboxesAdmin() {
  const inboxes = useStore((s) => s.data.inboxes);
  const [error, run] = useError();
  const [name, setName] = useState("");
  return (
    <div>
      <h2>{t("inboxes")}</h2>
      {error && <p className="error">{error}</p>}
      {Object.values(inboxes).map((i) => (
        <InboxForm key={i.id} inbox={i} />
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
