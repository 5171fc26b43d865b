-- Version 0005: Least privilege: owner, application and reporting roles; audit events appended only through a checked function (reserved; filled by the change that needs it).
SELECT 1;
