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
    -0.3227,  # asks person
    -0.0763,  # asks number
    0.6705,  # asks time
    -0.3004,  # asks place
    -0.4954,  # asks name
    0.5244,  # asks thing
    -0.6208,  # slot for person
    0.4080,  # slot for number
    -1.1486,  # slot for time
    0.1238,  # slot for place
    0.9763,  # slot for name
    0.5244,  # slot for thing
    0.2413,  # in the slot
    1.1813,  # slot's anchor
    0.1647,  # anchor of two
    -0.6567,  # gap
    -0.3342,  # touches
    -0.0101,  # only candidate
    1.8812,  # candidates
    0.7000,  # nearest
    0.3842,  # held
    -0.1971,  # repeats
    0.2972,  # length
    -0.7644,  # one word
    0.2445,  # after là
    0.0458,  # after locative
    -0.6697,  # marked
    0.5418,  # fits
    0.6401,  # matched near
)
BIAS = -1.7979
THRESHOLD = 0.286926
