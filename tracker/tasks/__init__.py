"""The task core: the rules about a task that every feature asks, below web, API, CLI, scheduler and exports.

- :mod:`.periods` — reporting periods (月 / 季 / 年), pure;
- :mod:`.workdays` — Chinese working days (statutory holidays, 调休, local overrides), pure;
- :mod:`.due` — the one due rule: when a period's report is requested, due and chased, and which
  period a department owes; pure;
- :mod:`.duties` — what each role owes (report, consolidated 落实 report, acknowledgement), pure;
- :mod:`.lights` — the warning light, pure;
- :mod:`.state` — a plan's state as leaders see it (lights, expected reports, who is missing);
- :mod:`.queries` — lookups and edits shared by every feature (the city's working days).

Nothing here reads a request or ``current_app``: callers pass ``today``, the rule settings and the calendar.
"""
