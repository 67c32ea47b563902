"""distilloop: iterative teacher-student distillation as a DVC pipeline.

One module per DVC stage, plus the shared parts they use (params, records, tasks, teachers, student).
"""


class UserError(Exception):
    """An error the user can cause and fix (bad params, bad input, missing file or server).

    The CLI prints its message as one line and exits non-zero, without a traceback.
    """
