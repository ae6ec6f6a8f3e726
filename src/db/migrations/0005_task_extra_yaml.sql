-- The YAML each extra front-matter key was written in (key → `key: value` entry), so an imported
-- task file is exported byte for byte: a value like 72157688988508171 read as a number would come
-- back rounded. json, not jsonb, like `extra`: jsonb would reorder the keys.
ALTER TABLE tasks ADD COLUMN extra_yaml json NOT NULL DEFAULT '{}';
