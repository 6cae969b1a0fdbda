"""The k best passages of a large corpus, compiled: MaxScore (Turtle & Flood, 1995) over the term postings.

MaxScore, in the words of the literature: each term has an upper bound, the most it can add to a passage's score
(its highest weight times the weight it is asked with). The terms are split in two lists. The postings of the
essential terms are traversed and added to a running total per passage; the non-essential terms, whose upper
bounds add up to less than the threshold (the k-th best score so far), cannot lift a passage that has none of the
essential terms into the top k, so they are only looked up for the candidates: the passages whose total, plus
what the non-essential terms could still add, reaches the threshold. Common terms, which own most postings and add
least, start non-essential, and are moved to the essential list (the one that saves most lookups per posting first)
while the bound of the non-essential list is too close to the threshold to rule out many passages.

H. Turtle and J. Flood, "Query evaluation: strategies and optimizations", Information Processing & Management
31(6), 1995, pp. 831-850.

One compiled call per question: numpy takes a few calls per term and per step, a microsecond or more each, and at
100k passages that overhead, not the arithmetic, was most of a question's time. A score is the float64 sum of the
products Postings._add adds (the terms in another order: equal to 1e-9 relative), summed in the same order for every
passage, so equal scores stay equal and ties go to the lower passage number as in a full sort.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from numba import njit
from numba.typed import List

from .settings import SORT_COST

# Per thread: a running total per passage (left at zero between questions), the passages touched, the candidates.
_scratch = threading.local()


class _EveryTermNonEssential:
    common_share, first_candidates, non_essential_share = 1 << 62, 1, 1.0


_EVERY_TERM_NON_ESSENTIAL = _EveryTermNonEssential()


def top(
    segment, norm: np.ndarray, rows: np.ndarray, asked: np.ndarray, k: int, settings, bound_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """The k best of a bm25.Segment's passages (1 <= k <= its passages) and their scores, best first, ties to the
    lower number, for the terms in rows asked with these weights (all above 0; a term's weight in a passage is
    asked * tf / (tf + norm[passage])), pruned as settings (a bm25.MaxScoreSettings) say.

    bound_scale makes the segment's peaks upper bounds at the collection's average length (bm25.Postings).
    """
    total, touched, candidates = _buffers(segment.n_passages)
    return _top(
        segment.indptr,
        segment.passage,
        segment.tf,
        norm,
        segment.peak,
        bound_scale,
        rows.astype(np.int64),
        asked.astype(np.float64),
        k,
        segment.n_passages // settings.common_share,
        settings.first_candidates,
        settings.non_essential_share,
        total,
        touched,
        candidates,
    )


@dataclass(frozen=True)
class CompiledSegments:
    """A collection's segments as the compiled ranking takes them, made once per collection (bm25.Postings)."""

    arrays: List  # per segment: keys, indptr, passage, tf, norm, peak, deleted_df (empty when nothing is deleted)
    offsets: np.ndarray  # int64: the number of each segment's first passage in the collection
    bound_scale: np.ndarray  # float64 per segment: makes its peaks upper bounds at the collection's average length
    largest: int  # the most passages a segment has


def compiled_segments(segments, norms, deleted_df, offsets: np.ndarray, bound_scale: np.ndarray) -> CompiledSegments:
    """bm25.Segment's arrays, with each segment's norms and deleted postings per term (None: none), as ranked() takes
    them: one list of arrays read-only alike, so that one compiled call ranks any number of segments."""
    arrays = None
    for segment, norm, deleted in zip(segments, norms, deleted_df):
        item = tuple(
            _read_only(a)
            for a in (
                segment.keys,
                segment.indptr,
                segment.passage,
                segment.tf,
                norm,
                segment.peak,
                np.zeros(0, np.int32) if deleted is None else deleted,
            )
        )
        arrays = _listed(item) if arrays is None else _appended(arrays, item)
    return CompiledSegments(
        arrays,
        np.asarray(offsets, dtype=np.int64),
        np.asarray(bound_scale, dtype=np.float64),
        max([s.n_passages for s in segments], default=0),
    )


# The list made and added to by compiled code, cached as the rest is: made from Python, numba compiles the list's
# methods in every new process (about a second).
@njit(cache=True)
def _listed(item):  # pragma: no cover
    """A typed list of one item."""
    items = List()
    items.append(item)
    return items


@njit(cache=True)
def _appended(items, item):  # pragma: no cover
    """The typed list with item added."""
    items.append(item)
    return items


def _read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view (saved segments are read-only maps; one built in memory is not): one type for numba."""
    view = array.view()
    view.flags.writeable = False
    return view


def ranked(
    segments: CompiledSegments,
    n_live: int,
    hashes: np.ndarray,
    counts: np.ndarray,
    compound: np.ndarray,
    component: np.ndarray,
    folded: np.ndarray,
    as_written: np.ndarray,
    k: int,
    settings,
    k1: float,
    deleted_norm: float,
) -> tuple[np.ndarray, ...]:
    """bm25.Postings.ranked for a collection of segments, deleted passages marked by a norm of deleted_norm, in one
    compiled call: each term's document frequency in the collection and the idf it is asked for, then each segment's
    top() merged: the k best (or fewer, when deleted passages are left out) and their scores."""
    # Right after a question's analysis has emptied the processor's caches, numpy's dozen small calls per segment on
    # a few terms cost more than the lookup itself (about 50 µs at 10k passages).
    total, touched, candidates = _buffers(segments.largest)
    return _ranked(
        segments.arrays,
        segments.offsets,
        segments.bound_scale,
        float(n_live),
        hashes,
        counts,
        compound,
        component,
        folded,
        as_written,
        k,
        settings.common_share,
        settings.first_candidates,
        settings.non_essential_share,
        k1 + 1,
        deleted_norm,
        total,
        touched,
        candidates,
    )


@njit(cache=True, nogil=True)
def _ranked(  # pragma: no cover
    arrays,
    offsets,
    bound_scale,
    n_live,
    hashes,
    counts,
    compound,
    component,
    folded,
    as_written,
    k,
    common_share,
    first_candidates,
    non_essential_share,
    saturation,
    deleted_norm,
    total,
    touched,
    candidates,
):
    n_terms = len(hashes)
    rows, doc_freq = _lookup(arrays, hashes)
    term_idf = np.empty(n_terms)
    for t in range(n_terms):
        # bm25.idf, the same float operations: held by no passage, the highest idf there can be
        term_idf[t] = np.log1p((n_live - doc_freq[t] + 0.5) / (doc_freq[t] + 0.5))
    rest = np.zeros(n_terms)
    for i in range(len(compound)):
        rest[compound[i]] = max(rest[compound[i]], term_idf[component[i]])
    asked_idf = np.empty(n_terms)
    asked = np.empty(n_terms)
    for t in range(n_terms):
        asked_idf[t] = max(term_idf[t] - rest[t], 0.0)  # what the term says beyond its rarest component
        asked[t] = counts[t] * asked_idf[t] * term_idf[t] * saturation  # as Postings._ranked and _top multiply
    for i in range(len(folded)):
        # The corpus never writes the syllable so: its folded form meets other words. Its idf is still given.
        if doc_freq[as_written[i]] == 0:
            asked[folded[i]] = 0.0
    best_p, best_s, n_best = np.empty(k, dtype=np.int64), np.empty(k), 0
    for s in range(len(arrays)):
        _, indptr, passage, tf, norm, peak, _ = arrays[s]
        if not len(norm):
            continue
        asking = 0
        for t in range(n_terms):
            if doc_freq[t] > 0 and asked[t] > 0 and rows[s, t] >= 0:
                asking += 1
        segment_rows, segment_asked = np.empty(asking, dtype=np.int64), np.empty(asking)
        asking = 0
        for t in range(n_terms):
            if doc_freq[t] > 0 and asked[t] > 0 and rows[s, t] >= 0:
                segment_rows[asking], segment_asked[asking] = rows[s, t], asked[t]
                asking += 1
        numbers, scores = _top(
            indptr,
            passage,
            tf,
            norm,
            peak,
            bound_scale[s],
            segment_rows,
            segment_asked,
            min(k, len(norm)),
            len(norm) // common_share,
            first_candidates,
            non_essential_share,
            total,
            touched,
            candidates,
        )
        for i in range(len(numbers)):  # merged as a sort by score, then by number, of every segment's would
            if norm[numbers[i]] < deleted_norm:
                n_best = _keep(best_p, best_s, n_best, numbers[i] + offsets[s], scores[i])
    return doc_freq, asked_idf, best_p[:n_best], best_s[:n_best]


def doc_freq(segments: CompiledSegments, hashes: np.ndarray) -> np.ndarray:
    """How many live passages of the segments hold each term (given by bm25.term_hash)."""
    return _lookup(segments.arrays, hashes)[1]


def any_within(segments: CompiledSegments, hashes: np.ndarray, first: int, last: int) -> bool:
    """Whether a passage numbered from first to last (not included, all in one segment) holds one of the terms."""
    return _any_within(segments.arrays, segments.offsets, hashes, first, last)


@njit(cache=True, nogil=True)
def _lookup(arrays, hashes):  # pragma: no cover
    """Each term's row in each segment (-1: not there), and how many live passages hold it."""
    doc_freq = np.zeros(len(hashes), dtype=np.int64)
    rows = np.full((len(arrays), len(hashes)), -1, dtype=np.int64)
    for s in range(len(arrays)):
        keys, indptr, _, _, _, _, deleted_df = arrays[s]
        for t in range(len(hashes)):
            row = _row(keys, hashes[t])
            if row >= 0:
                rows[s, t] = row
                doc_freq[t] += indptr[row + 1] - indptr[row]
                if len(deleted_df):
                    doc_freq[t] -= deleted_df[row]
    return rows, doc_freq


@njit(cache=True, nogil=True)
def _any_within(arrays, offsets, hashes, first, last):  # pragma: no cover
    s = len(offsets) - 1
    while s > 0 and offsets[s] > first:
        s -= 1
    keys, indptr, passage, _, _, _, _ = arrays[s]
    for t in range(len(hashes)):
        row = _row(keys, hashes[t])
        if row >= 0 and indptr[row + 1] > indptr[row]:
            lo, hi = indptr[row], indptr[row + 1]
            at = _find(passage, first - offsets[s], lo, hi, _guess(passage, first - offsets[s], lo, hi))
            if at < hi and passage[at] < last - offsets[s]:
                return True
    return False


@njit(cache=True, nogil=True, inline="always")
def _row(keys, key):  # pragma: no cover
    """The row of a term's hash in a segment's sorted keys, or -1."""
    # Term hashes spread evenly over 64 bits: a hash's value says about where it is among the keys.
    row = _find(keys, key, 0, len(keys), int(key * (len(keys) / 18446744073709551616.0)))
    return row if row < len(keys) and keys[row] == key else -1


def load() -> None:
    """Compile (or load from numba's cache) the ranking now, not on the first question."""
    from .bm25 import Postings

    postings = Postings.build([["a"], ["b"]])
    segment = postings.segments[0]
    top(segment, postings.norms[0], np.zeros(1, dtype=np.int64), np.ones(1), 1, _EVERY_TERM_NON_ESSENTIAL, 1.0)
    none = np.zeros(0, dtype=np.int64)
    ranked(
        postings.compiled_segments,
        2,
        np.zeros(1, dtype=np.uint64),
        np.ones(1),
        none,
        none,
        none,
        none,
        1,
        _EVERY_TERM_NON_ESSENTIAL,
        1.5,
        1e30,
    )
    doc_freq(postings.compiled_segments, np.zeros(1, dtype=np.uint64))
    any_within(postings.compiled_segments, np.zeros(1, dtype=np.uint64), 0, 1)


def _buffers(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """This thread's zeroed totals, and room for the passages touched and for those in the running, n or more."""
    if getattr(_scratch, "n", -1) < n:
        _scratch.buffers, _scratch.n = (np.zeros(n), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)), n
    return _scratch.buffers


@njit(cache=True, nogil=True)
def _top(
    indptr,
    passage,
    tf,
    norm,
    peak,
    bound_scale,
    rows,
    asked,
    k,
    common_from,
    first_candidates,  # pragma: no cover
    non_essential_share,
    total,
    touched,
    candidates,
):
    # A term in more than common_from passages starts non-essential: looked up for the candidates, not added to the
    # totals of all the passages that hold it.
    non_essential = np.zeros(len(rows), dtype=np.bool_)
    upper_bound = np.empty(len(rows))  # the most each term can add to a passage's score
    for i in range(len(rows)):
        upper_bound[i] = asked[i] * peak[rows[i]] * bound_scale
    n_touched = 0  # passages holding an essential term: touched[:n_touched]
    for i in range(len(rows)):
        non_essential[i] = indptr[rows[i] + 1] - indptr[rows[i]] > common_from
        if not non_essential[i]:
            n_touched = _add_postings(i, indptr, passage, tf, norm, rows, asked, total, touched, n_touched)
    bound, next_essential = _non_essential_bound(indptr, upper_bound, rows, asked, non_essential)
    while n_touched < k and next_essential >= 0:  # too few passages yet to choose k first candidates from
        non_essential[next_essential] = False
        n_touched = _add_postings(next_essential, indptr, passage, tf, norm, rows, asked, total, touched, n_touched)
        bound, next_essential = _non_essential_bound(indptr, upper_bound, rows, asked, non_essential)
    threshold = 0.0
    if next_essential >= 0:
        # The threshold: the k-th best full score among the first candidates, the passages with the highest totals so
        # far. Only a passage within the non-essential bound of it can make the top k; while that would be too many,
        # move the term whose postings take most bound off, each, to the essential list.
        first_p, _, n_first = _highest(touched, n_touched, total, min(max(first_candidates, k), n_touched))
        _, best_s, _ = _best_by_full_score(
            first_p, n_first, k, total, indptr, passage, tf, norm, rows, asked, non_essential
        )
        threshold = best_s[k - 1] * (1 - 1e-9)
        while next_essential >= 0 and bound >= threshold * non_essential_share:
            non_essential[next_essential] = False
            n_touched = _add_postings(next_essential, indptr, passage, tf, norm, rows, asked, total, touched, n_touched)
            bound, next_essential = _non_essential_bound(indptr, upper_bound, rows, asked, non_essential)
    if next_essential < 0:  # every term essential: the totals are the scores
        best_p, best_s, n_best = _highest(touched, n_touched, total, k)
        p = 0
        while n_best < k:  # fewer passages hold a term than were asked for: the first others, scoring 0
            if total[p] == 0.0 and not _among(best_p, n_best, p):
                n_best = _keep(best_p, best_s, n_best, p, 0.0)
            p += 1
    else:
        best_p, best_s = _score_candidates(
            indptr,
            passage,
            tf,
            norm,
            upper_bound,
            rows,
            asked,
            non_essential,
            k,
            threshold,
            bound,
            total,
            touched,
            n_touched,
            candidates,
        )
    for h in range(n_touched):  # left at zero for the next question
        total[touched[h]] = 0.0
    return best_p, best_s


@njit(cache=True, nogil=True)
def _score_candidates(
    indptr,
    passage,
    tf,
    norm,
    upper_bound,
    rows,
    asked,
    non_essential,
    k,  # pragma: no cover
    threshold,
    bound,
    total,
    touched,
    n_touched,
    candidates,
):
    """The k best candidates and their scores: the passages within the non-essential bound of the threshold, the
    non-essential terms looked up for them."""
    # The term with the highest upper bound first: each raises the threshold and lowers what the rest can add, so
    # that fewer and fewer passages are still candidates.
    count = 0
    for h in range(n_touched):
        if total[touched[h]] >= threshold - bound:
            candidates[count] = touched[h]
            count += 1
    if count * SORT_COST < len(total):
        numbers = np.sort(candidates[:count])
    else:  # many: a scan of every total finds them in order sooner than a sort
        numbers, count = candidates[:count], 0
        for p in range(len(total)):
            if total[p] >= threshold - bound and total[p] > 0.0:
                numbers[count] = p
                count += 1
    scores = np.empty(count)
    for c in range(count):
        scores[c] = total[numbers[c]]
    bounds = np.zeros(len(rows))
    for i in range(len(rows)):
        if non_essential[i]:
            bounds[i] = upper_bound[i]
    bound_left = bound
    for i in np.argsort(-bounds):
        if not non_essential[i]:
            continue
        lo, hi = indptr[rows[i]], indptr[rows[i] + 1]
        for c in range(count):  # the passages in order: each is found from where the one before was
            lo = _find(passage, numbers[c], lo, hi, _guess(passage, numbers[c], lo, hi))
            if lo < hi and passage[lo] == numbers[c]:
                scores[c] += asked[i] * tf[lo] / (tf[lo] + norm[numbers[c]])
        bound_left -= bounds[i]
        if count > k:
            _, kth, _ = _highest(np.arange(count), count, scores, k)
            threshold = max(threshold, kth[k - 1] * (1 - 1e-9))
        kept = 0
        for c in range(count):
            if scores[c] >= threshold - bound_left:
                numbers[kept], scores[kept] = numbers[c], scores[c]
                kept += 1
        count = kept
    best_p, best_s, n_best = np.empty(k, dtype=np.int64), np.empty(k), 0
    for c in range(count):
        n_best = _keep(best_p, best_s, n_best, numbers[c], scores[c])
    return best_p, best_s


@njit(cache=True, nogil=True, inline="always")
def _find(values, x, lo, hi, at):  # pragma: no cover
    """The first position from lo to hi (not included) whose value is x or more, in sorted values."""
    # Searched from a guess at: steps that double away from it to the other side of x, then a binary search between.
    # A good guess touches a page or two of a long array where a binary search over all of it touches one per
    # halving, and right after a question's analysis every page costs a walk of the page tables.
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
    """A guess at where passage p is in a term's postings from lo to hi (a common term's spread over the corpus)."""
    first, last = passage[lo], passage[hi - 1]
    return lo + int((p - first) * ((hi - lo) / (last - first + 1))) if last > first else lo


@njit(cache=True, nogil=True)
def _non_essential_bound(indptr, upper_bound, rows, asked, non_essential):  # pragma: no cover
    """The sum of the non-essential terms' upper bounds, and the one to make essential next: the one whose postings
    take most of that off each (-1 when none is non-essential)."""
    bound, next_essential = 0.0, -1
    for i in range(len(rows)):
        if non_essential[i]:
            bound += upper_bound[i]
            if next_essential < 0 or _bound_per_posting(i, indptr, upper_bound, rows, asked) > _bound_per_posting(
                next_essential, indptr, upper_bound, rows, asked
            ):
                next_essential = i
    return bound, next_essential


@njit(cache=True, nogil=True)
def _best_by_full_score(
    numbers,
    count,
    k,
    total,
    indptr,
    passage,
    tf,
    norm,
    rows,
    asked,  # pragma: no cover
    non_essential,
):
    """The k best of numbers[:count] (k at most count) by full score, best first, their scores, and how many there
    are."""
    best_p, best_s, n_best = np.empty(k, dtype=np.int64), np.empty(k), 0
    for f in range(count):
        p = numbers[f]
        n_best = _keep(
            best_p, best_s, n_best, p, _full_score(p, total[p], indptr, passage, tf, norm, rows, asked, non_essential)
        )
    return best_p, best_s, n_best


@njit(cache=True, nogil=True, inline="always")
def _bound_per_posting(i, indptr, upper_bound, rows, asked):  # pragma: no cover
    """Term i's upper bound over the number of passages it would be added to."""
    return upper_bound[i] / (indptr[rows[i] + 1] - indptr[rows[i]])


@njit(cache=True, nogil=True, inline="always")
def _add_postings(i, indptr, passage, tf, norm, rows, asked, total, touched, n_touched):  # pragma: no cover
    """The new count of passages touched, once term i's weights are added to the totals of the passages that hold
    it."""
    # The totals and length norms of a question's passages are far apart, and out of the cache after the question's
    # analysis: read them all first, in a loop whose reads the processor runs many at a time, not one after the other
    # as in the loop below, which waits for each to say whether the passage is new (20 % off the ranking at 100k
    # passages; the norms too, 15 % more). Both are never negative: the test only keeps the compiler from dropping
    # the reads.
    ahead = 0.0
    for j in range(indptr[rows[i]], indptr[rows[i] + 1]):
        ahead += total[passage[j]] + norm[passage[j]]
    if ahead < 0:
        return n_touched
    for j in range(indptr[rows[i]], indptr[rows[i] + 1]):
        p = passage[j]
        if total[p] == 0.0:
            touched[n_touched] = p
            n_touched += 1
        total[p] += asked[i] * tf[j] / (tf[j] + norm[p])
    return n_touched


@njit(cache=True, nogil=True)
def _highest(touched, n_touched, total, count):  # pragma: no cover
    """The count passages of touched[:n_touched] with the highest totals, best first, their totals, and how many
    there are."""
    best_p = np.empty(count, dtype=np.int64)
    best_s = np.empty(count)
    n_best = 0
    for h in range(n_touched):
        p = touched[h]
        s = total[p]
        # Most fall short of the last kept: tell so here, cheaper than a call that would say it.
        if n_best < count or s > best_s[count - 1] or (s == best_s[count - 1] and p < best_p[count - 1]):
            n_best = _keep(best_p, best_s, n_best, p, s)
    return best_p, best_s, n_best


@njit(cache=True, nogil=True, inline="always")
def _full_score(p, score, indptr, passage, tf, norm, rows, asked, non_essential):  # pragma: no cover
    """Passage p's score: its total so far plus the non-essential terms' weights there, found by search."""
    for i in range(len(rows)):
        if non_essential[i]:
            lo, hi = indptr[rows[i]], indptr[rows[i] + 1]
            at = _find(passage, p, lo, hi, _guess(passage, p, lo, hi))
            if at < hi and passage[at] == p:
                score += asked[i] * tf[at] / (tf[at] + norm[p])
    return score


@njit(cache=True, nogil=True, inline="always")
def _keep(best_p, best_s, n_best, p, s):  # pragma: no cover
    """The new count of the best so far (n_best of them, best first), passage p with score s inserted."""
    at = n_best
    while at > 0 and (s > best_s[at - 1] or (s == best_s[at - 1] and p < best_p[at - 1])):
        at -= 1
    if at >= len(best_p):
        return n_best
    end = min(n_best, len(best_p) - 1)
    for i in range(end, at, -1):
        best_p[i], best_s[i] = best_p[i - 1], best_s[i - 1]
    best_p[at], best_s[at] = p, s
    return min(n_best + 1, len(best_p))


@njit(cache=True, nogil=True, inline="always")
def _among(best_p, n_best, p):  # pragma: no cover
    """Whether passage p is among the best so far."""
    for i in range(n_best):
        if best_p[i] == p:
            return True
    return False
