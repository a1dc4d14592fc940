import { useState } from "react";
import { api } from "../api/client";
import type { Role } from "../api/types";
import { roleLabel, t } from "../i18n";
import { useStore } from "../state/store";
import { useError } from "./Admin";

const ROLES: Role[] = ["agent", "supervisor", "admin"];

export function AgentsAdmin() {
  const agents = useStore((s) => s.data.agents);
  const teams = useStore((s) => s.data.teams);
  const [error, run] = useError();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("agent");
  const [link, setLink] = useState<string | null>(null);
  return (
    <div>
      <h2>{t("agents")}</h2>
      {error && <p className="error">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>{t("name")}</th>
            <th>{t("email")}</th>
            <th>{t("role")}</th>
            <th>{t("capacity")}</th>
            <th>{t("teams")}</th>
            <th>{t("active")}</th>
          </tr>
        </thead>
        <tbody>
          {Object.values(agents).map((a) => (
            <tr key={a.id}>
              <td>
                {a.name} <small>({t(a.status)})</small>
              </td>
              <td>{a.email}</td>
              <td>
                <select value={a.role} onChange={(e) => run(api.updateAgent(a.id, { role: e.target.value as Role }))}>
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {roleLabel(r)}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                <input
                  type="number"
                  min={0}
                  max={200}
                  defaultValue={a.capacity}
                  onBlur={(e) => Number(e.target.value) !== a.capacity && run(api.updateAgent(a.id, { capacity: Number(e.target.value) }))}
                />
              </td>
              <td>
                {Object.values(teams).map((x) => (
                  <label key={x.id} className="inline">
                    <input
                      type="checkbox"
                      checked={a.team_ids.includes(x.id)}
                      onChange={(e) =>
                        run(
                          api.updateAgent(a.id, {
                            team_ids: e.target.checked ? [...a.team_ids, x.id] : a.team_ids.filter((i) => i !== x.id),
                          }),
                        )
                      }
                    />
                    {x.name}
                  </label>
                ))}
              </td>
              <td>
                <input type="checkbox" checked={a.active} onChange={(e) => run(api.updateAgent(a.id, { active: e.target.checked }))} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>{t("invite")}</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run(
            api.invite({ email, role, team_ids: [] }).then((r) => {
              setLink(`${location.origin}${r.url}`);
              setEmail("");
            }),
          );
        }}
      >
        <input type="email" required placeholder={t("email")} value={email} onChange={(e) => setEmail(e.target.value)} />
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
                      {roleLabel(r)}
                    </option>
          ))}
        </select>
        <button type="submit">{t("invite")}</button>
      </form>
      {link && (
        <p>
          {t("invite_link")}: <input readOnly value={link} size={60} onFocus={(e) => e.target.select()} />
        </p>
      )}
    </div>
  );
}

export function TeamsAdmin() {
  const teams = useStore((s) => s.data.teams);
  const agents = useStore((s) => s.data.agents);
  const [error, run] = useError();
  const [name, setName] = useState("");
  return (
    <div>
      <h2>{t("teams")}</h2>
      {error && <p className="error">{error}</p>}
      {Object.values(teams).map((x) => (
        <fieldset key={x.id}>
          <legend>{x.name}</legend>
          {Object.values(agents).map((a) => (
            <label key={a.id} className="inline">
              <input
                type="checkbox"
                checked={x.member_ids.includes(a.id)}
                onChange={(e) =>
                  run(
                    api.updateTeam(x.id, {
                      member_ids: e.target.checked ? [...x.member_ids, a.id] : x.member_ids.filter((i) => i !== a.id),
                    }),
                  )
                }
              />
              {a.name}
            </label>
          ))}
        </fieldset>
      ))}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run(api.createTeam(name).then(() => setName("")));
        }}
      >
        <input required placeholder={t("name")} value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit">{t("create")}</button>
      </form>
    </div>
  );
}
