"""The k best passages of a large corpus, compiled: MaxScore over the term postings in one call a question.

numpy takes a few calls per term and per step, a microsecond or more each: at 100k passages that overhead, not
the arithmetic, was most of a question's time. A score is the float64 sum of the products Postings._add adds
(the terms in another order: equal to 1e-9 relative), summed in the same order for every passage, so equal scores
stay equal and ties go to the lower passage number as in a full sort.
"""
from __future__ import annotations

import threading

import numpy as np
from numba import njit

# The likely answers scored in full first (k of them at least): their k-th best score is the bar the rest must
# reach. More cost more lookups than they save (4-32 tried at 100k passages: 4 and 8 fastest, 8 with the shorter
# tail).
LIKELY = 8
# Terms are looked up only while all they can add is less than this share of the bar (at most 1: a passage with
# none of the added terms must not be able to reach it); past it, so many passages would be in the running that
# adding a term to all that hold it costs less. 0.5-1 measured at 100k passages, top 3, 5 and 10: 0.8.
REACH = 0.8
# Sorting the passages in the running costs about as much as scanning this many totals, each.
SORT_COST = 16

_scratch = threading.local()  # per thread: a running total per passage (left at zero), passages touched, in the running


def top(postings, rows: np.ndarray, asked: np.ndarray, k: int, common_from: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best of a Postings' passages (1 <= k <= its passages), best first, ties to the lower number, and
    their scores, for the terms in rows asked with these weights (all above 0).

    A term in more than common_from passages is common: looked up for the passages that can still make the top k,
    not added to all that hold it.
    """
    total, touched, candidates = _buffers(postings.n_passages)
    return _top(postings.indptr, postings.passage, postings.weight, postings.peak, rows.astype(np.int64),
                asked.astype(np.float64), k, common_from, LIKELY, REACH, total, touched, candidates)


def ranked(postings, hashes: np.ndarray, counts: np.ndarray, whole: np.ndarray, part: np.ndarray, k: int,
           common_from: int) -> tuple[np.ndarray, ...]:
    """Postings.ranked in one call: the terms (given as bm25.term_hash keys) looked up and weighed (a term whole[i]
    by the idf it adds to its rarest part part[i]), then top(). Returns each term's row and the idf it is asked for."""
    total, touched, candidates = _buffers(postings.n_passages)
    return _ranked(postings.keys, postings.idf, postings.unseen_idf, hashes, counts, whole, part, postings.indptr,
                   postings.passage, postings.weight, postings.peak, k, common_from, LIKELY, REACH, total, touched,
                   candidates)


@njit(cache=True, nogil=True)
def _ranked(keys, idf, unseen_idf, hashes, counts, whole, part, indptr, passage, weight, peak, k,  # pragma: no cover
            common_from, likely, within_reach, total, touched, candidates):
    rows = np.empty(len(hashes), dtype=np.int64)
    rarity = np.empty(len(hashes))
    for t in range(len(hashes)):
        # Term hashes spread evenly over 64 bits: a hash's value says about where it is among the keys.
        rows[t] = _find(keys, hashes[t], 0, len(keys), int(hashes[t] * (len(keys) / 18446744073709551616.0)))
        if rows[t] < len(keys) and keys[rows[t]] == hashes[t]:
            rarity[t] = idf[rows[t]]
        else:
            rows[t], rarity[t] = -1, unseen_idf
    rest = np.zeros(len(hashes))
    for i in range(len(whole)):
        rest[whole[i]] = max(rest[whole[i]], rarity[part[i]])
    asking = 0
    for t in range(len(hashes)):
        rarity[t] = max(rarity[t] - rest[t], 0.0)  # what the term says beyond its rarest part
        if rows[t] >= 0 and rarity[t] > 0:
            asking += 1
    asked_rows, asked = np.empty(asking, dtype=np.int64), np.empty(asking)
    asking = 0
    for t in range(len(hashes)):
        if rows[t] >= 0 and rarity[t] > 0:
            asked_rows[asking], asked[asking] = rows[t], counts[t] * rarity[t]
            asking += 1
    best_p, best_s = _top(indptr, passage, weight, peak, asked_rows, asked, k, common_from, likely, within_reach,
                          total, touched, candidates)
    return rows, rarity, best_p, best_s


def _buffers(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """This thread's zeroed totals, and room for the passages touched and for those in the running, n or more."""
    if getattr(_scratch, "n", -1) < n:
        _scratch.buffers, _scratch.n = (np.zeros(n), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)), n
    return _scratch.buffers


@njit(cache=True, nogil=True)
def _top(indptr, passage, weight, peak, rows, asked, k, common_from, likely, within_reach,  # pragma: no cover
         total, touched, candidates):
    looked = np.zeros(len(rows), dtype=np.bool_)  # looked up for the passages in the running, not added
    held = 0  # passages holding an added term: touched[:held]
    for i in range(len(rows)):
        looked[i] = indptr[rows[i] + 1] - indptr[rows[i]] > common_from
        if not looked[i]:
            held = _add(i, indptr, passage, weight, rows, asked, total, touched, held)
    reach, cheapest = _reach(indptr, peak, rows, asked, looked)
    while held < k and cheapest >= 0:  # too few passages yet to choose k likely answers from
        looked[cheapest] = False
        held = _add(cheapest, indptr, passage, weight, rows, asked, total, touched, held)
        reach, cheapest = _reach(indptr, peak, rows, asked, looked)
    bar = 0.0
    if cheapest >= 0:
        # The bar: the k-th best full score among the likely answers, the passages with the highest totals so far.
        # Only a passage within reach of it (the most the looked-up terms can add) can make the top k; while that
        # would be too many, add the term whose postings take most reach off, each.
        first_p, _, firsts = _highest(touched, held, total, min(max(likely, k), held))
        _, best_s, _ = _scored(first_p, firsts, k, total, indptr, passage, weight, rows, asked, looked)
        bar = best_s[k - 1] * (1 - 1e-9)
        while cheapest >= 0 and reach >= bar * within_reach:
            looked[cheapest] = False
            held = _add(cheapest, indptr, passage, weight, rows, asked, total, touched, held)
            reach, cheapest = _reach(indptr, peak, rows, asked, looked)
    if cheapest < 0:  # every term added: the totals are the scores
        best_p, best_s, found = _highest(touched, held, total, k)
        p = 0
        while found < k:  # fewer passages hold a term than were asked for: the first others, scoring 0
            if total[p] == 0.0 and not _among(best_p, found, p):
                found = _keep(best_p, best_s, found, p, 0.0)
            p += 1
    else:
        best_p, best_s = _looked_up(indptr, passage, weight, peak, rows, asked, looked, k, bar, reach, total, touched,
                                    held, candidates)
    for h in range(held):  # left at zero for the next question
        total[touched[h]] = 0.0
    return best_p, best_s


@njit(cache=True, nogil=True)
def _looked_up(indptr, passage, weight, peak, rows, asked, looked, k, bar, reach, total, touched,  # pragma: no cover
               held, candidates):
    """The k best of the passages within reach of the bar, the looked-up terms added, the one that can add most
    first: each raises the bar and lowers what the rest can add, so that fewer and fewer are still in the running."""
    count = 0
    for h in range(held):
        if total[touched[h]] >= bar - reach:
            candidates[count] = touched[h]
            count += 1
    if count * SORT_COST < len(total):
        numbers = np.sort(candidates[:count])
    else:  # many: a scan of every total finds them in order sooner than a sort
        numbers, count = candidates[:count], 0
        for p in range(len(total)):
            if total[p] >= bar - reach and total[p] > 0.0:
                numbers[count] = p
                count += 1
    scores = np.empty(count)
    for c in range(count):
        scores[c] = total[numbers[c]]
    bounds = np.zeros(len(rows))
    for i in range(len(rows)):
        if looked[i]:
            bounds[i] = asked[i] * peak[rows[i]]
    left = reach
    for i in np.argsort(-bounds):
        if not looked[i]:
            continue
        lo, hi = indptr[rows[i]], indptr[rows[i] + 1]
        for c in range(count):  # the passages in order: each is found from where the one before was
            lo = _find(passage, numbers[c], lo, hi, _guess(passage, numbers[c], lo, hi))
            if lo < hi and passage[lo] == numbers[c]:
                scores[c] += asked[i] * weight[lo]
        left -= bounds[i]
        if count > k:
            _, kth, _ = _highest(np.arange(count), count, scores, k)
            bar = max(bar, kth[k - 1] * (1 - 1e-9))
        kept = 0
        for c in range(count):
            if scores[c] >= bar - left:
                numbers[kept], scores[kept] = numbers[c], scores[c]
                kept += 1
        count = kept
    best_p, best_s, found = np.empty(k, dtype=np.int64), np.empty(k), 0
    for c in range(count):
        found = _keep(best_p, best_s, found, numbers[c], scores[c])
    return best_p, best_s


@njit(cache=True, nogil=True, inline="always")
def _find(values, x, lo, hi, at):  # pragma: no cover
    """The first position from lo to hi (not included) whose value is x or more, in sorted values, searched from a
    guess at: steps that double away from it to the other side of x, then a binary search between. A good guess
    touches a page or two of a long array where a binary search over all of it touches one per halving, and right
    after a question's analysis every page costs a walk of the page tables."""
    at, step = min(max(at, lo), hi - 1), 1
    if at < lo:  # nothing between lo and hi
        return lo
    if values[at] < x:  # x goes after at
        lo = at + 1
        while lo + step - 1 < hi and values[lo + step - 1] < x:
            lo += step
            step *= 2
        hi = min(lo + step - 1, hi)
    else:  # x goes at at or before it
        hi = at
        while hi - step >= lo and values[hi - step] >= x:
            hi -= step
            step *= 2
        lo = max(hi - step + 1, lo)
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True, inline="always")
def _guess(passage, p, lo, hi):  # pragma: no cover
    """About where passage p is in a term's postings from lo to hi: a common term's passages spread over the corpus."""
    first, last = passage[lo], passage[hi - 1]
    return lo + int((p - first) * ((hi - lo) / (last - first + 1))) if last > first else lo


@njit(cache=True, nogil=True)
def _reach(indptr, peak, rows, asked, looked):  # pragma: no cover
    """The most the looked-up terms can add to a passage, and the one whose postings take most of that off each
    (-1 when none is looked up)."""
    reach, cheapest = 0.0, -1
    for i in range(len(rows)):
        if looked[i]:
            reach += asked[i] * peak[rows[i]]
            if cheapest < 0 or _reach_per_posting(i, indptr, peak, rows, asked) > \
                    _reach_per_posting(cheapest, indptr, peak, rows, asked):
                cheapest = i
    return reach, cheapest


@njit(cache=True, nogil=True)
def _scored(numbers, count, k, total, indptr, passage, weight, rows, asked, looked):  # pragma: no cover
    """The k best of numbers[:count] (k at most count) by full score, best first, and how many there are."""
    best_p, best_s, found = np.empty(k, dtype=np.int64), np.empty(k), 0
    for f in range(count):
        p = numbers[f]
        found = _keep(best_p, best_s, found, p, _full(p, total[p], indptr, passage, weight, rows, asked, looked))
    return best_p, best_s, found


@njit(cache=True, nogil=True, inline="always")
def _reach_per_posting(i, indptr, peak, rows, asked):  # pragma: no cover
    """The most term i can add to a passage, over the number of passages it would be added to."""
    return asked[i] * peak[rows[i]] / (indptr[rows[i] + 1] - indptr[rows[i]])


@njit(cache=True, nogil=True, inline="always")
def _add(i, indptr, passage, weight, rows, asked, total, touched, held):  # pragma: no cover
    """Add term i's weights to the totals of the passages that hold it; the new count of passages touched."""
    # The totals of a question's passages are far apart, and out of the cache after the question's analysis: read
    # them all first, in a loop whose reads the processor runs many at a time, not one after the other as in the
    # loop below, which waits for each to say whether the passage is new (20 % off the ranking at 100k passages).
    # Totals are never negative: the test only keeps the compiler from dropping the reads.
    ahead = 0.0
    for j in range(indptr[rows[i]], indptr[rows[i] + 1]):
        ahead += total[passage[j]]
    if ahead < 0:
        return held
    for j in range(indptr[rows[i]], indptr[rows[i] + 1]):
        p = passage[j]
        if total[p] == 0.0:
            touched[held] = p
            held += 1
        total[p] += asked[i] * weight[j]
    return held


@njit(cache=True, nogil=True)
def _highest(touched, held, total, count):  # pragma: no cover
    """The count passages of touched[:held] with the highest total, best first, and how many there are."""
    best_p = np.empty(count, dtype=np.int64)
    best_s = np.empty(count)
    found = 0
    for h in range(held):
        p = touched[h]
        s = total[p]
        # Most fall short of the last kept: tell so here, cheaper than a call that would say it.
        if found < count or s > best_s[count - 1] or (s == best_s[count - 1] and p < best_p[count - 1]):
            found = _keep(best_p, best_s, found, p, s)
    return best_p, best_s, found


@njit(cache=True, nogil=True, inline="always")
def _full(p, score, indptr, passage, weight, rows, asked, looked):  # pragma: no cover
    """Passage p's score: its total so far plus the looked-up terms' weights there, found by binary search."""
    for i in range(len(rows)):
        if looked[i]:
            lo, hi = indptr[rows[i]], indptr[rows[i] + 1]
            at = _find(passage, p, lo, hi, _guess(passage, p, lo, hi))
            if at < hi and passage[at] == p:
                score += asked[i] * weight[at]
    return score


@njit(cache=True, nogil=True, inline="always")
def _keep(best_p, best_s, found, p, s):  # pragma: no cover
    """Insert passage p with score s into the best so far (found of them, best first); the new count."""
    at = found
    while at > 0 and (s > best_s[at - 1] or (s == best_s[at - 1] and p < best_p[at - 1])):
        at -= 1
    if at >= len(best_p):
        return found
    end = min(found, len(best_p) - 1)
    for i in range(end, at, -1):
        best_p[i], best_s[i] = best_p[i - 1], best_s[i - 1]
    best_p[at], best_s[at] = p, s
    return min(found + 1, len(best_p))


@njit(cache=True, nogil=True, inline="always")
def _among(best_p, found, p):  # pragma: no cover
    """Whether passage p is among the best so far."""
    for i in range(found):
        if best_p[i] == p:
            return True
    return False
