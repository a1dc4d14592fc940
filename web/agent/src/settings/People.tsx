import { UserRound, Users } from "lucide-react";
import { useState } from "react";
import { api } from "../api/client";
import type { Role } from "../api/types";
import { type Key, t } from "../i18n";
import { useStore } from "../state/store";
import { Button, Card, Empty, Field } from "../ui";
import { useError } from "./Admin";

const ROLES: Role[] = ["agent", "supervisor", "admin"];
const roleLabel = (r: Role) => t(`role_${r}` as Key);

export function AgentsAdmin() {
  const agents = useStore((s) => s.data.agents);
  const teams = useStore((s) => s.data.teams);
  const [error, run] = useError();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("agent");
  const [link, setLink] = useState<string | null>(null);
  const all = Object.values(agents);
  return (
    <div>
      <h2>{t("agents")}</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <Card>
        {all.length === 0 ? (
          <Empty icon={<UserRound size={20} />} title={t("no_agents")} />
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("name")}</th>
                  <th scope="col">{t("email")}</th>
                  <th scope="col">{t("role")}</th>
                  <th scope="col">{t("capacity")}</th>
                  <th scope="col">{t("teams")}</th>
                  <th scope="col">{t("active")}</th>
                </tr>
              </thead>
              <tbody>
                {all.map((a) => (
                  <tr key={a.id} data-agent={a.id}>
                    <td>
                      <span className="agent-name">
                        <span className={`dot dot-${a.status}`} aria-hidden /> {a.name}
                      </span>{" "}
                      <small className="muted">({t(a.status)})</small>
                    </td>
                    <td>{a.email}</td>
                    <td>
                      <select aria-label={`${t("role_of")} ${a.name}`} value={a.role} onChange={(e) => run(api.updateAgent(a.id, { role: e.target.value as Role }))}>
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
                        aria-label={`${t("capacity_of")} ${a.name}`}
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
                            aria-label={`${a.name} ${t("team_member")} ${x.name}`}
                            checked={a.team_ids.includes(x.id)}
                            onChange={(e) =>
                              run(
                                api.updateAgent(a.id, {
                                  team_ids: e.target.checked ? [...a.team_ids, x.id] : a.team_ids.filter((i) => i !== x.id),
                                }),
                              )
                            }
                          />
                          <span aria-hidden>{x.name}</span>
                        </label>
                      ))}
                    </td>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`${t("active_of")} ${a.name}`}
                        checked={a.active}
                        onChange={(e) => run(api.updateAgent(a.id, { active: e.target.checked }))}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Card title={t("invite")}>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            run(
              api.invite({ email, role, team_ids: [] }).then((r) => {
                setLink(`${location.origin}${r.url}`);
                setEmail("");
              }),
              t("created"),
            );
          }}
        >
          <Field label={t("invite_email")}>
            <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </Field>
          <Field label={t("invite_role")}>
            <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {roleLabel(r)}
                </option>
              ))}
            </select>
          </Field>
          <Button type="submit" variant="primary">
            {t("invite")}
          </Button>
        </form>
        {link && (
          <div className="card-body">
            <Field label={t("invite_link")}>
              <input readOnly value={link} onFocus={(e) => e.target.select()} data-testid="invite-link" />
            </Field>
          </div>
        )}
      </Card>
    </div>
  );
}

export function TeamsAdmin() {
  const teams = useStore((s) => s.data.teams);
  const agents = useStore((s) => s.data.agents);
  const [error, run] = useError();
  const [name, setName] = useState("");
  const all = Object.values(teams);
  return (
    <div>
      <h2>{t("teams")}</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {all.length === 0 && (
        <Card>
          <Empty icon={<Users size={20} />} title={t("no_teams")} hint={t("no_teams_hint")} />
        </Card>
      )}
      {all.map((x) => (
        <Card key={x.id} title={x.name} data-team={x.id}>
          <fieldset className="team-members">
            <legend className="visually-hidden">
              {t("members_of")} {x.name}
            </legend>
            {Object.values(agents).map((a) => (
              <label key={a.id} className="field field-inline">
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
                <span className="field-label">{a.name}</span>
              </label>
            ))}
          </fieldset>
        </Card>
      ))}
      <Card title={t("create")}>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            run(
              api.createTeam(name).then(() => setName("")),
              t("created"),
            );
          }}
        >
          <Field label={t("new_team_name")}>
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
