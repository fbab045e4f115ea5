"""The labels service: the system of record for users, projects, items and annotations."""
