-- Insert, index, update and delete: a heap workload from a program nobody here wrote.
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, val REAL, blob BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO t SELECT i, printf('name-%06d', i), i * 1.5, zeroblob(i % 200) FROM n;
CREATE INDEX t_name ON t(name);
CREATE INDEX t_val ON t(val);
UPDATE t SET name = name || '-x' WHERE id % 3 = 0;
DELETE FROM t WHERE id % 2 = 0;
SELECT count(*), sum(length(name)), sum(length(blob)) FROM t;
SELECT name FROM t ORDER BY val DESC LIMIT 3;
