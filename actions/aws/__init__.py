"""The AWS Well-Architected Tool, both ways.

- export.py builds, from a review session, the API calls that recreate it there (a plain
  plan: the download from the session page and `push_to_aws --dry-run` print it as JSON).
- push.py runs such a plan with a boto3 client: it finds the workload by name or creates
  it, checks each question and choice against the lens in the account, and reports what has
  no counterpart.
- pull.py reads a workload from the AWS tool into one JSON document whose keys are the
  outputs of the `aws wellarchitected` commands; an upload of the same document, made with
  the CLI, goes through the same importer (importer.py).
- client.py makes the boto3 client (credentials from the standard AWS chain, the SDK's
  standard retry mode). boto3 is the optional extra `aws`: only the commands need it.
"""

# The framework lens's alias in the AWS tool; our framework lens keeps AWS's pillar, question
# and choice ids, so it maps one to one.
FRAMEWORK_ALIAS = "wellarchitected"
# AWS's limits that Pillarwise's own data can exceed.
NOTES_MAX_LENGTH = 2084
CHOICE_NOTES_MAX_LENGTH = 250
