import type { Conversation } from "../api/types";
import { t } from "../i18n";

/** The provider does not follow the conversation's status (WeCom kf's service_state, e.g. a
 *  session WeCom's own staff hold): a short notice with its reason, until it follows again. */
export function ChannelStateNotice({ conv }: { conv: Conversation }) {
  const refused = conv.channel_state_refused;
  if (!refused) return null;
  return (
    <p className="window closing" role="status" data-testid="channel-state-refused" title={refused.at}>
      ⚠ {t("channel_state_refused")} {refused.reason}
    </p>
  );
}
