"""Quality referential and periodic audits."""
