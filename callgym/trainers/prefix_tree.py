"""Pack token sequences that share prefixes into one prefix tree, each distinct prefix once.

A batch of training sequences (DPO's prompt+chosen and prompt+rejected rows, SFT's chains)
repeats most of its tokens: the system prompt of every row, the prompt of both sides of a
pair, a chosen chain in every pair it belongs to. :func:`build_tree` stores each distinct
prefix once, as a node of a trie, laid out in depth-first order so that a node's subtree is
the slots ``[slot, end)``. A model then runs over the slots once, each slot attending to its
own path from the root (:func:`attention_allowed`), at its depth as position id, and computes
the same hidden state it would in its own row.

The log-probability of a row's token t+1 comes from the hidden state of its token t. One slot
has one label, but a node whose counted children differ (the prompt's last token, followed
by the chosen and the rejected chain) must predict several tokens; each child after the
first gets a *twin* of the node: the same token at the same depth, a leaf beside it that sees
the same path, so it computes the same hidden state and can carry the other label.

Counted tokens (those the loss sums) are part of a node's identity, so two rows that share
tokens but count them differently branch, and every row reads back exactly its own values.

>>> tree = build_tree([[1, 2, 3], [1, 2, 4]], [[0, 0, 1], [0, 0, 1]])
>>> tree.ids, tree.positions, tree.labels
([1, 2, 2], [0, 1, 1], [-100, 3, 4])
>>> tree.index     # slot holding the label of each row's next token (-1: not counted)
[[-1, 1], [-1, 2]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

IGNORE = -100  # the label transformers and TRL skip


@dataclass
class PrefixTree:
    """A batch of rows packed as a prefix tree, in depth-first slot order.

    Attributes:
        ids: token of each slot.
        positions: depth of each slot in its row (its position id).
        ends: end (exclusive) of each slot's subtree: slot j is on the path of slot i iff
            ``j <= i < ends[j]``.
        labels: the next token a slot's hidden state is scored against, or ``IGNORE``.
        index: per row, per position t < len(row) - 1, the slot whose label is the row's
            token t+1, or -1 when that token is not counted.
    """

    ids: list[int] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    index: list[list[int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class _Node:
    token: int
    parent: int  # -1 for a root
    children: list[int] = field(default_factory=list)


class _Trie:
    """Nodes keyed by (parent, token, counted); twins added where a node predicts several tokens."""

    def __init__(self) -> None:
        self.nodes: list[_Node] = []
        self._child: dict[tuple[int, int, bool], int] = {}
        self.label_node: dict[tuple[int, int], int] = {}  # (node, child) -> node carrying that label

    def insert(self, row: Sequence[int], counted: Sequence[int]) -> list[int]:
        """Add a row; return the node of each of its tokens."""
        path, parent = [], -1
        for token, flag in zip(row, counted, strict=True):
            key = (parent, int(token), bool(flag))
            node = self._child.get(key)
            if node is None:
                node = self._child[key] = self._new(int(token), parent)
            path.append(node)
            parent = node
        return path

    def _new(self, token: int, parent: int) -> int:
        self.nodes.append(_Node(token, parent))
        if parent >= 0:
            self.nodes[parent].children.append(len(self.nodes) - 1)
        return len(self.nodes) - 1

    def add_twins(self, counted_children: dict[int, list[int]]) -> None:
        """Give each node one slot per counted child: itself for the first, a twin for the others."""
        for node, children in counted_children.items():
            self.label_node[(node, children[0])] = node
            for child in children[1:]:
                self.label_node[(node, child)] = self._new(self.nodes[node].token, self.nodes[node].parent)

    def roots(self) -> list[int]:
        return [n for n, node in enumerate(self.nodes) if node.parent < 0]


def build_tree(rows: Sequence[Sequence[int]], counted: Sequence[Sequence[int]]) -> PrefixTree:
    """Pack ``rows`` of token ids; ``counted[r][t]`` says whether row r's token t is scored.

    A row's first token is never scored (nothing predicts it), as in an unpacked forward.
    """
    if len(rows) != len(counted):
        raise ValueError(f"{len(rows)} rows but {len(counted)} counted masks")
    trie = _Trie()
    paths = [trie.insert(row, flags) for row, flags in zip(rows, counted, strict=True)]
    trie.add_twins(_counted_children(paths, counted))
    tree, slot_of = _layout(trie, _needed(trie))
    for (node, child), carrier in trie.label_node.items():
        tree.labels[slot_of[carrier]] = trie.nodes[child].token
    for path, flags in zip(paths, counted, strict=True):
        tree.index.append(
            [
                slot_of[trie.label_node[(path[t], path[t + 1])]] if flags[t + 1] else -1
                for t in range(len(path) - 1)
            ]
        )
    return tree


def _counted_children(paths: list[list[int]], counted: Sequence[Sequence[int]]) -> dict[int, list[int]]:
    """For each node, its distinct children whose token some row counts, in first-seen order."""
    children: dict[int, list[int]] = {}
    for path, flags in zip(paths, counted, strict=True):
        for t in range(len(path) - 1):
            if flags[t + 1]:
                seen = children.setdefault(path[t], [])
                if path[t + 1] not in seen:
                    seen.append(path[t + 1])
    return children


def _needed(trie: _Trie) -> list[bool]:
    """Nodes that carry a label or lead to one; the rest (a row's last tokens) need no slot."""
    needed = [False] * len(trie.nodes)
    for carrier in trie.label_node.values():
        needed[carrier] = True
    for n in range(len(trie.nodes) - 1, -1, -1):  # a child always comes after its parent
        if needed[n] and trie.nodes[n].parent >= 0:
            needed[trie.nodes[n].parent] = True
    return needed


def _layout(trie: _Trie, needed: list[bool]) -> tuple[PrefixTree, dict[int, int]]:
    """Depth-first slots of the needed nodes, with depths and subtree ends."""
    tree = PrefixTree()
    slot_of: dict[int, int] = {}
    stack = [(root, 0) for root in reversed(trie.roots()) if needed[root]]
    while stack:
        node, depth = stack.pop()
        if node < 0:  # a marker: the subtree of ~node is complete
            tree.ends[slot_of[~node]] = len(tree.ids)
            continue
        slot_of[node] = len(tree.ids)
        tree.ids.append(trie.nodes[node].token)
        tree.positions.append(depth)
        tree.ends.append(-1)
        tree.labels.append(IGNORE)
        stack.append((~node, depth))
        stack.extend((c, depth + 1) for c in reversed(trie.nodes[node].children) if needed[c])
    return tree, slot_of


def attention_allowed(ends: Sequence[int]) -> list[list[bool]]:
    """``allowed[i][j]``: slot i sees slot j (j is on i's path). For tests; torch builds it vectorised."""
    n = len(ends)
    return [[j <= i < ends[j] for j in range(n)] for i in range(n)]
