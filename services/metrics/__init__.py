"""The supervisor dashboard's numbers (panels), their periods, and the daily aggregates behind them (refresh).

The screens, the commands, the benchmarks and the tests import from here; modules inside services/
import from the precise submodule.
"""

from services.metrics.panels import (
    BUCKET_LABELS,
    ConfidenceDistribution,
    CorrectionSummary,
    DailyExtractionStats,
    FieldCorrections,
    ProviderCost,
    QueueHealth,
    ReviewerActivity,
    confidence_distribution,
    corrections_by_field,
    cost_by_provider,
    daily_extraction_stats,
    queue_health,
    reviewer_activity,
)
from services.metrics.period import MAX_PERIOD_DAYS, Period
from services.metrics.refresh import REFRESH_MARGIN, refresh_extraction_metrics, refresh_metrics_for_days

__all__ = [
    "BUCKET_LABELS",
    "MAX_PERIOD_DAYS",
    "REFRESH_MARGIN",
    "ConfidenceDistribution",
    "CorrectionSummary",
    "DailyExtractionStats",
    "FieldCorrections",
    "Period",
    "ProviderCost",
    "QueueHealth",
    "ReviewerActivity",
    "confidence_distribution",
    "corrections_by_field",
    "cost_by_provider",
    "daily_extraction_stats",
    "queue_health",
    "refresh_extraction_metrics",
    "refresh_metrics_for_days",
    "reviewer_activity",
]
