-- Why a task waits on a person (asked for help, a gate the agent could not fix, a conflict, an
-- approval, a parent branch whose gates fail): set with each move to needs_human, cleared with each
-- move away. Not a front-matter field: it is the factory's state, not the task's text.
ALTER TABLE tasks ADD COLUMN waiting_reason text;
