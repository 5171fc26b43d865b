"""Quality of what nobody reviews: QA sampling and routing, calibration of stated confidence, reviewer figures.

- ``routing``: at extraction time, whether an extraction passes its thresholds, is drawn for QA, or is
  approved automatically.
- ``calibration``: the pure statistics (confidence buckets, Wilson intervals, weighting, suggested thresholds).
- ``reports``: the queries behind ``refund-review report calibration`` and ``report reviewers``.
"""
