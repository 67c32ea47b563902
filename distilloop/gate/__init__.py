"""The quality gate: it scores every answer 0-10 and says whether it passes (docs/gate.md).

    scoring.py   score_records and summarise: what every stage calls
    verdict.py   axes -> score -> pass, and the loop's accept rule (what goes to the teacher, what is trained on)
    c_code/, json_record.py, user.py, judge.py   the tasks: the built-in ones, a project's scorer, an LLM judge

This package file imports nothing, so a stage that needs only the accept rule (merge) depends on verdict.py
alone, not on every task's code.
"""
