-- Reverses version 0014.
DROP TRIGGER refund_requests_guard ON refund_requests;
DROP FUNCTION refund_requests_guard();
DROP FUNCTION refund_requests_guard_approver(uuid, text);
