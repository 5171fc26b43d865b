-- Version 0014: Refund guard — the way of a refund request held by the database, whatever the client.
--
-- The workstation login may INSERT and UPDATE refund_requests (the services write through it), so
-- before this version anyone holding its credentials could, in plain SQL and with no audit event,
-- approve a large refund with one approval, name anyone as approver, change the amount after it was
-- decided, set exported_at back to NULL (paid twice) or a paid refund back to approved. This trigger
-- holds the rules services/refunds/requests.py follows:
--   * a request starts open (or not_payable), with no approval, payment, rejection or export;
--   * what was decided when it was opened (contract, dates, reason, inputs, rule, verdict, amount,
--     steps, deadline, requester) never changes;
--   * status moves only open -> awaiting_second_approval -> approved -> paid, open -> approved (at or
--     below refund_four_eyes_amount, as the service decides), and open/awaiting -> rejected;
--   * each stage's who/when is written once, in the move into that stage, at the transaction's time,
--     by an active supervisor or admin; above the four-eyes amount two different people approve; an
--     approval's export number is the one just drawn from refund_requests_approval_seq;
--   * exported_at goes from NULL to the transaction's time on an approved or paid refund, never back.
-- Whoever may already alter the table (its owner, or a superuser: migrations, data repair) could drop
-- the trigger anyway, so the rules bind every other role. Refusals are check_violation (23514) naming
-- the constraint refund_requests_guard, with a sentence saying what was refused.
CREATE FUNCTION refund_requests_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    threshold numeric;
    stage_changed boolean;
    drawn bigint;
BEGIN
    IF pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        RETURN NEW;
    END IF;

    IF TG_OP = 'INSERT' THEN
        IF NEW.status NOT IN ('open', 'not_payable') THEN
            RAISE EXCEPTION 'a refund request starts open (or not payable), not %', NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
        END IF;
        IF num_nonnulls(NEW.first_approved_by, NEW.first_approved_at, NEW.approved_by, NEW.approved_at,
                        NEW.approval_seq, NEW.paid_by, NEW.paid_at, NEW.payment_reference, NEW.exported_at,
                        NEW.rejected_by, NEW.rejected_at, NEW.rejection_reason) > 0
           OR NEW.version <> 1 THEN
            RAISE EXCEPTION 'a new refund request has no approval, payment, rejection or export yet'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
        END IF;
        IF NEW.requested_at <> now() THEN
            RAISE EXCEPTION 'a refund request is requested at the time it is stored'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
        END IF;
        IF NEW.requested_by IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.requested_by AND is_active) THEN
            RAISE EXCEPTION 'a refund request is requested by an active user'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
        END IF;
        RETURN NEW;
    END IF;

    IF (NEW.id, NEW.contract_id, NEW.cancel_date, NEW.reason, NEW.request_date, NEW.premium, NEW.method,
        NEW.fee, NEW.term_months, NEW.state, NEW.apr, NEW.rule_id, NEW.verdict, NEW.refund_amount,
        NEW.fee_applied, NEW.method_used, NEW.reasons, NEW.flags, NEW.steps, NEW.pay_by,
        NEW.requested_by, NEW.requested_at)
       IS DISTINCT FROM
       (OLD.id, OLD.contract_id, OLD.cancel_date, OLD.reason, OLD.request_date, OLD.premium, OLD.method,
        OLD.fee, OLD.term_months, OLD.state, OLD.apr, OLD.rule_id, OLD.verdict, OLD.refund_amount,
        OLD.fee_applied, OLD.method_used, OLD.reasons, OLD.flags, OLD.steps, OLD.pay_by,
        OLD.requested_by, OLD.requested_at) THEN
        RAISE EXCEPTION 'what was decided when a refund request was opened (amount, steps, method, fee, rule, dates, reason, contract) never changes; open a new request instead'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
    END IF;
    IF NEW.version < OLD.version THEN
        RAISE EXCEPTION 'a refund request''s version never goes back'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
    END IF;

    IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN (
           ('open', 'awaiting_second_approval'), ('open', 'approved'),
           ('awaiting_second_approval', 'approved'), ('approved', 'paid'),
           ('open', 'rejected'), ('awaiting_second_approval', 'rejected')) THEN
        RAISE EXCEPTION 'a refund request cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
    END IF;

    -- Each stage's fields are written once, in the move into that stage, now, by someone who may.
    stage_changed := (NEW.first_approved_by, NEW.first_approved_at) IS DISTINCT FROM (OLD.first_approved_by, OLD.first_approved_at);
    IF stage_changed AND NOT (OLD.status = 'open' AND NEW.status = 'awaiting_second_approval') THEN
        RAISE EXCEPTION 'the first approval is given only when an open refund request moves to awaiting second approval'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
    END IF;
    IF NEW.status = 'awaiting_second_approval' AND OLD.status = 'open' THEN
        IF NEW.first_approved_by IS NULL OR NEW.first_approved_at IS DISTINCT FROM now() THEN
            RAISE EXCEPTION 'a first approval names its approver and is given now'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
        END IF;
        PERFORM refund_requests_guard_approver(NEW.first_approved_by, 'approve');
    END IF;

    stage_changed := (NEW.approved_by, NEW.approved_at, NEW.approval_seq) IS DISTINCT FROM (OLD.approved_by, OLD.approved_at, OLD.approval_seq);
    IF stage_changed AND NOT (NEW.status = 'approved' AND OLD.status IN ('open', 'awaiting_second_approval')) THEN
        RAISE EXCEPTION 'a refund request''s approval is given only once, when it becomes approved'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
    END IF;
    IF NEW.status = 'approved' AND OLD.status <> 'approved' THEN
        IF NEW.approved_by IS NULL OR NEW.approved_at IS DISTINCT FROM now() OR NEW.approval_seq IS NULL THEN
            RAISE EXCEPTION 'an approval names its approver, is given now and takes the next export number'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
        END IF;
        -- The export cursor is the number this transaction just drew, not one chosen (an old one would
        -- put the refund behind a payment system's cursor).
        BEGIN
            drawn := currval('refund_requests_approval_seq');
        EXCEPTION WHEN object_not_in_prerequisite_state THEN
            drawn := NULL;
        END;
        IF NEW.approval_seq IS DISTINCT FROM drawn THEN
            RAISE EXCEPTION 'an approval takes the next export number, drawn from refund_requests_approval_seq for it'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
        END IF;
        PERFORM refund_requests_guard_approver(NEW.approved_by, 'approve');
        IF OLD.status = 'open' THEN
            SELECT value::numeric INTO threshold FROM system_config WHERE key = 'refund_four_eyes_amount';
            IF NEW.refund_amount > coalesce(threshold, 0) THEN
                RAISE EXCEPTION 'refunds above % need two different people to approve them; this one has no first approval',
                    coalesce(threshold, 0)
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
            END IF;
        ELSIF NEW.first_approved_by IS NULL OR NEW.first_approved_by = NEW.approved_by THEN
            RAISE EXCEPTION 'the second approval is given by someone other than the first approver'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
        END IF;
    END IF;

    stage_changed := (NEW.paid_by, NEW.paid_at, NEW.payment_reference) IS DISTINCT FROM (OLD.paid_by, OLD.paid_at, OLD.payment_reference);
    IF stage_changed AND NOT (OLD.status = 'approved' AND NEW.status = 'paid') THEN
        RAISE EXCEPTION 'a refund is marked paid only once, and only when it is approved'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
    END IF;
    IF NEW.status = 'paid' AND OLD.status = 'approved' THEN
        IF NEW.paid_by IS NULL OR NEW.paid_at IS DISTINCT FROM now() OR NEW.payment_reference IS NULL THEN
            RAISE EXCEPTION 'a payment names who recorded it, its reference, and is recorded now'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
        END IF;
        PERFORM refund_requests_guard_approver(NEW.paid_by, 'mark paid');
    END IF;

    stage_changed := (NEW.rejected_by, NEW.rejected_at, NEW.rejection_reason) IS DISTINCT FROM (OLD.rejected_by, OLD.rejected_at, OLD.rejection_reason);
    IF stage_changed AND NOT (NEW.status = 'rejected' AND OLD.status IN ('open', 'awaiting_second_approval')) THEN
        RAISE EXCEPTION 'a refund request is rejected only once, before it is approved'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
    END IF;
    IF NEW.status = 'rejected' AND OLD.status <> 'rejected' THEN
        IF NEW.rejected_by IS NULL OR NEW.rejected_at IS DISTINCT FROM now() THEN
            RAISE EXCEPTION 'a rejection names who rejected and is given now'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
        END IF;
        PERFORM refund_requests_guard_approver(NEW.rejected_by, 'reject');
    END IF;

    IF NEW.exported_at IS DISTINCT FROM OLD.exported_at
       AND (OLD.exported_at IS NOT NULL OR NEW.exported_at IS DISTINCT FROM now()
            OR NEW.status NOT IN ('approved', 'paid')) THEN
        RAISE EXCEPTION 'a refund is marked exported once, when an approved or paid refund is exported, and never unmarked'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
    END IF;
    RETURN NEW;
END
$$;

-- The person named for a decision is an active supervisor or admin (services/permissions.py: the
-- roles that may approve, reject and mark refunds paid).
CREATE FUNCTION refund_requests_guard_approver(person uuid, action text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = person AND is_active AND role IN ('supervisor', 'admin')) THEN
        RAISE EXCEPTION 'only an active supervisor or admin may % a refund request', action
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_requests_guard';
    END IF;
END
$$;

REVOKE EXECUTE ON FUNCTION refund_requests_guard() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION refund_requests_guard_approver(uuid, text) FROM PUBLIC;

CREATE TRIGGER refund_requests_guard BEFORE INSERT OR UPDATE ON refund_requests
    FOR EACH ROW EXECUTE FUNCTION refund_requests_guard();
