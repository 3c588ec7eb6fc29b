"""Attack-class cases of issue 9 (pdf); called by make_corpus.py with its own module as `mc`."""


def make(mc, made_with):
    pass
