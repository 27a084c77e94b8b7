import pytest

from chat_svc.domain.errors import InvalidRating
from chat_svc.domain.rating import MAX_COMMENT, check_rating


@pytest.mark.parametrize("score", [1, 3, 5])
def test_scores_from_one_to_five_are_kept_and_the_comment_trimmed(score):
    assert check_rating(score, "  thanks \n") == (score, "thanks")


@pytest.mark.parametrize("score", [0, 6, -1, True])
def test_other_scores_are_refused_naming_the_field(score):
    with pytest.raises(InvalidRating) as refused:
        check_rating(score, "")
    assert refused.value.field == "score" and refused.value.status_code == 422


def test_a_long_comment_is_refused():
    assert check_rating(5, "x" * MAX_COMMENT)[1] == "x" * MAX_COMMENT
    with pytest.raises(InvalidRating) as refused:
        check_rating(5, "x" * (MAX_COMMENT + 1))
    assert refused.value.field == "comment"
