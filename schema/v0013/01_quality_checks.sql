-- Version 0013: quality checks — the queue places a QA sample by a neutral key, not by its confidence.

-- A pending QA sample shows "QA" instead of its confidence, but the queue is ordered by the weakest
-- field's confidence: its place among the others would give the hidden figure away. Each extraction
-- draws a random key (0-99) when it is made; a QA sample is ranked by that key, every other extraction
-- by its weakest field. The rank copies the generation expression of min_confidence in force, so that
-- a version that adds a field to min_confidence before this one is followed, not overwritten.
ALTER TABLE extractions ADD COLUMN queue_key smallint NOT NULL DEFAULT (floor(random() * 100))::smallint;

DO $$
DECLARE
    weakest text;
BEGIN
    SELECT pg_get_expr(d.adbin, d.adrelid) INTO STRICT weakest
      FROM pg_attrdef d
      JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
     WHERE d.adrelid = 'extractions'::regclass AND a.attname = 'min_confidence';
    EXECUTE format(
        'ALTER TABLE extractions ADD COLUMN queue_rank smallint GENERATED ALWAYS AS '
        '(CASE WHEN qa_sample THEN queue_key ELSE %s END) STORED', weakest);
END
$$;

-- The queue's pages and claims walk this order (services/review/queue.py QUEUE_ORDER); the queue
-- health panel keeps reading extractions_queue_idx by the weakest field.
CREATE INDEX extractions_rank_queue_idx ON extractions (queue_rank, extracted_at, id) WHERE status = 'pending';
DROP INDEX extractions_provider_queue_idx;
CREATE INDEX extractions_provider_queue_idx ON extractions (llm_provider, queue_rank, extracted_at, id)
    WHERE status = 'pending';

-- A provider may have thresholds of its own (services/system_settings.py checked_field_thresholds); the
-- older form, field names only, keeps its meaning.
UPDATE system_config
   SET description = 'Confidence threshold per field, 0-100, for every provider ({"gap_insurance_premium": 85}) or for one provider ({"anthropic": {"gap_insurance_premium": 90}}); a provider''s own entry wins over the field''s, and a field not named uses confidence_threshold.'
 WHERE key = 'field_thresholds';

-- The queue's counts compare each field with its provider's threshold: the routing index holds the
-- provider too, so they stay index-only scans. Rebuilt from its definition in force, which a version
-- before this one may have widened with more fields.
DO $$
DECLARE
    definition text := pg_get_indexdef('extractions_routing_idx'::regclass);
BEGIN
    IF position('INCLUDE (' IN definition) = 0 THEN
        RAISE EXCEPTION 'extractions_routing_idx has no INCLUDE list: %', definition;
    END IF;
    DROP INDEX extractions_routing_idx;
    EXECUTE replace(definition, 'INCLUDE (', 'INCLUDE (llm_provider, ');
END
$$;

-- Double checks of QA items: a share (qa_double_check_rate) of decided QA samples goes back to the
-- queue once, for a second reviewer who is not the first, and who sees neither the confidence nor the
-- first decision until they decide. Both decisions are kept here; agreement between them is the
-- reviewer report's measure. One per extraction run (extracted_at): a re-extraction may be checked again.
CREATE TABLE qa_double_checks (
    id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    extraction_id        uuid        NOT NULL REFERENCES extractions(id) ON DELETE CASCADE,
    extracted_at         timestamptz NOT NULL,
    first_reviewer       uuid        NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
    first_decision       text        NOT NULL,
    -- Every field's value as the first reviewer left it (text, as corrections keep values).
    first_values         jsonb       NOT NULL,
    first_review_seconds integer,
    first_decided_at     timestamptz NOT NULL DEFAULT now(),
    second_reviewer      uuid        REFERENCES users(id) ON DELETE RESTRICT,
    second_decision      text,
    second_values        jsonb,
    second_decided_at    timestamptz,
    CONSTRAINT qa_double_checks_once UNIQUE (extraction_id, extracted_at),
    CONSTRAINT qa_double_checks_decisions_valid CHECK (
        first_decision IN ('approved', 'rejected') AND second_decision IN ('approved', 'rejected')),
    CONSTRAINT qa_double_checks_two_people CHECK (second_reviewer <> first_reviewer),
    CONSTRAINT qa_double_checks_second_whole CHECK (
        (second_reviewer IS NULL) = (second_decision IS NULL)
        AND (second_decision IS NULL) = (second_values IS NULL)
        AND (second_decision IS NULL) = (second_decided_at IS NULL))
);
CREATE INDEX qa_double_checks_first_reviewer_idx ON qa_double_checks (first_reviewer, first_decided_at);
CREATE INDEX qa_double_checks_second_reviewer_idx ON qa_double_checks (second_reviewer, second_decided_at);
GRANT SELECT, INSERT, UPDATE ON qa_double_checks TO refund_review_app;
GRANT SELECT ON qa_double_checks TO refund_review_reporting;

INSERT INTO system_config (key, value, value_type, description, allowed_values, min_value, max_value) VALUES
    ('qa_double_check_rate', '0.1', 'decimal', 'Share of decided QA samples sent back to the queue once for a second, different reviewer (who sees neither the confidence nor the first decision); their agreement is reported.', NULL, 0, 1);

-- Sending a QA item back for its double check is audited; the CHECK is rebuilt from the list in force
-- (see version 0010), so that types another version added before this one are kept.
DO $$
DECLARE
    types text[];
BEGIN
    SELECT array_agg(DISTINCT m[1] ORDER BY m[1]) INTO types
      FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') AS m
     WHERE c.conrelid = 'audit_events'::regclass AND c.conname = 'audit_events_event_type_valid';
    ALTER TABLE audit_events DROP CONSTRAINT audit_events_event_type_valid;
    EXECUTE format(
        'ALTER TABLE audit_events ADD CONSTRAINT audit_events_event_type_valid CHECK (event_type IN (%s))',
        (SELECT string_agg(quote_literal(t), ', ' ORDER BY t) FROM unnest(types || ARRAY['qa_double_check']) AS t));
END
$$;
