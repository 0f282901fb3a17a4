-- Several bodies per block, not only the last: a checkout switched to a branch made before the
-- last regenerate holds a block generated from an earlier body, which adopt must still find.
-- The newest few per file are kept (written-blocks.ts).
ALTER TABLE instruction_blocks DROP CONSTRAINT instruction_blocks_pkey;
ALTER TABLE instruction_blocks ADD PRIMARY KEY (project, file, hash);
