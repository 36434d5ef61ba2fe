"""A module whose import fails, as one with a missing dependency does."""

import no_such_dependency_of_this_model  # noqa: F401


def process(frame):
    return None
