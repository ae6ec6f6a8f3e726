-- The strategy a `cook branch merge --auto --strategy=…` was asked with, kept until the merge
-- happens, across restarts; NULL: cook.toml's strategy at the time of the merge.
ALTER TABLE branches ADD COLUMN auto_merge_strategy text CHECK (auto_merge_strategy IN ('auto', 'ff-only', 'merge', 'squash'));
