import { beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { defaultWorkspace, rememberWorkspace, workspacesOf } from "./Reset";

const required = (details: unknown) => new ApiError(422, "workspace_required", "choose", details);

describe("the workspace choice at sign-in", () => {
  beforeEach(() => localStorage.clear());

  it("reads the workspaces of a 422 workspace_required, and nothing else", () => {
    const ws = [
      { slug: "acme", name: "Acme" },
      { slug: "beta", name: "Beta Ltd" },
    ];
    expect(workspacesOf(required({ workspaces: [...ws, { slug: 3 }] }))).toEqual(ws);
    expect(workspacesOf(new ApiError(401, "bad_credentials", "no"))).toBeNull();
    expect(workspacesOf(required(null))).toBeNull();
    expect(workspacesOf(new Error("x"))).toBeNull();
  });

  it("defaults to the one picked last, when it is offered", () => {
    const ws = [
      { slug: "acme", name: "Acme" },
      { slug: "beta", name: "Beta" },
    ];
    expect(defaultWorkspace(ws)).toBe("acme");
    rememberWorkspace("beta");
    expect(defaultWorkspace(ws)).toBe("beta");
    rememberWorkspace("gone");
    expect(defaultWorkspace(ws)).toBe("acme");
    rememberWorkspace(undefined);
    expect(localStorage.getItem("kefu.workspace")).toBe("gone");
  });
});
