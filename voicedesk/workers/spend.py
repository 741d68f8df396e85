"""No surprise spending: when sending a text should be confirmed first, and what to ask.

A 3 MB paste once started "Part 1 of 1528" without a word about its cost. ElevenLabs bills
speech by the character, so a text over `CONFIRM_ABOVE` characters, or over what the plan has
left, is shown against what is left before anything is sent. Plain Python: the window asks.
"""

from __future__ import annotations

from voicedesk.engines.base import Quota

# About three minutes of speech; a paragraph or a page never asks.
CONFIRM_ABOVE = 2_500


def spend_question(size: int, quota: Quota | None, threshold: int = CONFIRM_ABOVE) -> str | None:
    """The question to ask before sending `size` characters, or None to send without asking."""
    over_left = quota is not None and quota.limit > 0 and size > quota.remaining
    if size <= threshold and not over_left:
        return None
    if quota is None or quota.limit <= 0:
        left = "The characters left on your plan are not known right now."
    else:
        left = f"Your ElevenLabs plan has {quota.remaining:,} of {quota.limit:,} characters left."
    if over_left:
        return (
            f"This text is {size:,} characters: more than your plan has left. {left} "
            "ElevenLabs will stop partway through. Send it anyway?"
        )
    return f"This text is {size:,} characters, billed by the character. {left} Send it?"
