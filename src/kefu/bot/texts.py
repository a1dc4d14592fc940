"""What the bot says, in every language it speaks (English is the fallback)."""

from __future__ import annotations

from kefu.domain.languages import pick

LANGUAGES = ("en", "zh", "ja")

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "en": "Hi! How can we help? Pick a topic or type your question.",
        "zh": "您好！请问有什么可以帮您？请选择一个主题或直接输入问题。",
        "ja": "こんにちは。ご用件をお選びいただくか、ご質問を入力してください。",
    },
    "handoff_button": {"en": "Talk to a person", "zh": "转人工客服", "ja": "担当者と話す"},
    "did_it_help": {
        "en": "Did this help?",
        "zh": "这个回答对您有帮助吗？",
        "ja": "お役に立ちましたか？",
    },
    "yes": {"en": "Yes", "zh": "有帮助", "ja": "はい"},
    "no": {"en": "No", "zh": "没有帮助", "ja": "いいえ"},
    "thanks": {
        "en": "Glad I could help! Ask me anything else, or talk to a person any time.",
        "zh": "很高兴能帮到您！还有其他问题可以继续问我，也可以随时转人工。",
        "ja": "お役に立ててよかったです。ほかのご質問もどうぞ。いつでも担当者にもおつなぎします。",
    },
    "rephrase": {
        "en": "Sorry about that. Could you tell me in other words what you need?",
        "zh": "抱歉没能帮到您。能换个说法描述一下您的问题吗？",
        "ja": "申し訳ありません。別の言い方でもう一度お聞かせいただけますか？",
    },
    "greet": {
        "en": "Hi! What can I help you with?",
        "zh": "您好！请问有什么可以帮您？",
        "ja": "こんにちは。どのようなご用件でしょうか？",
    },
    "close_answered": {
        "en": "You're welcome! Glad I could help. Write again any time.",
        "zh": "不客气，很高兴能帮到您！有需要随时再找我们。",
        "ja": "どういたしまして。お役に立ててよかったです。またいつでもどうぞ。",
    },
    "close": {
        "en": "You're welcome! Write any time you need something, or ask for a person.",
        "zh": "不客气！有问题随时可以问我，也可以随时转人工。",
        "ja": "どういたしまして。ご用の際はいつでもどうぞ。担当者にもおつなぎできます。",
    },
    "prompt": {
        "en": "What can I help you with? Type your question, or ask for a person.",
        "zh": "请问有什么可以帮您？请直接输入您的问题，或者转人工。",
        "ja": "ご質問をどうぞ。担当者と話したい場合もお知らせください。",
    },
    "handoff": {
        "en": "I'm passing you to a person now. You're in the queue, and the next free agent "
        "will answer you right here. You can keep writing in the meantime.",
        "zh": "正在为您转接人工客服。您已进入排队，客服空闲后会在这里回复您，期间您可以继续留言。",
        "ja": "担当者におつなぎします。順番にご案内しており、手が空き次第こちらでお返事します。"
        "その間もメッセージを送っていただけます。",
    },
}


def text(key: str, language: str) -> str:
    table = TEXTS[key]
    return pick(table, language) or table["en"]
