// Conversation actions the app offers. Transfer uses the routing API when the server has it
// and otherwise assigns and leaves the comment as a note that mentions the new assignee.

import { ApiError, api, request } from "../api/client";

// Unknown until the first transfer: does this server have routing's transfer endpoint?
let transferRoute: boolean | null = null;

/** A 404 from the router itself ("Not Found"), not from a conversation that is missing. */
function noSuchRoute(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404 && e.message.toLowerCase() === "not found";
}

export async function transfer(
  conversationId: string,
  target: { agent_id?: string; team_id?: string },
  comment: string,
): Promise<void> {
  if (transferRoute !== false) {
    try {
      await api.transfer(conversationId, { ...target, comment });
      transferRoute = true;
      return;
    } catch (e) {
      if (!noSuchRoute(e)) throw e;
      transferRoute = false;
    }
  }
  await api.assign(conversationId, target.agent_id ?? null, target.team_id);
  if (comment.trim()) {
    await request("POST", `/conversations/${conversationId}/messages`, {
      type: "note",
      content: comment,
      client_msg_id: newClientId(),
      ...(target.agent_id ? { payload: { mentions: [target.agent_id] } } : {}),
    });
  }
}

export function newClientId(): string {
  return `web-${crypto.randomUUID()}`;
}
