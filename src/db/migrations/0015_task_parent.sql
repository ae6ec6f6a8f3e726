-- A task may be part of a parent task: its branch starts from the parent's branch and merges into
-- it, and the parent's branch merges into the default branch once its sub-tasks are in. No foreign
-- key, as with depends_on: a task import writes parents and children in one transaction, in any
-- order; the service checks the parent exists, is in the same repo, and closes no cycle.
ALTER TABLE tasks ADD COLUMN parent text;
CREATE INDEX tasks_parent ON tasks (parent) WHERE parent IS NOT NULL;

-- `parent` meant nothing before and was kept as an extra front-matter key: where it names a task
-- of the same repo it becomes the field, and leaves extra and extra_yaml (rebuilt in their order,
-- as json keeps it).
UPDATE tasks t SET
  parent = t.extra->>'parent',
  extra = coalesce((SELECT json_object_agg(e.key, e.value ORDER BY e.n) FROM json_each(t.extra) WITH ORDINALITY AS e(key, value, n) WHERE e.key <> 'parent'), '{}'::json),
  extra_yaml = coalesce((SELECT json_object_agg(e.key, e.value ORDER BY e.n) FROM json_each(t.extra_yaml) WITH ORDINALITY AS e(key, value, n) WHERE e.key <> 'parent'), '{}'::json)
WHERE json_typeof(t.extra->'parent') = 'string'
  AND t.extra->>'parent' <> t.id
  AND EXISTS (SELECT 1 FROM tasks p WHERE p.id = t.extra->>'parent' AND p.repo = t.repo);

-- Any other `parent` key (another repo's task, no task, not an id) would now read as the field and
-- be refused, or be dropped when the task is written: it is kept, renamed, for a person to sort out.
UPDATE tasks t SET
  extra = (SELECT json_object_agg(CASE WHEN e.key = 'parent' THEN 'unresolved_parent' ELSE e.key END, e.value ORDER BY e.n) FROM json_each(t.extra) WITH ORDINALITY AS e(key, value, n)),
  extra_yaml = coalesce((SELECT json_object_agg(e.key, e.value ORDER BY e.n) FROM json_each(t.extra_yaml) WITH ORDINALITY AS e(key, value, n) WHERE e.key <> 'parent'), '{}'::json)
WHERE t.parent IS NULL AND json_typeof(t.extra->'parent') IS NOT NULL;
