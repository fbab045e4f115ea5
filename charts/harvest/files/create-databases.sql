-- One database per HARVEST service (each owns its schema and Alembic version table; table names such as
-- `snapshots` exist in more than one). Run once by the PostgreSQL image on an empty data directory.
CREATE DATABASE harvest_labels;
CREATE DATABASE harvest_storage;
CREATE DATABASE harvest_scheduler;
CREATE DATABASE harvest_inference;
