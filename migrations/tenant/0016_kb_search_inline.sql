-- KB search ranks every matching article (ts_rank over `search`) before it cuts the page.
-- A weighted vector of an ordinary article (title + body) is 1–2 kB and barely compresses,
-- so Postgres moved it out of line into the TOAST table: ranking 1,250 matches then cost
-- 1,250 TOAST index lookups and chunk reads. With storage MAIN the vector stays in the row
-- (the body, only needed for the 20 highlighted snippets, is what moves out of line instead);
-- a vector too large for a page still goes to TOAST as before.
ALTER TABLE kb_articles ALTER COLUMN search SET STORAGE MAIN;
-- Storage applies to values written from now on: write the existing vectors again
-- (`|| ''` makes a new value, so it is stored by the new rule; content and rank unchanged).
UPDATE kb_articles SET search = search || ''::tsvector;

-- Articles are written rarely and searched all the time: without the GIN "fast update"
-- pending list, a search never has to scan unmerged entries linearly (the list is only
-- merged by VACUUM or when it outgrows gin_pending_list_limit).
ALTER INDEX kb_articles_search SET (fastupdate = off);
SELECT gin_clean_pending_list('kb_articles_search'::regclass);
