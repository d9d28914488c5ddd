"""The URL × role sweep: every URL pattern of the project, requested with GET and POST by each
of the 41 kinds of person of the role model (anonymous, an outsider, every team role × every
session role, the guests of a session), against a table of expected statuses written from the
model; nothing may be written where the person may not write.

- world.py: the team, its workload, a session in review and one in analysis, and an object
  of every kind a URL names; the people.
- urls.py: every URL name, its class and how it is filled (a new URL fails until added).
- expected.py: per class, person and method, the statuses that are right.
- conftest.py: the world built once per module, one client per person, the write log, the
  summary line at the end of the run.
"""
