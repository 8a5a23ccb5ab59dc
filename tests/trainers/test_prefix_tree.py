"""The prefix tree stores each distinct prefix once and gives every row back exactly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from callgym.trainers.prefix_tree import IGNORE, attention_allowed, build_tree

# Rows over a tiny alphabet, so that prefixes are shared often; counted flags random.
rows_strategy = st.lists(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1)), min_size=1, max_size=8), min_size=1, max_size=6
)


def _split(raw) -> tuple[list[list[int]], list[list[int]]]:
    return [[token for token, _ in row] for row in raw], [[flag for _, flag in row] for row in raw]


def _path(tree, slot: int) -> list[int]:
    """The slots slot ``slot`` attends to, in order: its path from the root."""
    return [j for j in range(slot + 1) if j <= slot < tree.ends[j]]


@settings(max_examples=300, deadline=None)
@given(rows_strategy)
def test_every_counted_token_is_read_from_a_slot_on_its_own_path(raw):
    rows, counted = _split(raw)
    tree = build_tree(rows, counted)
    assert len(tree.index) == len(rows)
    for row, flags, index in zip(rows, counted, tree.index, strict=True):
        assert len(index) == len(row) - 1
        for t, slot in enumerate(index):
            if not flags[t + 1]:
                assert slot == -1
                continue
            assert tree.labels[slot] == row[t + 1]  # the slot predicts this row's next token
            path = _path(tree, slot)
            assert [tree.ids[j] for j in path] == row[: t + 1]  # and sees exactly this row's prefix
            assert [tree.positions[j] for j in path] == list(range(t + 1))


@settings(max_examples=200, deadline=None)
@given(rows_strategy)
def test_the_tree_is_never_bigger_than_the_rows(raw):
    rows, counted = _split(raw)
    tree = build_tree(rows, counted)
    assert len(tree) <= sum(len(r) for r in rows)
    assert all(label == IGNORE or label >= 0 for label in tree.labels)


def test_a_shared_prompt_is_stored_once():
    prompt = list(range(100))
    rows = [prompt + [200, 201], prompt + [300], prompt + [200, 202]]
    counted = [[0] * 100 + [1] * (len(r) - 100) for r in rows]
    tree = build_tree(rows, counted)
    # the prompt once, 200 once, a twin of 200 for 202's label, a twin of the prompt's end for 300's;
    # 201, 202 and 300 end their rows: nothing reads their hidden state, they need no slot
    assert len(tree) == 100 + 3
    assert tree.labels[99:] == [200, 201, 202, 300]
    allowed = attention_allowed(tree.ends)
    assert allowed[102][98] and not allowed[102][99]  # a twin sees the path, not the token it copies
    assert allowed[101][99] and not allowed[101][100]


def test_rows_that_count_the_same_tokens_differently_do_not_share_them():
    tree = build_tree([[1, 2, 3], [1, 2, 3]], [[0, 1, 1], [0, 0, 1]])
    assert tree.index[0] != tree.index[1] and tree.index[1][0] == -1
