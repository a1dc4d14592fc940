// English, 简体中文 and 日本語. Every string the app shows comes from here: t() for a string
// (with `{name}` placeholders), tn() for one that depends on a count (Intl.PluralRules), and
// the Intl helpers below for numbers, dates and relative times in the chosen language.

import { useSyncExternalStore } from "react";
import * as agentContext from "./agent-context";
import * as agentFixes from "./agent-fixes";
import * as adminUi from "./admin-ui";
import * as look from "./agent-look";
import * as agentList from "./agent-list";

const en = {
  sign_in: "Sign in",
  sign_out: "Sign out",
  email: "Email",
  password: "Password",
  otp: "Two-factor code",
  otp_hint: "Enter the code from your authenticator app, or a recovery code.",
  bad_credentials: "Wrong email or password.",
  bad_otp: "That code is wrong.",
  rate_limited: "Too many attempts. Wait a minute.",
  online: "Online",
  away: "Away",
  offline: "Offline",
  load: "Load",
  view_mine: "Mine",
  view_unassigned: "Unassigned",
  view_queued: "Queued",
  view_bot: "With bot",
  view_all: "All",
  view_resolved: "Resolved",
  search: "Search name, email or message…",
  any_team: "Any team",
  any_inbox: "Any inbox",
  any_priority: "Any priority",
  any_status: "Any status",
  tag: "Tag",
  load_more: "Load more",
  no_conversations: "No conversations here.",
  select_conversation: "Pick a conversation.",
  reconnecting: "Connection lost. Reconnecting…",
  signed_out: "Your session ended. Sign in again.",
  assign_me: "Assign to me",
  assign: "Assign",
  transfer: "Transfer",
  transfer_comment: "Comment for the colleague",
  resolve: "Resolve",
  reopen: "Reopen",
  snooze: "Snooze",
  snooze_until: "Snooze until",
  priority: "Priority",
  tags: "Tags",
  status: "Status",
  team: "Team",
  agent: "Agent",
  unassigned: "Unassigned",
  reply: "Reply",
  note: "Note",
  send: "Send",
  composer_placeholder: "Type a reply… (/ for canned replies, Ctrl+Enter to send)",
  note_placeholder: "Internal note — @name to mention a colleague",
  internal_note: "Internal note",
  typing: "is typing…",
  delivery_stored: "Sent",
  delivery_delivered: "Delivered",
  delivery_read: "Read",
  delivery_failed: "Failed",
  contact: "Contact",
  identities: "Identities",
  attributes: "Attributes",
  customer_attributes: "Said by the customer",
  unverified: "unverified",
  earlier_conversations: "Earlier conversations",
  notifications: "Notifications",
  mark_all_read: "Mark all read",
  mentioned_you: "mentioned you",
  new_conversation: "New conversation",
  new_message: "New message",
  assigned_to_you: "Assigned to you",
  admin: "Administration",
  agents: "Agents",
  teams: "Teams",
  inboxes: "Inboxes",
  canned_replies: "Canned replies",
  security: "Security",
  invite: "Invite",
  invite_link: "Invite link (valid 3 days)",
  role: "Role",
  capacity: "Capacity",
  active: "Active",
  save: "Save",
  delete: "Delete",
  create: "Create",
  name: "Name",
  shortcut: "Shortcut",
  title: "Title",
  content: "Text",
  greeting: "Greeting",
  color: "Colour",
  text_color: "Text colour",
  position: "Position",
  allowed_origins: "Allowed origins (one per line)",
  require_identity: "Require verified identity",
  embed_snippet: "Embed snippet",
  back: "Back",
  shortcuts_help: "Shortcuts: j/k next/previous, a assign to me, e resolve, r reply, n note, / search, ? help",
  language: "Language",
  two_factor: "Two-factor sign-in",
  enable: "Turn on",
  disable: "Turn off",
  confirm: "Confirm",
  recovery_codes: "Recovery codes — keep them safe; each works once",
  secret: "Secret",
  enabled: "On",
  disabled: "Off",
  emoji: "Emoji",
  earlier: "Load earlier messages",
  reply_window: "Reply window closes in",
  replies_left: "replies left",
  window_no_window: "The messaging window is closed: the customer has not written recently (or unfollowed). Replies can't be sent until they write again.",
  window_expired: "The messaging window is closed: the customer's last message is too old. Replies can't be sent until they write again.",
  window_exhausted: "The messaging window is closed: no replies are left until the customer writes again.",
  reach_elsewhere: "Reach the customer another way:",
  reach_none: "No other channel of this contact can be reached now. Add an email address to the contact, or leave a note.",
  open_conversation_in: "Open the conversation in",
  email_to: "Email",
  email_address: "Email address",
  email_subject: "Subject",
  start_email: "Start an email conversation",
  reply_disabled_window: "Replies are off while the window is closed; notes still work.",
  channel_state_refused: "The channel does not follow this conversation:",
  attach: "Attach files",
  uploading: "Uploading…",
  upload_ready: "Ready — sent with Send",
  attachments_not_in_notes: "Files are sent with replies, not notes",
  remove: "Remove",
  attachment_unavailable: "file unavailable",
  err_too_large: "This file is too large.",
  err_unsupported_type: "This type of file can't be sent.",
  err_image_too_large: "This image is too large.",
  err_invalid_file_name: "This file name can't be used. Rename the file and try again.",
  err_invalid_image: "This image is damaged or not really an image.",
  err_empty_file: "The file is empty.",
  err_archive_refused: "This archive can't be sent.",
  err_upload: "The upload failed. Try again.",
  knowledge_base: "Knowledge base",
  article: "Article",
  new_article: "New article",
  answer: "Answer",
  answer_hint: "Rich text: p, b, i, lists, links and images are kept; anything else is removed.",
  example_questions: "Example questions (one a line)",
  category: "Category",
  tags_comma: "Tags (comma-separated)",
  article_enabled: "The bot may answer with it",
  no_articles: "No articles yet.",
  edit: "Edit",
  cancel: "Cancel",
  disable_article: "Disable",
  enable_article: "Enable",
  filter_articles: "Filter by title, question or tag",
  entry_links: "Entry links and QR codes",
  entry_links_hint: "Each link opens a chat in this inbox and tags the conversation with its source.",
  source: "Source",
  label: "Label",
  add_link: "Add link",
  no_links: "No entry links yet.",
  download_png: "PNG",
  download_svg: "SVG",
  copy: "Copy",
  copied: "Copied",
  source_taken: "This inbox has a link with that source already.",
  article_exists: "An article of this category and language exists.",
  prechat_form: "Pre-chat form",
  prechat_hint: "Asked of anonymous visitors before their first message. name, email and phone fill the contact; other keys become contact attributes.",
  prechat_none: "No pre-chat form: the chat opens straight away.",
  prechat_key: "Key",
  prechat_type: "Type",
  prechat_type_text: "Text",
  prechat_type_textarea: "Long text",
  prechat_type_email: "Email",
  prechat_type_phone: "Phone",
  prechat_type_number: "Number",
  prechat_type_select: "Choice",
  prechat_type_checkbox: "Checkbox",
  prechat_required: "Required",
  prechat_options: "Options",
  prechat_value: "Value",
  prechat_add_option: "Add option",
  prechat_add_field: "Add field",
  prechat_save: "Save form",
  prechat_saved: "Saved.",
  prechat_refused: "The form was not saved:",
  prechat_field: "Field",
  move_up: "Move up",
  move_down: "Move down",
  ...agentContext.en,
  ...agentFixes.en,
  ...look.en,
  ...adminUi.en,
  ...agentList.en,
};

export type Key = keyof typeof en;

const zh: Record<Key, string> = {
  sign_in: "登录",
  sign_out: "退出登录",
  email: "邮箱",
  password: "密码",
  otp: "两步验证码",
  otp_hint: "输入身份验证器中的验证码，或一个恢复码。",
  bad_credentials: "邮箱或密码错误。",
  bad_otp: "验证码错误。",
  rate_limited: "尝试次数过多，请稍候一分钟。",
  online: "在线",
  away: "离开",
  offline: "离线",
  load: "负载",
  view_mine: "我的",
  view_unassigned: "未分配",
  view_queued: "排队中",
  view_bot: "机器人",
  view_all: "全部",
  view_resolved: "已解决",
  search: "搜索姓名、邮箱或消息…",
  any_team: "所有团队",
  any_inbox: "所有渠道",
  any_priority: "所有优先级",
  any_status: "所有状态",
  tag: "标签",
  load_more: "加载更多",
  no_conversations: "这里没有会话。",
  select_conversation: "请选择一个会话。",
  reconnecting: "连接已断开，正在重新连接…",
  signed_out: "会话已结束，请重新登录。",
  assign_me: "分配给我",
  assign: "分配",
  transfer: "转接",
  transfer_comment: "给同事的备注",
  resolve: "解决",
  reopen: "重新打开",
  snooze: "稍后提醒",
  snooze_until: "提醒时间",
  priority: "优先级",
  tags: "标签",
  status: "状态",
  team: "团队",
  agent: "客服",
  unassigned: "未分配",
  reply: "回复",
  note: "备注",
  send: "发送",
  composer_placeholder: "输入回复…（/ 快捷回复，Ctrl+Enter 发送）",
  note_placeholder: "内部备注 — 输入 @姓名 提及同事",
  internal_note: "内部备注",
  typing: "正在输入…",
  delivery_stored: "已发送",
  delivery_delivered: "已送达",
  delivery_read: "已读",
  delivery_failed: "发送失败",
  contact: "联系人",
  identities: "身份",
  attributes: "属性",
  customer_attributes: "客户自填",
  unverified: "未验证",
  earlier_conversations: "历史会话",
  notifications: "通知",
  mark_all_read: "全部标为已读",
  mentioned_you: "提及了你",
  new_conversation: "新会话",
  new_message: "新消息",
  assigned_to_you: "已分配给你",
  admin: "管理",
  agents: "客服",
  teams: "团队",
  inboxes: "渠道",
  canned_replies: "快捷回复",
  security: "安全",
  invite: "邀请",
  invite_link: "邀请链接（3 天内有效）",
  role: "角色",
  capacity: "接待上限",
  active: "启用",
  save: "保存",
  delete: "删除",
  create: "创建",
  name: "名称",
  shortcut: "快捷键",
  title: "标题",
  content: "内容",
  greeting: "欢迎语",
  color: "颜色",
  text_color: "文字颜色",
  position: "位置",
  allowed_origins: "允许的来源（每行一个）",
  require_identity: "要求身份验证",
  embed_snippet: "嵌入代码",
  back: "返回",
  shortcuts_help: "快捷键：j/k 下一个/上一个，a 分配给我，e 解决，r 回复，n 备注，/ 搜索，? 帮助",
  language: "语言",
  two_factor: "两步验证",
  enable: "开启",
  disable: "关闭",
  confirm: "确认",
  recovery_codes: "恢复码 — 请妥善保存，每个只能用一次",
  secret: "密钥",
  enabled: "已开启",
  disabled: "已关闭",
  emoji: "表情",
  earlier: "加载更早的消息",
  reply_window: "回复窗口剩余",
  replies_left: "条可发送",
  window_no_window: "消息窗口已关闭：客户近期未发消息（或已取消关注）。在客户再次发消息之前无法回复。",
  window_expired: "消息窗口已关闭：距客户上次发消息已超时。在客户再次发消息之前无法回复。",
  window_exhausted: "消息窗口已关闭：在客户再次发消息之前没有剩余的回复次数。",
  reach_elsewhere: "通过其他渠道联系客户：",
  reach_none: "目前无法通过该联系人的其他渠道联系。请为联系人添加邮箱地址，或留下备注。",
  open_conversation_in: "打开会话：",
  email_to: "发邮件",
  email_address: "邮箱地址",
  email_subject: "主题",
  start_email: "开始邮件会话",
  reply_disabled_window: "窗口关闭期间无法回复；仍可写备注。",
  channel_state_refused: "渠道未跟随此会话的状态：",
  attach: "添加附件",
  uploading: "正在上传…",
  upload_ready: "已就绪，点击发送即发出",
  attachments_not_in_notes: "附件随回复发送，不能放在备注中",
  remove: "移除",
  attachment_unavailable: "文件不可用",
  err_too_large: "文件太大。",
  err_unsupported_type: "不支持发送此类文件。",
  err_image_too_large: "图片尺寸太大。",
  err_invalid_file_name: "此文件名不可用，请重命名后重试。",
  err_invalid_image: "图片已损坏或并非图片。",
  err_empty_file: "文件为空。",
  err_archive_refused: "无法发送此压缩文件。",
  err_upload: "上传失败，请重试。",
  knowledge_base: "知识库",
  article: "文章",
  new_article: "新建文章",
  answer: "回答",
  answer_hint: "富文本：保留段落、粗体、斜体、列表、链接和图片，其余内容会被移除。",
  example_questions: "示例问题（每行一个）",
  category: "分类",
  tags_comma: "标签（用逗号分隔）",
  article_enabled: "机器人可使用此文章回答",
  no_articles: "暂无文章。",
  edit: "编辑",
  cancel: "取消",
  disable_article: "停用",
  enable_article: "启用",
  filter_articles: "按标题、问题或标签筛选",
  entry_links: "入口链接与二维码",
  entry_links_hint: "每个链接都会在此收件箱中打开对话，并以来源标记该对话。",
  source: "来源",
  label: "标签名",
  add_link: "添加链接",
  no_links: "暂无入口链接。",
  download_png: "PNG",
  download_svg: "SVG",
  copy: "复制",
  copied: "已复制",
  source_taken: "此收件箱已有该来源的链接。",
  article_exists: "该分类和语言的文章已存在。",
  prechat_form: "售前表单",
  prechat_hint: "匿名访客发送第一条消息前填写。name、email 和 phone 写入联系人；其他键保存为联系人属性。",
  prechat_none: "没有售前表单：对话直接开始。",
  prechat_key: "键",
  prechat_type: "类型",
  prechat_type_text: "文本",
  prechat_type_textarea: "长文本",
  prechat_type_email: "邮箱",
  prechat_type_phone: "电话",
  prechat_type_number: "数字",
  prechat_type_select: "选项",
  prechat_type_checkbox: "复选框",
  prechat_required: "必填",
  prechat_options: "选项列表",
  prechat_value: "值",
  prechat_add_option: "添加选项",
  prechat_add_field: "添加字段",
  prechat_save: "保存表单",
  prechat_saved: "已保存。",
  prechat_refused: "表单未保存：",
  prechat_field: "字段",
  move_up: "上移",
  move_down: "下移",
  ...agentContext.zh,
  ...agentFixes.zh,
  ...look.zh,
  ...adminUi.zh,
  ...agentList.zh,
};

const ja: Record<Key, string> = {
  sign_in: "ログイン",
  sign_out: "ログアウト",
  email: "メールアドレス",
  password: "パスワード",
  otp: "確認コード",
  otp_hint: "認証アプリのコード、またはリカバリーコードを入力してください。",
  bad_credentials: "メールアドレスかパスワードが違います。",
  bad_otp: "コードが違います。",
  rate_limited: "試行回数が多すぎます。1 分待ってください。",
  online: "オンライン",
  away: "離席中",
  offline: "オフライン",
  load: "対応数",
  view_mine: "自分",
  view_unassigned: "未割り当て",
  view_queued: "待機中",
  view_bot: "ボット対応中",
  view_all: "すべて",
  view_resolved: "解決済み",
  search: "名前・メール・メッセージを検索…",
  any_team: "すべてのチーム",
  any_inbox: "すべての受信箱",
  any_priority: "すべての優先度",
  any_status: "すべての状態",
  tag: "タグ",
  load_more: "さらに読み込む",
  no_conversations: "会話はありません。",
  select_conversation: "会話を選んでください。",
  reconnecting: "接続が切れました。再接続しています…",
  signed_out: "セッションが終了しました。もう一度ログインしてください。",
  assign_me: "自分に割り当て",
  assign: "割り当て",
  transfer: "転送",
  transfer_comment: "同僚へのコメント",
  resolve: "解決",
  reopen: "再開",
  snooze: "スヌーズ",
  snooze_until: "スヌーズ期限",
  priority: "優先度",
  tags: "タグ",
  status: "状態",
  team: "チーム",
  agent: "担当者",
  unassigned: "未割り当て",
  reply: "返信",
  note: "メモ",
  send: "送信",
  composer_placeholder: "返信を入力…（/ で定型文、Ctrl+Enter で送信）",
  note_placeholder: "社内メモ — @名前 で同僚にメンション",
  internal_note: "社内メモ",
  typing: "が入力中…",
  delivery_stored: "送信済み",
  delivery_delivered: "配信済み",
  delivery_read: "既読",
  delivery_failed: "失敗",
  contact: "連絡先",
  identities: "ID",
  attributes: "属性",
  customer_attributes: "顧客の自己申告",
  unverified: "未確認",
  earlier_conversations: "過去の会話",
  notifications: "通知",
  mark_all_read: "すべて既読にする",
  mentioned_you: "があなたをメンションしました",
  new_conversation: "新しい会話",
  new_message: "新しいメッセージ",
  assigned_to_you: "あなたに割り当てられました",
  admin: "管理",
  agents: "担当者",
  teams: "チーム",
  inboxes: "受信箱",
  canned_replies: "定型文",
  security: "セキュリティ",
  invite: "招待",
  invite_link: "招待リンク（3 日間有効）",
  role: "ロール",
  capacity: "上限",
  active: "有効",
  save: "保存",
  delete: "削除",
  create: "作成",
  name: "名前",
  shortcut: "ショートカット",
  title: "タイトル",
  content: "本文",
  greeting: "あいさつ",
  color: "色",
  text_color: "文字色",
  position: "位置",
  allowed_origins: "許可するオリジン（1 行に 1 つ）",
  require_identity: "本人確認を必須にする",
  embed_snippet: "埋め込みコード",
  back: "戻る",
  shortcuts_help: "ショートカット: j/k 次/前、a 自分に割り当て、e 解決、r 返信、n メモ、/ 検索、? ヘルプ",
  language: "言語",
  two_factor: "2 段階認証",
  enable: "有効にする",
  disable: "無効にする",
  confirm: "確認",
  recovery_codes: "リカバリーコード — 大切に保管してください。各コードは 1 回だけ使えます",
  secret: "シークレット",
  enabled: "有効",
  disabled: "無効",
  emoji: "絵文字",
  earlier: "以前のメッセージを読み込む",
  reply_window: "返信期限まで",
  replies_left: "件送信可能",
  window_no_window: "メッセージ期限が切れています：お客様から最近のメッセージがありません（またはフォロー解除）。お客様が再度送信するまで返信できません。",
  window_expired: "メッセージ期限が切れています：お客様の最後のメッセージから時間が経ちすぎました。お客様が再度送信するまで返信できません。",
  window_exhausted: "メッセージ期限が切れています：お客様が再度送信するまで送信できる返信はありません。",
  reach_elsewhere: "別の方法でお客様に連絡：",
  reach_none: "この連絡先の他のチャネルには今は連絡できません。連絡先にメールアドレスを追加するか、メモを残してください。",
  open_conversation_in: "会話を開く：",
  email_to: "メール",
  email_address: "メールアドレス",
  email_subject: "件名",
  start_email: "メールの会話を始める",
  reply_disabled_window: "期限が切れている間は返信できません。メモは書けます。",
  channel_state_refused: "チャネルがこの会話の状態に従っていません：",
  attach: "ファイルを添付",
  uploading: "アップロード中…",
  upload_ready: "準備完了 — 送信で送られます",
  attachments_not_in_notes: "ファイルは返信で送られます（メモには付けられません）",
  remove: "削除",
  attachment_unavailable: "ファイルを開けません",
  err_too_large: "ファイルが大きすぎます。",
  err_unsupported_type: "この種類のファイルは送信できません。",
  err_image_too_large: "画像が大きすぎます。",
  err_invalid_file_name: "このファイル名は使えません。名前を変えてもう一度お試しください。",
  err_invalid_image: "画像が壊れているか、画像ではありません。",
  err_empty_file: "ファイルが空です。",
  err_archive_refused: "このアーカイブは送信できません。",
  err_upload: "アップロードに失敗しました。もう一度お試しください。",
  knowledge_base: "ナレッジベース",
  article: "記事",
  new_article: "新しい記事",
  answer: "回答",
  answer_hint: "リッチテキスト：段落・太字・斜体・リスト・リンク・画像のみ残り、それ以外は削除されます。",
  example_questions: "質問の例（1行に1つ）",
  category: "カテゴリー",
  tags_comma: "タグ（カンマ区切り）",
  article_enabled: "ボットがこの記事で回答できる",
  no_articles: "記事はまだありません。",
  edit: "編集",
  cancel: "キャンセル",
  disable_article: "無効にする",
  enable_article: "有効にする",
  filter_articles: "タイトル・質問・タグで絞り込み",
  entry_links: "入口リンクと QR コード",
  entry_links_hint: "各リンクはこの受信箱でチャットを開き、会話に流入元を記録します。",
  source: "流入元",
  label: "ラベル",
  add_link: "リンクを追加",
  no_links: "入口リンクはまだありません。",
  download_png: "PNG",
  download_svg: "SVG",
  copy: "コピー",
  copied: "コピーしました",
  source_taken: "この受信箱にはその流入元のリンクがすでにあります。",
  article_exists: "このカテゴリーと言語の記事はすでにあります。",
  prechat_form: "チャット前フォーム",
  prechat_hint: "匿名の訪問者が最初のメッセージの前に入力します。name・email・phone は連絡先に、その他のキーは連絡先の属性になります。",
  prechat_none: "チャット前フォームはありません。チャットはすぐに始まります。",
  prechat_key: "キー",
  prechat_type: "種類",
  prechat_type_text: "テキスト",
  prechat_type_textarea: "長いテキスト",
  prechat_type_email: "メール",
  prechat_type_phone: "電話",
  prechat_type_number: "数値",
  prechat_type_select: "選択肢",
  prechat_type_checkbox: "チェックボックス",
  prechat_required: "必須",
  prechat_options: "選択肢一覧",
  prechat_value: "値",
  prechat_add_option: "選択肢を追加",
  prechat_add_field: "項目を追加",
  prechat_save: "フォームを保存",
  prechat_saved: "保存しました。",
  prechat_refused: "フォームは保存されませんでした：",
  prechat_field: "項目",
  move_up: "上へ",
  move_down: "下へ",
  ...agentContext.ja,
  ...agentFixes.ja,
  ...look.ja,
  ...adminUi.ja,
  ...agentList.ja,
};

export const LANGUAGES = { en: "English", "zh-CN": "简体中文", ja: "日本語" } as const;
export type Lang = keyof typeof LANGUAGES;
const TABLES: Record<Lang, Record<Key, string>> = { en, "zh-CN": zh, ja };

function initial(): Lang {
  const saved = globalThis.localStorage?.getItem("kefu.lang");
  if (saved && saved in TABLES) return saved as Lang;
  const nav = globalThis.navigator?.language ?? "en";
  if (nav.startsWith("zh")) return "zh-CN";
  if (nav.startsWith("ja")) return "ja";
  return "en";
}

let current: Lang = initial();
const listeners = new Set<() => void>();

export function setLang(lang: Lang): void {
  current = lang;
  globalThis.localStorage?.setItem("kefu.lang", lang);
  document.documentElement.lang = lang;
  listeners.forEach((l) => l());
}

export type Vars = Record<string, string | number>;

function fill(s: string, vars: Vars | undefined): string {
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (all, k: string) => (k in vars ? String(vars[k]) : all));
}

/** The language strings are in now (for code outside components, e.g. names). */
export function currentLang(): Lang {
  return current;
}

/** The string for ``key`` in the current language, ``{name}`` placeholders filled in. */
export function t(key: Key, vars?: Vars): string {
  return fill(TABLES[current][key] ?? en[key], vars);
}

/** Keys that come in plural forms (``x_one``, ``x_other``): tn() takes ``x``. */
type BaseOf<K> = K extends `${infer Base}_other` ? Base : never;
export type PluralKey = BaseOf<Key>;

const pluralRules = new Map<Lang, Intl.PluralRules>();

/** The form of ``key`` for ``n`` in the current language (Intl.PluralRules), with ``{n}`` the
 *  number formatted for the language. */
export function tn(key: PluralKey, n: number, vars?: Vars): string {
  let rules = pluralRules.get(current);
  if (!rules) pluralRules.set(current, (rules = new Intl.PluralRules(current)));
  const table = TABLES[current] as Record<string, string>;
  const form = table[`${key}_${rules.select(n)}`] ?? table[`${key}_other`] ?? "";
  return fill(form, { n: formatNumber(n), ...vars });
}

/** The current language as a BCP 47 tag for Intl. */
export function locale(): Lang {
  return current;
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(current).format(n);
}

function asDate(at: string | number | Date): Date {
  return at instanceof Date ? at : new Date(at);
}

/** A time of day ("14:05", "下午2:05"). */
export function formatTime(at: string | number | Date): string {
  return new Intl.DateTimeFormat(current, { hour: "numeric", minute: "2-digit" }).format(asDate(at));
}

/** A date ("Dec 7, 2026", "2026年12月7日"). */
export function formatDate(at: string | number | Date): string {
  return new Intl.DateTimeFormat(current, { dateStyle: "medium" }).format(asDate(at));
}

export function formatDateTime(at: string | number | Date): string {
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" }).format(asDate(at));
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400_000],
  ["month", 30 * 86_400_000],
  ["week", 7 * 86_400_000],
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1000],
];

/** How long ago or from now ("3 minutes ago", "3 分钟前", "3 分前"), in the largest whole unit. */
export function relativeTime(at: string | number | Date, now: number = Date.now()): string {
  const diff = asDate(at).getTime() - now;
  const format = new Intl.RelativeTimeFormat(current, { numeric: "auto" });
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms || unit === "second") return format.format(Math.round(diff / ms), unit);
  }
  return format.format(0, "second");
}

/** A conversation status, priority, sender kind or channel as the current language says it;
 *  an unknown value (a newer server) as it came. */
function labelled(prefix: string, value: string): string {
  const s = (TABLES[current] as Record<string, string>)[`${prefix}_${value}`];
  return s ?? value;
}
export const statusLabel = (s: string): string => labelled("status", s);
export const priorityLabel = (p: string): string => labelled("priority", p);
export const senderLabel = (k: string): string => labelled("sender", k);
export const channelLabel = (c: string): string => labelled("channel", c);
export const roleLabel = (r: string): string => labelled("role", r);

/** The message for an error of the API (its stable ``code``, docs/api.md), a network failure
 *  (fetch's TypeError) or anything else, in the current language. */
export function errorText(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (e instanceof TypeError || code === "network") return t("err_network");
  if (typeof code === "string") {
    const key = `err_${code}`;
    if (key in en) return t(key as Key);
    // a code this app does not know yet: in English the server's own words say more
    const message = (e as { message?: unknown }).message;
    if (current === "en" && typeof message === "string" && message) return message;
    return t("err_generic", { code });
  }
  return t("err_generic", { code: "error" });
}

/** Every table, for the tests that check the languages are complete. */
export const TABLES_FOR_TESTS: Readonly<Record<Lang, Readonly<Record<Key, string>>>> = TABLES;

function subscribeLang(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The current language; the component re-renders when it changes. */
export function useLang(): Lang {
  return useSyncExternalStore(subscribeLang, () => current);
}
