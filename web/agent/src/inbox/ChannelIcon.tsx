// A small line icon per channel kind (24-unit grid, stroke in the text colour). Decorative:
// the inbox's name beside it (and its title) says the channel in words.

const PATHS: Record<string, string> = {
  // a globe
  web: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M3 12h18M12 3c3 3.5 3 14.5 0 18M12 3c-3 3.5-3 14.5 0 18",
  // a phone
  app: "M8 2h8a2 2 0 0 1 2 2v16a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2M11 18h2",
  // two speech bubbles
  wechat_oa: "M9 4c-4 0-7 2.5-7 5.5c0 1.8 1 3.3 2.6 4.3L4 16l2.8-1.3c.7.2 1.4.3 2.2.3M15 9c3.9 0 7 2.2 7 5s-3.1 5-7 5c-.7 0-1.3-.1-2-.2L10.5 20l.5-2c-1.2-.9-2-2.2-2-3.5c0-2.8 2.7-5.5 6-5.5",
  wechat_kf: "M9 4c-4 0-7 2.5-7 5.5c0 1.8 1 3.3 2.6 4.3L4 16l2.8-1.3c.7.2 1.4.3 2.2.3M15 9c3.9 0 7 2.2 7 5s-3.1 5-7 5c-.7 0-1.3-.1-2-.2L10.5 20l.5-2c-1.2-.9-2-2.2-2-3.5c0-2.8 2.7-5.5 6-5.5",
  // an envelope
  email: "M3 5h18v14H3zM3 5l9 8l9-8",
  // a paper plane
  telegram: "M22 3L2 11l7 2l2 7l3-5l5 4zM9 13l13-10",
  // angle brackets
  api: "M8 7l-5 5l5 5M16 7l5 5l-5 5",
};

export function ChannelIcon({ channel }: { channel: string | null }) {
  const d = PATHS[channel ?? ""] ?? PATHS["web"];
  return (
    <svg className="channel-icon" viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false">
      <path d={d} fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}
