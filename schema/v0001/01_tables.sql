-- Refund Review schema, version 0001: the nine tables of the seed design.
-- Applied by Alembic (db/migrations/versions/0001_initial.py); never run by hand.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Every table with an updated_at column gets this trigger, so the column is
-- right even for writes that forget it (psql sessions, bulk fixes).
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TABLE users (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    username            text        NOT NULL,
    email               text        NOT NULL,
    full_name           text        NOT NULL,
    password_hash       text        NOT NULL,
    role                text        NOT NULL,
    is_active           boolean     NOT NULL DEFAULT true,
    failed_login_count  integer     NOT NULL DEFAULT 0,
    locked_until        timestamptz,
    last_login_at       timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_username_format CHECK (username ~ '^[a-z][a-z0-9._-]{1,31}$'),
    CONSTRAINT users_email_format CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$' AND length(email) <= 254),
    CONSTRAINT users_full_name_length CHECK (length(full_name) BETWEEN 1 AND 200),
    CONSTRAINT users_password_hash_bcrypt CHECK (password_hash ~ '^\$2[aby]\$[0-9]{2}\$.{53}$'),
    CONSTRAINT users_role_valid CHECK (role IN ('reviewer', 'supervisor', 'admin')),
    CONSTRAINT users_failed_login_count_nonnegative CHECK (failed_login_count >= 0)
);

CREATE TABLE sessions (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ip_address       inet,
    user_agent       text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    ended_at         timestamptz,
    end_reason       text,
    CONSTRAINT sessions_expiry_after_start CHECK (expires_at > created_at),
    CONSTRAINT sessions_end_reason_valid CHECK (end_reason IN ('logout', 'expired', 'idle', 'revoked')),
    CONSTRAINT sessions_end_consistent CHECK ((ended_at IS NULL) = (end_reason IS NULL)),
    CONSTRAINT sessions_user_agent_length CHECK (length(user_agent) <= 500)
);

CREATE TABLE contracts (
    contract_id            text        PRIMARY KEY,
    account_number         text        NOT NULL,
    customer_name          text        NOT NULL,
    vehicle_info           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    contract_type          text        NOT NULL DEFAULT 'retail_installment',
    contract_date          date,
    s3_bucket              text,
    s3_key                 text,
    document_text          text,
    document_sha256        text,
    page_count             integer,
    text_extraction_status text        NOT NULL DEFAULT 'pending',
    text_extraction_error  text,
    -- The full-text vector is derived, so PostgreSQL keeps it: no writer can forget it.
    document_tsv           tsvector    GENERATED ALWAYS AS (to_tsvector('english'::regconfig, coalesce(document_text, ''))) STORED,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contracts_contract_id_format CHECK (contract_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    CONSTRAINT contracts_account_number_format CHECK (account_number ~ '^[A-Za-z0-9-]{1,32}$'),
    CONSTRAINT contracts_customer_name_length CHECK (length(customer_name) BETWEEN 1 AND 200),
    CONSTRAINT contracts_vehicle_info_object CHECK (jsonb_typeof(vehicle_info) = 'object'),
    CONSTRAINT contracts_contract_type_valid CHECK (contract_type IN ('retail_installment', 'lease', 'balloon', 'refinance')),
    CONSTRAINT contracts_s3_location_complete CHECK ((s3_bucket IS NULL) = (s3_key IS NULL)),
    CONSTRAINT contracts_document_sha256_format CHECK (document_sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT contracts_page_count_nonnegative CHECK (page_count >= 0),
    CONSTRAINT contracts_text_status_valid CHECK (text_extraction_status IN ('pending', 'extracted', 'empty', 'failed')),
    CONSTRAINT contracts_text_present_when_extracted CHECK (text_extraction_status <> 'extracted' OR document_text IS NOT NULL)
);

CREATE TABLE extractions (
    id                                   uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    contract_id                          text          NOT NULL REFERENCES contracts (contract_id) ON DELETE CASCADE,
    gap_insurance_premium                numeric(10,2),
    gap_insurance_premium_confidence     smallint      NOT NULL DEFAULT 0,
    gap_insurance_premium_source         jsonb,
    refund_calculation_method            text,
    refund_calculation_method_confidence smallint      NOT NULL DEFAULT 0,
    refund_calculation_method_source     jsonb,
    cancellation_fee                     numeric(10,2),
    cancellation_fee_confidence          smallint      NOT NULL DEFAULT 0,
    cancellation_fee_source              jsonb,
    -- The queue orders by the weakest field; a stored generated column lets a
    -- partial index serve that order directly.
    min_confidence                       smallint      GENERATED ALWAYS AS (LEAST(gap_insurance_premium_confidence, refund_calculation_method_confidence, cancellation_fee_confidence)) STORED,
    llm_provider                         text          NOT NULL,
    model_version                        text          NOT NULL,
    prompt_version                       text          NOT NULL,
    fallback_from                        text,
    fallback_reason                      text,
    processing_time_ms                   integer       NOT NULL DEFAULT 0,
    prompt_tokens                        integer       NOT NULL DEFAULT 0,
    completion_tokens                    integer       NOT NULL DEFAULT 0,
    cost_usd                             numeric(12,6) NOT NULL DEFAULT 0,
    status                               text          NOT NULL DEFAULT 'pending',
    claimed_by                           uuid          REFERENCES users (id) ON DELETE SET NULL,
    claimed_at                           timestamptz,
    claim_expires_at                     timestamptz,
    reviewed_by                          uuid          REFERENCES users (id) ON DELETE RESTRICT,
    reviewed_at                          timestamptz,
    review_seconds                       integer,
    rejection_reason                     text,
    version                              integer       NOT NULL DEFAULT 1,
    extracted_at                         timestamptz   NOT NULL DEFAULT now(),
    created_at                           timestamptz   NOT NULL DEFAULT now(),
    updated_at                           timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT extractions_contract_id_key UNIQUE (contract_id),
    CONSTRAINT extractions_premium_nonnegative CHECK (gap_insurance_premium >= 0),
    CONSTRAINT extractions_fee_nonnegative CHECK (cancellation_fee >= 0),
    CONSTRAINT extractions_premium_confidence_range CHECK (gap_insurance_premium_confidence BETWEEN 0 AND 100),
    CONSTRAINT extractions_method_confidence_range CHECK (refund_calculation_method_confidence BETWEEN 0 AND 100),
    CONSTRAINT extractions_fee_confidence_range CHECK (cancellation_fee_confidence BETWEEN 0 AND 100),
    CONSTRAINT extractions_method_valid CHECK (refund_calculation_method IN ('Pro-Rata', 'Rule of 78s', 'Actuarial', 'Short-Rate', 'Unknown')),
    CONSTRAINT extractions_premium_source_object CHECK (jsonb_typeof(gap_insurance_premium_source) = 'object'),
    CONSTRAINT extractions_method_source_object CHECK (jsonb_typeof(refund_calculation_method_source) = 'object'),
    CONSTRAINT extractions_fee_source_object CHECK (jsonb_typeof(cancellation_fee_source) = 'object'),
    CONSTRAINT extractions_provider_valid CHECK (llm_provider IN ('rules', 'anthropic', 'bedrock', 'openai')),
    CONSTRAINT extractions_fallback_provider_valid CHECK (fallback_from IN ('anthropic', 'bedrock', 'openai')),
    CONSTRAINT extractions_fallback_consistent CHECK ((fallback_from IS NULL) = (fallback_reason IS NULL)),
    CONSTRAINT extractions_processing_time_nonnegative CHECK (processing_time_ms >= 0),
    CONSTRAINT extractions_tokens_nonnegative CHECK (prompt_tokens >= 0 AND completion_tokens >= 0),
    CONSTRAINT extractions_cost_nonnegative CHECK (cost_usd >= 0),
    CONSTRAINT extractions_status_valid CHECK (status IN ('pending', 'approved', 'rejected')),
    CONSTRAINT extractions_claim_consistent CHECK ((claimed_by IS NULL) = (claim_expires_at IS NULL) AND (claimed_by IS NULL) = (claimed_at IS NULL)),
    CONSTRAINT extractions_review_consistent CHECK ((status = 'pending') = (reviewed_by IS NULL) AND (reviewed_by IS NULL) = (reviewed_at IS NULL)),
    CONSTRAINT extractions_rejection_reason CHECK ((status = 'rejected') = (rejection_reason IS NOT NULL)),
    CONSTRAINT extractions_review_seconds_nonnegative CHECK (review_seconds >= 0),
    CONSTRAINT extractions_version_positive CHECK (version >= 1)
);

CREATE TABLE corrections (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    extraction_id   uuid        NOT NULL REFERENCES extractions (id) ON DELETE CASCADE,
    field_name      text        NOT NULL,
    original_value  text,
    corrected_value text,
    reason_code     text        NOT NULL,
    reason_note     text,
    corrected_by    uuid        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    corrected_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT corrections_field_name_valid CHECK (field_name IN ('gap_insurance_premium', 'refund_calculation_method', 'cancellation_fee')),
    CONSTRAINT corrections_value_changed CHECK (original_value IS DISTINCT FROM corrected_value),
    CONSTRAINT corrections_reason_code_valid CHECK (reason_code IN ('misread_value', 'wrong_source', 'missing_value', 'not_in_contract', 'method_misclassified', 'document_quality', 'other')),
    CONSTRAINT corrections_reason_note_length CHECK (length(reason_note) <= 2000)
);

CREATE TABLE system_config (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    key            text        NOT NULL,
    value          text        NOT NULL,
    value_type     text        NOT NULL,
    description    text        NOT NULL,
    allowed_values text[],
    min_value      numeric,
    max_value      numeric,
    is_secret      boolean     NOT NULL DEFAULT false,
    updated_by     uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT system_config_key_key UNIQUE (key),
    CONSTRAINT system_config_key_format CHECK (key ~ '^[a-z][a-z0-9_]{1,63}$'),
    CONSTRAINT system_config_value_type_valid CHECK (value_type IN ('integer', 'decimal', 'boolean', 'string', 'json')),
    -- The stored text must parse as its declared type, whoever writes it.
    CONSTRAINT system_config_value_matches_type CHECK (
        (value_type <> 'integer' OR value ~ '^-?[0-9]{1,18}$')
        AND (value_type <> 'decimal' OR value ~ '^-?[0-9]{1,18}(\.[0-9]{1,6})?$')
        AND (value_type <> 'boolean' OR value IN ('true', 'false'))
        AND (value_type <> 'json' OR (value::jsonb IS NOT NULL))
    ),
    CONSTRAINT system_config_value_allowed CHECK (allowed_values IS NULL OR value = ANY (allowed_values)),
    CONSTRAINT system_config_bounds_numeric CHECK ((min_value IS NULL AND max_value IS NULL) OR value_type IN ('integer', 'decimal'))
);

CREATE TABLE chat_messages (
    id                uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    contract_id       text          NOT NULL REFERENCES contracts (contract_id) ON DELETE CASCADE,
    user_id           uuid          NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    session_id        uuid          REFERENCES sessions (id) ON DELETE SET NULL,
    role              text          NOT NULL,
    content           text          NOT NULL,
    citations         jsonb,
    llm_provider      text,
    model_version     text,
    prompt_tokens     integer       NOT NULL DEFAULT 0,
    completion_tokens integer       NOT NULL DEFAULT 0,
    cost_usd          numeric(12,6) NOT NULL DEFAULT 0,
    created_at        timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT chat_messages_role_valid CHECK (role IN ('user', 'assistant')),
    CONSTRAINT chat_messages_content_length CHECK (length(content) BETWEEN 1 AND 100000),
    CONSTRAINT chat_messages_citations_array CHECK (jsonb_typeof(citations) = 'array'),
    CONSTRAINT chat_messages_provider_valid CHECK (llm_provider IN ('rules', 'anthropic', 'bedrock', 'openai')),
    CONSTRAINT chat_messages_assistant_has_provider CHECK (role <> 'assistant' OR llm_provider IS NOT NULL),
    CONSTRAINT chat_messages_tokens_nonnegative CHECK (prompt_tokens >= 0 AND completion_tokens >= 0),
    CONSTRAINT chat_messages_cost_nonnegative CHECK (cost_usd >= 0)
);

CREATE TABLE extraction_metrics (
    id                    uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    metric_date           date          NOT NULL,
    llm_provider          text          NOT NULL,
    model_version         text          NOT NULL,
    extractions_count     integer       NOT NULL DEFAULT 0,
    pending_count         integer       NOT NULL DEFAULT 0,
    approved_count        integer       NOT NULL DEFAULT 0,
    rejected_count        integer       NOT NULL DEFAULT 0,
    corrected_count       integer       NOT NULL DEFAULT 0,
    below_threshold_count integer       NOT NULL DEFAULT 0,
    fallback_count        integer       NOT NULL DEFAULT 0,
    avg_min_confidence    numeric(5,2),
    avg_processing_ms     numeric(12,2),
    prompt_tokens         bigint        NOT NULL DEFAULT 0,
    completion_tokens     bigint        NOT NULL DEFAULT 0,
    cost_usd              numeric(14,6) NOT NULL DEFAULT 0,
    created_at            timestamptz   NOT NULL DEFAULT now(),
    updated_at            timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT extraction_metrics_day_provider_model_key UNIQUE (metric_date, llm_provider, model_version),
    CONSTRAINT extraction_metrics_provider_valid CHECK (llm_provider IN ('rules', 'anthropic', 'bedrock', 'openai')),
    CONSTRAINT extraction_metrics_counts_nonnegative CHECK (
        extractions_count >= 0 AND pending_count >= 0 AND approved_count >= 0 AND rejected_count >= 0
        AND corrected_count >= 0 AND below_threshold_count >= 0 AND fallback_count >= 0),
    CONSTRAINT extraction_metrics_counts_consistent CHECK (pending_count + approved_count + rejected_count = extractions_count),
    CONSTRAINT extraction_metrics_tokens_nonnegative CHECK (prompt_tokens >= 0 AND completion_tokens >= 0),
    CONSTRAINT extraction_metrics_cost_nonnegative CHECK (cost_usd >= 0)
);

CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER contracts_set_updated_at BEFORE UPDATE ON contracts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER extractions_set_updated_at BEFORE UPDATE ON extractions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER system_config_set_updated_at BEFORE UPDATE ON system_config
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER extraction_metrics_set_updated_at BEFORE UPDATE ON extraction_metrics
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
