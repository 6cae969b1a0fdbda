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
    -0.3259,  # asks person
    -0.0899,  # asks number
    0.5962,  # asks time
    -0.3264,  # asks place
    -0.4041,  # asks name
    0.5501,  # asks thing
    -0.5844,  # slot for person
    0.4750,  # slot for number
    -1.0298,  # slot for time
    0.1763,  # slot for place
    0.9382,  # slot for name
    0.5501,  # slot for thing
    0.2052,  # in the slot
    1.1435,  # slot's anchor
    0.1971,  # anchor of two
    -0.6505,  # gap
    -0.3675,  # touches
    -0.1923,  # only candidate
    2.1855,  # candidates
    0.7063,  # nearest
    0.3933,  # held
    -0.2068,  # repeats
    0.3555,  # length
    -0.8030,  # one word
    0.3378,  # after là
    0.0966,  # after locative
    -0.6857,  # marked
    0.5633,  # fits
    0.6722,  # matched near
)
BIAS = -1.8646
THRESHOLD = 0.287359
