"""Moving a whole workload between instances (export.py, importer.py: one JSON document with
a schema version) and handing action items to a tracker (tracker.py: CSV or JSON)."""

# What the document says it is, and the one version of it this code writes and reads.
FORMAT = "pillarwise-workload"
SCHEMA_VERSION = 1
