"""The customer's rating of a finished chat: a score of 1 to 5 and an optional comment."""

from dataclasses import dataclass
from datetime import datetime

from chat_svc.domain.errors import InvalidRating

MIN_SCORE = 1
MAX_SCORE = 5
MAX_COMMENT = 1000


@dataclass(frozen=True)
class Rating:
    session_id: str
    score: int
    comment: str
    rated_at: datetime


def check_rating(score: int, comment: str) -> tuple[int, str]:
    """The score and the trimmed comment, or a refusal naming the field at fault."""
    if isinstance(score, bool) or not MIN_SCORE <= score <= MAX_SCORE:
        raise InvalidRating(f"the score is a whole number from {MIN_SCORE} to {MAX_SCORE}", field="score")
    text = comment.strip()
    if len(text) > MAX_COMMENT:
        raise InvalidRating(f"the comment has at most {MAX_COMMENT} characters", field="comment")
    return score, text
