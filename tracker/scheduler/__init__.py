"""The scheduler: the schedule as data (:mod:`.jobs`, stable job ids) and the process that runs it
(:mod:`.process`: APScheduler, exactly one active process elected through a database lock).

It sits above the services it calls (reminders, bulletins); nothing below imports it.
"""
