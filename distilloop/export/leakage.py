"""Prompts shared or near-duplicated across splits (a leakage check on the held-out splits).

Exact duplicates are found on normalised text (lower case, words and every visible character, spacing
ignored). Near-duplicates are found with MinHash over word 3-gram
shingles and locality-sensitive hashing (16 bands of 4 rows), then confirmed with the exact Jaccard
similarity, so the cost stays near-linear in the number of prompts. Shingles that a large share of the
prompts have in common (an instruction template around every profile, a fixed opener) are dropped first:
they say nothing about leakage, and left in they put most prompts into the same LSH buckets, which makes
the candidate pairs grow with the square of the prompt count.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter, defaultdict
from itertools import combinations

import numpy as np

NUM_HASHES, BANDS = 64, 16
ROWS = NUM_HASHES // BANDS
_rng = np.random.default_rng(20261121)  # fixed: the same prompts always give the same report
# multiply-shift hashing, (a * x + b) mod 2^64 then the high 32 bits, with odd 64-bit a: the uint64
# products wrap, which is what makes the 64 orders independent. (A prime modulus larger than a * x never
# wraps, and every function then takes the same smallest x as its minimum.)
_A = _rng.integers(1, 1 << 63, NUM_HASHES, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 1 << 63, NUM_HASHES, dtype=np.uint64)
_SHIFT = np.uint64(32)
# words and every other visible character: "0 * 4" and "0 + 4" are different prompts (arithmetic, code)
_WORD = re.compile(r"\w+|[^\w\s]")
MAX_EXAMPLES = 20
COMMON_SHARE, COMMON_MIN = 0.01, 50  # a shingle in more than 1% of the prompts (and 50 of them) is template


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def shingles(text: str, n: int = 3) -> set[int]:
    # whitespace-separated words, punctuation attached: as separate tokens, the brackets, commas and
    # operators of code prompts would make any two of them share most shingles
    words = text.lower().split()
    if len(words) < n:
        return {zlib.crc32(" ".join(words).encode())}
    return {zlib.crc32(" ".join(words[i : i + n]).encode()) for i in range(len(words) - n + 1)}


def _signature(hashes: set[int]) -> np.ndarray:
    x = np.fromiter(hashes, dtype=np.uint64, count=len(hashes))
    return ((np.outer(x, _A) + _B) >> _SHIFT).min(axis=0)


def report(items: list[tuple[str, str, str]], threshold: float) -> dict:
    """items: (id, split, text). Counts pairs in different splits that are identical after normalising
    (`shared_prompts`) or at least `threshold` Jaccard-similar (`near_duplicates`), with examples."""
    by_text: dict[str, list[int]] = defaultdict(list)
    for index, (_, _, text) in enumerate(items):
        by_text[normalise(text)].append(index)
    shared, examples = 0, []
    for group in by_text.values():
        for i, j in combinations(group, 2):
            if items[i][1] != items[j][1]:
                shared += 1
                if len(examples) < MAX_EXAMPLES:
                    examples.append(_example(items, i, j, 1.0))

    # One representative per distinct text; exact copies were counted above.
    reps = [group[0] for group in by_text.values()]
    sets = without_common({index: shingles(items[index][2]) for index in reps})
    buckets: dict[tuple, list[int]] = defaultdict(list)
    for index in reps:
        if not sets[index]:
            continue  # template only: nothing of its own to be near-duplicated
        signature = _signature(sets[index])
        for band in range(BANDS):
            buckets[(band, signature[band * ROWS : (band + 1) * ROWS].tobytes())].append(index)
    candidates = set()
    for members in buckets.values():
        if len(members) > 1:
            candidates.update(combinations(sorted(members), 2))
    near = 0
    for i, j in sorted(candidates):
        if items[i][1] == items[j][1]:
            continue
        a, b = sets[i], sets[j]
        similarity = len(a & b) / len(a | b)
        if similarity >= threshold:
            near += 1
            if len(examples) < MAX_EXAMPLES:
                examples.append(_example(items, i, j, similarity))
    return {
        "shared_prompts": shared,
        "near_duplicates": near,
        "threshold": threshold,
        "candidate_pairs": len(candidates),
        "examples": examples,
    }


def without_common(sets: dict[int, set[int]]) -> dict[int, set[int]]:
    """The shingle sets without the shingles common to more than COMMON_SHARE of them."""
    frequency = Counter(shingle for shingle_set in sets.values() for shingle in shingle_set)
    limit = max(COMMON_MIN, COMMON_SHARE * len(sets))
    common = {shingle for shingle, count in frequency.items() if count > limit}
    return {index: shingle_set - common for index, shingle_set in sets.items()} if common else sets


def _example(items, i, j, similarity: float) -> dict:
    return {
        "a": items[i][0],
        "a_split": items[i][1],
        "b": items[j][0],
        "b_split": items[j][1],
        "similarity": round(similarity, 3),
    }
