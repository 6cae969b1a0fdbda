"""The short-answer span scorer's weights (qa.short_answer.FEATURES, in order), its bias and confidence
threshold, made by bench/train_short_answer.py; not edited by hand. Made with:

    ./.venv/bin/python bench/train_short_answer.py ../shared/data/xquad-vi/xquad.vi.json
"""

FEATURES = (
    "asks person",
    "asks number",
    "asks time",
    "asks place",
    "asks name",
    "asks thing",
    "slot for person",
    "slot for number",
    "slot for time",
    "slot for place",
    "slot for name",
    "slot for thing",
    "in the slot",
    "slot's anchor",
    "anchor of two",
    "gap",
    "touches",
    "only candidate",
    "candidates",
    "nearest",
    "held",
    "repeats",
    "length",
    "one word",
    "after là",
    "after locative",
    "marked",
    "fits",
    "matched near",
)
WEIGHTS = (
    -0.3001,  # asks person
    -0.0822,  # asks number
    0.6682,  # asks time
    -0.3031,  # asks place
    -0.4939,  # asks name
    0.5111,  # asks thing
    -0.6428,  # slot for person
    0.3796,  # slot for number
    -1.1728,  # slot for time
    0.1038,  # slot for place
    0.9421,  # slot for name
    0.5111,  # slot for thing
    0.2609,  # in the slot
    1.1790,  # slot's anchor
    0.1651,  # anchor of two
    -0.6562,  # gap
    -0.2987,  # touches
    -0.0213,  # only candidate
    1.9115,  # candidates
    0.6588,  # nearest
    0.3938,  # held
    -0.2118,  # repeats
    0.2907,  # length
    -0.7457,  # one word
    0.2707,  # after là
    0.0579,  # after locative
    -0.6408,  # marked
    0.5319,  # fits
    0.6398,  # matched near
)
BIAS = -1.8235
THRESHOLD = 0.289136
