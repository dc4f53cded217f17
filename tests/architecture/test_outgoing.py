"""Every text the bot sends passes the NIK rule: masked outside the owner's private chat.

The rule is one function (`bot.domain.privacy.for_chat`); this test also reads the source to make sure
no handler or service sends text around it.
"""

import ast
from pathlib import Path

from bot.domain.privacy import for_chat

ROOT = Path(__file__).resolve().parents[2]
NIK = "5103011234560001"
SENDING = {
    "reply_text",
    "send_message",
    "edit_message_text",
    "edit_text",
    "send_photo",
    "send_media_group",
    "send_document",
    "edit_message_caption",
    "reply_photo",
    "reply_document",
    "answer",
}
#: modules whose every sending call passes its text through for_chat (checked below)
SENDERS = {"bot/telegram/replies.py", "bot/telegram/outbox.py", "bot/telegram/digests.py", "bot/telegram/ops.py"}


def test_rule():
    assert for_chat(f"NIK {NIK}", chat_id=100, owner_id=100) == f"NIK {NIK}"  # the reporter's own chat
    assert for_chat(f"NIK {NIK}", chat_id=200, owner_id=100) == "NIK 5103**********01"  # someone else's
    assert for_chat(f"NIK {NIK}", chat_id=-100123, owner_id=100) == "NIK 5103**********01"  # a group
    assert for_chat(f"NIK {NIK}", chat_id=100) == "NIK 5103**********01"  # no owner known: masked


def _calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SENDING:
            yield node


def test_no_handler_or_service_sends_around_the_rule():
    offenders = []
    for folder in ("handlers", "bot"):
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(("bot/emulator/", "bot/devtools/")):
                continue  # the emulator's and the demo users' side, not the bot's
            for call in _calls(path):
                if call.func.attr == "answer":  # callback alerts: fixed sentences, no user text
                    continue
                text_arg = ast.unparse(call)
                if rel in SENDERS and ("for_chat(" in text_arg or call.func.attr in ("send_photo", "send_media_group")):
                    continue
                offenders.append(f"{rel}:{call.lineno}: {text_arg[:90]}")
    assert offenders == [], "send text through bot.telegram.replies (NIK masking):\n" + "\n".join(offenders)
