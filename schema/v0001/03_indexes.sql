-- Indexes, each named for the query it serves (see schema/README.md).

-- sessions
CREATE INDEX sessions_user_id_idx ON sessions (user_id);                       -- FK; a user's sessions
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);                 -- cleanup_expired_sessions()

-- users
CREATE INDEX users_active_role_idx ON users (role) WHERE is_active;            -- reviewer lists on dashboards

-- contracts: search by id / account prefix (text_pattern_ops serves LIKE 'x%'
-- whatever the database collation), VIN, customer, document words.
CREATE INDEX contracts_contract_id_prefix_idx ON contracts (contract_id text_pattern_ops);
CREATE INDEX contracts_account_number_prefix_idx ON contracts (account_number text_pattern_ops);
CREATE INDEX contracts_vin_idx ON contracts ((upper(vehicle_info ->> 'vin')) text_pattern_ops);
CREATE INDEX contracts_vehicle_info_idx ON contracts USING gin (vehicle_info jsonb_path_ops);
CREATE INDEX contracts_customer_name_trgm_idx ON contracts USING gin (customer_name gin_trgm_ops);
CREATE INDEX contracts_document_tsv_idx ON contracts USING gin (document_tsv);
CREATE INDEX contracts_type_date_idx ON contracts (contract_type, contract_date);
CREATE INDEX contracts_contract_date_idx ON contracts (contract_date);

-- extractions: the review queue is the hot path. Pending only, lowest field
-- confidence first, then oldest; id breaks ties for keyset pagination.
CREATE INDEX extractions_queue_idx ON extractions (min_confidence, extracted_at, id) WHERE status = 'pending';
CREATE INDEX extractions_claimed_by_idx ON extractions (claimed_by) WHERE claimed_by IS NOT NULL;   -- FK; "my claims"
CREATE INDEX extractions_reviewed_by_idx ON extractions (reviewed_by, reviewed_at);               -- FK; per-reviewer activity
CREATE INDEX extractions_status_reviewed_at_idx ON extractions (status, reviewed_at);             -- approvals in a period
CREATE INDEX extractions_extracted_at_idx ON extractions (extracted_at);                          -- daily statistics
CREATE INDEX extractions_updated_at_idx ON extractions (updated_at);                              -- incremental metrics refresh
CREATE INDEX extractions_provider_model_idx ON extractions (llm_provider, model_version, extracted_at); -- cost by provider and model

-- corrections
CREATE INDEX corrections_extraction_id_idx ON corrections (extraction_id, corrected_at);  -- FK; history of one extraction
CREATE INDEX corrections_corrected_by_idx ON corrections (corrected_by, corrected_at);    -- FK; per-reviewer activity
CREATE INDEX corrections_field_name_idx ON corrections (field_name, corrected_at);        -- accuracy per field

-- system_config
CREATE INDEX system_config_updated_by_idx ON system_config (updated_by);                  -- FK

-- chat_messages
CREATE INDEX chat_messages_contract_id_idx ON chat_messages (contract_id, created_at);    -- FK; conversation of a contract
CREATE INDEX chat_messages_user_id_idx ON chat_messages (user_id, created_at);            -- FK
CREATE INDEX chat_messages_session_id_idx ON chat_messages (session_id);                  -- FK

-- extraction_metrics
CREATE INDEX extraction_metrics_provider_idx ON extraction_metrics (llm_provider, model_version, metric_date);

-- audit_events (created on the parent, so every partition gets them)
CREATE INDEX audit_events_seq_idx ON audit_events (seq);                                   -- chain walk; keyset pages
CREATE INDEX audit_events_contract_idx ON audit_events (contract_id, seq) WHERE contract_id IS NOT NULL; -- history of a contract
CREATE INDEX audit_events_user_idx ON audit_events (user_id, occurred_at);                 -- FK; a user's activity
CREATE INDEX audit_events_type_idx ON audit_events (event_type, occurred_at);              -- by type and period
CREATE INDEX audit_events_session_idx ON audit_events (session_id) WHERE session_id IS NOT NULL; -- what a session did
CREATE INDEX audit_events_occurred_at_idx ON audit_events USING brin (occurred_at);        -- period scans, append-only
CREATE INDEX audit_events_event_data_idx ON audit_events USING gin (event_data jsonb_path_ops);
