-- How a closed task ended: `done` (its work landed, or a human says it is done) or `wontfix` (it
-- will not be done). Only `done` meets a dependency, so a task that depends on a wontfix one stays
-- blocked until a human decides. Every task closed before this was closed as done: by a merge or
-- by `cook task close`, both of which meant "finished".
ALTER TABLE tasks ADD COLUMN resolution text CHECK (resolution IN ('done', 'wontfix'));
UPDATE tasks SET resolution = 'done' WHERE status = 'closed';
-- Set exactly when closed. Status and resolution change in the same UPDATE, and a CHECK is
-- evaluated on the row as that statement leaves it, so the order of the assignments cannot trip it.
ALTER TABLE tasks ADD CONSTRAINT tasks_resolution_when_closed CHECK ((status = 'closed') = (resolution IS NOT NULL));
